"""LangGraph nodes: a semantic-cache lookup before an agent and a write after it.

LangGraph's own node cache hashes node input, so it only matches exactly. Here the lookup
node embeds the latest human message and, on a hit, appends the cached AI message and
routes to END; on a miss the agent runs and the write node stores its final answer.
``with_semantic_cache(agent, cache)`` wires both around an agent in one line.

Per invocation, ``config["configurable"]`` may carry ``cache_namespace`` (tenant) and
``cache_min_similarity`` (threshold).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Sequence
from typing import Annotated, Any, Literal, NamedTuple

from langchain_core.messages import AIMessage, AnyMessage, BaseMessage, HumanMessage
from langchain_core.runnables import Runnable, RunnableConfig, RunnableLambda
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages
from typing_extensions import TypedDict

from ._entry import CacheLookup
from ._prompt import split_messages
from .cache import ValkeySemanticCache
from .names import TIMING_CACHE_SEARCH, TIMING_EMBEDDING, TIMING_VECTOR_SEARCH, TIMING_VERIFICATION

# The configurable key LangGraph sets while a run resumes after an interrupt. LangGraph
# exports no public name for it; tests/unit/test_graph_names.py pins it to LangGraph's own.
RESUMING_KEY = "__pregel_resuming"


class _Question(NamedTuple):
    text: str
    context: str
    position: int  # of the human message in the state's messages


class _Answer(NamedTuple):
    text: str
    context: str
    message: AIMessage


Scope = Literal["conversation", "question"]
"""What keys a cached answer: see ``SemanticCacheNodes``' ``scope``."""


def _merge(left: dict[str, float] | None, right: dict[str, float] | None) -> dict[str, float]:
    return {**(left or {}), **(right or {})}


class SemanticCacheState(TypedDict, total=False):
    """Graph state: the messages plus what the cache decided."""

    messages: Annotated[list[AnyMessage], add_messages]
    """The conversation; a hit appends the cached AI message (``response_metadata``
    ``semantic_cache``: similarity, matched prompt, exact)."""
    cache_hit: bool
    """Whether the last lookup served the answer."""
    similarity: float | None
    """The hit's cosine similarity, or on a miss the nearest candidate's (None: none)."""
    cache_timings: Annotated[dict[str, float], _merge]
    """Milliseconds per step: ``cache_search`` (the lookup node), ``embedding``,
    ``vector_search``, ``verification``, ``agent_invocation``, ``cache_store``."""
    cache_resumed: bool
    """Whether the agent ran resumed after an interrupt (its answer is then not stored)."""


def _ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000.0, 3)


def _configurable(config: RunnableConfig | None) -> dict[str, Any]:
    return dict((config or {}).get("configurable") or {})


