"""The LangGraph cache nodes around real graphs, with LangChain's fake chat models."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langchain_core.tools import tool
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import START, MessagesState, StateGraph
from langgraph.types import Command, interrupt

from langchain_valkey_semcache import ValkeySemanticCache
from langchain_valkey_semcache.engine import LocalEngine
from langchain_valkey_semcache.graph import with_semantic_cache
from tests.support import TableEmbeddings, at_similarity

Q = "What is semantic caching?"


class Counting:
    """A chat-model agent node that counts its calls."""

    def __init__(self, *answers: AIMessage) -> None:
        self.model = GenericFakeChatModel(messages=iter(answers))
        self.calls = 0

    def node(self, state: MessagesState) -> dict[str, Any]:
        self.calls += 1
        return {"messages": [self.model.invoke(state["messages"])]}


async def run(graph: Any, mode: str, inputs: Any, config: dict[str, Any] | None = None) -> Any:
    if mode == "sync":
        return graph.invoke(inputs, config)
    return await graph.ainvoke(inputs, config)


@pytest.fixture
def emb() -> TableEmbeddings:
    table = {
        Q: at_similarity(1.0),
        "What does semantic caching mean?": at_similarity(0.97),
        "Is semantic caching hard?": at_similarity(0.8),
    }
    return TableEmbeddings(table)


@pytest.fixture
def cache(engine: LocalEngine, index_name: str, emb: TableEmbeddings) -> ValkeySemanticCache:
    return ValkeySemanticCache(emb, url=engine.url, index_name=index_name, on_error="raise")


async def test_hit_short_circuits_the_agent(cache: ValkeySemanticCache, mode: str) -> None:
    agent = Counting(AIMessage("Reusing answers by meaning."), AIMessage("never"))
    graph = with_semantic_cache(agent.node, cache, llm_string="fake-model")
    first = await run(graph, mode, {"messages": [HumanMessage(Q)]})
    assert first["cache_hit"] is False and agent.calls == 1
    assert set(first["cache_timings"]) >= {"cache_search", "agent_invocation", "cache_store"}
    second = await run(
        graph, mode, {"messages": [HumanMessage("What does semantic caching mean?")]}
    )
    assert agent.calls == 1 and second["cache_hit"] is True
    assert second["similarity"] == pytest.approx(0.97, abs=1e-3)
    reply = second["messages"][-1]
    assert reply.content == "Reusing answers by meaning."
    assert reply.response_metadata["semantic_cache"]["matched_prompt"] == Q
    third = await run(graph, mode, {"messages": [HumanMessage("Is semantic caching hard?")]})
    assert third["cache_hit"] is False and agent.calls == 2


async def test_tenant_and_threshold_from_config(cache: ValkeySemanticCache, mode: str) -> None:
    agent = Counting(*[AIMessage(f"answer {i}") for i in range(5)])
    graph = with_semantic_cache(agent.node, cache)
    acme = {"configurable": {"cache_namespace": "acme"}}
    await run(graph, mode, {"messages": [HumanMessage(Q)]}, acme)
    other = await run(
        graph, mode, {"messages": [HumanMessage(Q)]}, {"configurable": {"cache_namespace": "b"}}
    )
    assert other["cache_hit"] is False
    strict = {"configurable": {"cache_namespace": "acme", "cache_min_similarity": 0.99}}
    para = {"messages": [HumanMessage("What does semantic caching mean?")]}
    assert (await run(graph, mode, para, strict))["cache_hit"] is False
    assert (await run(graph, mode, para, acme))["cache_hit"] is True
    assert agent.calls == 3


async def test_empty_and_tool_steps_are_not_cached(cache: ValkeySemanticCache, mode: str) -> None:
    agent = Counting(
        AIMessage(""), AIMessage("", tool_calls=[{"name": "t", "args": {}, "id": "1"}])
    )
    graph = with_semantic_cache(agent.node, cache)
    await run(graph, mode, {"messages": [HumanMessage(Q)]})
    await run(graph, mode, {"messages": [HumanMessage(Q)]})
    assert agent.calls == 2 and cache.stats().stores == 0


@tool
def weather(city: str) -> str:
    """The weather in a city."""
    return f"sunny in {city}"


async def test_tool_agent_caches_only_the_final_answer(
    cache: ValkeySemanticCache, mode: str
) -> None:
    from langgraph.prebuilt import ToolNode, tools_condition

    model = GenericFakeChatModel(messages=iter([
        AIMessage("", tool_calls=[{"name": "weather", "args": {"city": "Paris"}, "id": "c1"}]),
        AIMessage("It is sunny in Paris."),
    ]))  # fmt: skip
    calls: list[int] = []

    def call_model(state: MessagesState) -> dict[str, Any]:
        calls.append(1)
        return {"messages": [model.invoke(state["messages"])]}

    inner = StateGraph(MessagesState)
    inner.add_node("model", call_model)
    inner.add_node("tools", ToolNode([weather]))
    inner.add_edge(START, "model")
    inner.add_conditional_edges("model", tools_condition)
    inner.add_edge("tools", "model")
    graph = with_semantic_cache(inner.compile(), cache, llm_string="react")
    question = "What is the weather in Paris?"
    out = await run(graph, mode, {"messages": [HumanMessage(question)]})
    assert isinstance(out["messages"][-2], ToolMessage) and len(calls) == 2
    hit = cache.check(question, llm_string="react")
    assert hit is not None and hit.answer == "It is sunny in Paris." and not hit.message.tool_calls
    again = await run(graph, mode, {"messages": [HumanMessage(question)]})
    assert again["cache_hit"] is True and len(calls) == 2
    assert again["messages"][-1].content == "It is sunny in Paris."


async def test_agent_error_is_not_cached(cache: ValkeySemanticCache, mode: str) -> None:
    def failing(state: MessagesState) -> dict[str, Any]:
        raise RuntimeError("model down")

    graph = with_semantic_cache(failing, cache)
    with pytest.raises(RuntimeError):
        await run(graph, mode, {"messages": [HumanMessage(Q)]})
    assert cache.stats().stores == 0


async def test_interrupted_run_is_not_cached(cache: ValkeySemanticCache, mode: str) -> None:
    def approve(state: MessagesState) -> dict[str, Any]:
        decision = interrupt("approve?")
        return {"messages": [AIMessage(f"decided: {decision}")]}

    graph = with_semantic_cache(approve, cache, checkpointer=InMemorySaver())
    config = {"configurable": {"thread_id": f"t-{mode}"}}
    await run(graph, mode, {"messages": [HumanMessage(Q)]}, config)
    done = await run(graph, mode, Command(resume="yes"), config)
    assert done["messages"][-1].content == "decided: yes"
    assert cache.stats().stores == 0


async def test_conversation_scope_keys_on_history(cache: ValkeySemanticCache, mode: str) -> None:
    agent = Counting(*[AIMessage(f"a{i}") for i in range(6)])
    graph = with_semantic_cache(agent.node, cache, checkpointer=InMemorySaver())
    one, two = ({"configurable": {"thread_id": f"{n}-{mode}"}} for n in ("one", "two"))
    await run(graph, mode, {"messages": [HumanMessage("Tell me about Python")]}, one)
    await run(graph, mode, {"messages": [HumanMessage("Tell me about Rust")]}, two)
    follow = {"messages": [HumanMessage("And its history?")]}
    assert (await run(graph, mode, follow, one))["messages"][-1].content == "a2"
    assert (await run(graph, mode, follow, two))["cache_hit"] is False
    three = {"configurable": {"thread_id": f"three-{mode}"}}
    await run(graph, mode, {"messages": [HumanMessage("Tell me about Python")]}, three)
    repeat = await run(graph, mode, follow, three)
    assert repeat["cache_hit"] is True and repeat["messages"][-1].content == "a2"