class SemanticCacheNodes:
    """The lookup and write nodes and the router, sharing one cache and partition.

    :param cache: the cache the nodes search and store in.
    :param llm_string: names the model and prompt version the answers depend on: a
        partition of the cache (``SearchOptions.llm_string``).
    :param scope: ``"conversation"`` (default) keys answers on the question *and* the
        earlier turns, so a follow-up is never answered from another conversation;
        ``"question"`` keys on the latest human message alone (single-shot assistants).
    :param should_cache: called with the agent's final ``AIMessage``; False keeps it out of
        the cache (e.g. time-sensitive answers). None: every final text answer is stored
        (never one with tool calls, an empty one, or one after a resumed interrupt).
    """

    def __init__(
        self,
        cache: ValkeySemanticCache,
        *,
        llm_string: str = "",
        scope: Scope = "conversation",
        should_cache: Callable[[AIMessage], bool] | None = None,
    ) -> None:
        if scope not in ("conversation", "question"):
            raise ValueError(f"scope must be 'conversation' or 'question', got {scope!r}")
        self.cache = cache
        self.llm_string = llm_string
        self.scope = scope
        self.should_cache = should_cache

    # -- what is asked and what would be stored ------------------------------------------

    def _question(self, messages: Sequence[BaseMessage]) -> _Question | None:
        """The latest question: its text, context and the index of its human message."""
        for i in range(len(messages) - 1, -1, -1):
            if isinstance(messages[i], HumanMessage):
                parts = split_messages([_plain(m) for m in messages[: i + 1]])
                context = parts.context if self.scope == "conversation" else ""
                return _Question(parts.text, context, i)
        return None

    def _store_kwargs(self, config: RunnableConfig | None) -> dict[str, Any]:
        return {
            "llm_string": self.llm_string,
            "namespace": _configurable(config).get("cache_namespace"),
        }

    def _lookup_kwargs(self, config: RunnableConfig | None) -> dict[str, Any]:
        threshold = _configurable(config).get("cache_min_similarity")
        return {**self._store_kwargs(config), "similarity_threshold": threshold}

    def _miss(self, similarity: float | None, timings: dict[str, float]) -> dict[str, Any]:
        return {
            "cache_hit": False,
            "similarity": similarity,
            "cache_timings": timings,
            "cache_resumed": False,
        }

    def _lookup_update(self, result: CacheLookup, start: float) -> dict[str, Any]:
        t = result.timings
        timings = {
            TIMING_CACHE_SEARCH: _ms(start),
            TIMING_EMBEDDING: t.embedding_ms,
            TIMING_VECTOR_SEARCH: t.search_ms,
            TIMING_VERIFICATION: t.verify_ms,
        }
        if result.hit is None:
            return self._miss(result.best_similarity, timings)
        message = result.hit.message.model_copy(
            update={
                "id": str(uuid.uuid4()),
                "response_metadata": {
                    **result.hit.message.response_metadata,
                    "semantic_cache": {
                        "similarity": result.hit.similarity,
                        "matched_prompt": result.hit.matched_prompt,
                        "exact": result.hit.exact,
                    },
                },
            }
        )
        return {
            "messages": [message],
            "cache_hit": True,
            "similarity": result.hit.similarity,
            "cache_timings": timings,
            "cache_resumed": False,
        }

    def _answer(self, state: SemanticCacheState, config: RunnableConfig | None) -> _Answer | None:
        """The question and final AI message to store, or None when nothing may be stored."""
        if (
            state.get("cache_hit")
            or state.get("cache_resumed")
            or _configurable(config).get(RESUMING_KEY)
        ):
            return None  # served from the cache, or a run resumed after an interrupt
        messages = list(state.get("messages") or [])
        asked = self._question(messages)
        if asked is None or not messages:
            return None
        final = messages[-1]
        if (
            not isinstance(final, AIMessage)
            or final.tool_calls
            or final.invalid_tool_calls
            or not final.text.strip()
            or messages.index(final) <= asked.position
            or (self.should_cache is not None and not self.should_cache(final))
        ):
            return None
        stored = final.model_copy(update={"id": None})
        return _Answer(asked.text, asked.context, stored)

    # -- the nodes -------------------------------------------------------------------------

    def lookup(self, state: SemanticCacheState, config: RunnableConfig) -> dict[str, Any]:
        """The lookup node: on a hit, the state update appends the cached AI message.

        :param state: the graph state; its latest human message is the question.
        :param config: the run's config; ``configurable`` may carry ``cache_namespace`` and
            ``cache_min_similarity``.
        """
        start = time.perf_counter()
        asked = self._question(list(state.get("messages") or []))
        if asked is None:
            return self._miss(None, {TIMING_CACHE_SEARCH: _ms(start)})
        result = self.cache.search(asked.text, context=asked.context, **self._lookup_kwargs(config))
        return self._lookup_update(result, start)

    async def alookup(self, state: SemanticCacheState, config: RunnableConfig) -> dict[str, Any]:
        """Async ``lookup``."""
        start = time.perf_counter()
        asked = self._question(list(state.get("messages") or []))
        if asked is None:
            return self._miss(None, {TIMING_CACHE_SEARCH: _ms(start)})
        kwargs = self._lookup_kwargs(config)
        result = await self.cache.asearch(asked.text, context=asked.context, **kwargs)
        return self._lookup_update(result, start)

    def write(self, state: SemanticCacheState, config: RunnableConfig) -> dict[str, Any]:
        """The write node: store the agent's final answer unless it came from the cache, a
        resumed run or ``should_cache`` said no; parameters as for ``lookup``."""
        start = time.perf_counter()
        answer = self._answer(state, config)
        if answer is not None:
            kwargs = self._store_kwargs(config)
            self.cache.store(answer.text, answer.message, context=answer.context, **kwargs)
        return {"cache_timings": {"cache_store": _ms(start)}}

    async def awrite(self, state: SemanticCacheState, config: RunnableConfig) -> dict[str, Any]:
        """Async ``write``."""
        start = time.perf_counter()
        answer = self._answer(state, config)
        if answer is not None:
            kwargs = self._store_kwargs(config)
            await self.cache.astore(answer.text, answer.message, context=answer.context, **kwargs)
        return {"cache_timings": {"cache_store": _ms(start)}}

    @staticmethod
    def route(state: SemanticCacheState) -> str:
        """END after a hit, else the agent."""
        return END if state.get("cache_hit") else "agent"

    def lookup_node(self) -> Runnable[Any, Any]:
        """``lookup`` and ``alookup`` as one runnable named ``cache_lookup``."""
        return RunnableLambda(self.lookup, afunc=self.alookup, name="cache_lookup")

    def write_node(self) -> Runnable[Any, Any]:
        """``write`` and ``awrite`` as one runnable named ``cache_write``."""
        return RunnableLambda(self.write, afunc=self.awrite, name="cache_write")


def _plain(message: BaseMessage) -> BaseMessage:
    """The message without what differs between runs of one conversation (ids, metadata)."""
    update: dict[str, Any] = {"id": None, "response_metadata": {}, "additional_kwargs": {}}
    if isinstance(message, AIMessage):
        update["usage_metadata"] = None
    return message.model_copy(update=update)


def _timed(agent: Runnable[Any, Any]) -> Runnable[Any, Any]:
    """Run the agent, record its wall time as ``agent_invocation`` and whether it resumed."""

    def finish(out: Any, start: float, config: RunnableConfig) -> dict[str, Any]:
        update = dict(out or {})
        update["cache_timings"] = {
            **update.get("cache_timings", {}),
            "agent_invocation": _ms(start),
        }
        if _configurable(config).get(RESUMING_KEY):  # its answer depends on a human reply
            update["cache_resumed"] = True
        return update

    def run(state: SemanticCacheState, config: RunnableConfig) -> dict[str, Any]:
        start = time.perf_counter()
        return finish(agent.invoke(state, config), start, config)

    async def arun(state: SemanticCacheState, config: RunnableConfig) -> dict[str, Any]:
        start = time.perf_counter()
        return finish(await agent.ainvoke(state, config), start, config)

    return RunnableLambda(run, afunc=arun, name="agent")


def with_semantic_cache(
    agent: Runnable[Any, Any] | Callable[..., Any],
    cache: ValkeySemanticCache,
    *,
    llm_string: str = "",
    scope: Scope = "conversation",
    state_schema: type[Any] = SemanticCacheState,
    should_cache: Callable[[AIMessage], bool] | None = None,
    **compile_kwargs: Any,
) -> Any:
    """Wrap ``agent`` (a node function or a compiled graph) with the semantic cache.

    START -> cache_lookup -(hit)-> END, -(miss)-> agent -> cache_write -> END; returns the
    compiled graph.

    :param agent: a node function or a runnable (e.g. a compiled graph) taking the state.
    :param cache: the cache to search and store in.
    :param llm_string: as for ``SemanticCacheNodes``: pass one naming the model and prompt
        version the answers depend on.
    :param scope: ``"conversation"`` (default) or ``"question"``; see ``SemanticCacheNodes``.
    :param state_schema: the graph's state type (default ``SemanticCacheState``); a
        subclass of it adds your own keys.
    :param should_cache: a filter of the answers to store; see ``SemanticCacheNodes``.
    :param compile_kwargs: go to ``StateGraph.compile`` (e.g. ``checkpointer``).
    """
    nodes = SemanticCacheNodes(cache, llm_string=llm_string, scope=scope, should_cache=should_cache)
    runnable = agent if isinstance(agent, Runnable) else RunnableLambda(agent)
    builder = StateGraph(state_schema)
    builder.add_node("cache_lookup", nodes.lookup_node())
    builder.add_node("agent", _timed(runnable))
    builder.add_node("cache_write", nodes.write_node())
    builder.add_edge(START, "cache_lookup")
    builder.add_conditional_edges("cache_lookup", nodes.route, {END: END, "agent": "agent"})
    builder.add_edge("agent", "cache_write")
    builder.add_edge("cache_write", END)
    return builder.compile(**compile_kwargs)


__all__ = ["SemanticCacheNodes", "SemanticCacheState", "with_semantic_cache"]
