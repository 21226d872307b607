"""LangChain integration: the standard cache suites and real chat-model calls."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from langchain_core.globals import set_llm_cache
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage
from langchain_core.outputs import Generation
from langchain_tests.integration_tests import AsyncCacheTestSuite, SyncCacheTestSuite

from langchain_valkey_semcache import ValkeySemanticCache
from langchain_valkey_semcache.engine import LocalEngine
from tests.support import TableEmbeddings


def _fresh(engine: LocalEngine) -> ValkeySemanticCache:
    return ValkeySemanticCache(
        TableEmbeddings(), url=engine.url, index_name=f"std_{uuid.uuid4().hex[:10]}",
        on_error="raise",
    )  # fmt: skip


class TestSyncStandard(SyncCacheTestSuite):
    @pytest.fixture
    def cache(self, engine: LocalEngine) -> ValkeySemanticCache:
        return _fresh(engine)


class TestAsyncStandard(AsyncCacheTestSuite):
    @pytest.fixture
    async def cache(self, engine: LocalEngine) -> ValkeySemanticCache:
        return _fresh(engine)


@pytest.fixture
def chat_cache(
    engine: LocalEngine, index_name: str
) -> Iterator[tuple[ValkeySemanticCache, TableEmbeddings]]:
    emb = TableEmbeddings()
    cache = ValkeySemanticCache(emb, url=engine.url, index_name=index_name, on_error="raise")
    set_llm_cache(cache)
    yield cache, emb
    set_llm_cache(None)


def _model(*answers: str) -> GenericFakeChatModel:
    return GenericFakeChatModel(messages=iter([AIMessage(content=a) for a in answers]))


def test_chat_model_hit_skips_the_model(
    chat_cache: tuple[ValkeySemanticCache, TableEmbeddings],
) -> None:
    cache, emb = chat_cache
    model = _model("first answer", "second answer")
    prompt = [SystemMessage("Be brief."), HumanMessage("What is semantic caching?")]
    assert model.invoke(prompt).content == "first answer"
    assert model.invoke(prompt).content == "first answer"
    assert emb.calls == ["What is semantic caching?"], "only the human text is embedded, once"
    assert cache.stats().exact_hits == 1


def test_chat_model_system_prompt_and_history_partition(
    chat_cache: tuple[ValkeySemanticCache, TableEmbeddings],
) -> None:
    model = _model("brief", "pirate", "with history")
    question = HumanMessage("What is semantic caching?")
    assert model.invoke([SystemMessage("Be brief."), question]).content == "brief"
    assert model.invoke([SystemMessage("Talk like a pirate."), question]).content == "pirate"
    history = [HumanMessage("Hi"), AIMessage("Hello!"), question]
    assert model.invoke(history).content == "with history"
    assert model.invoke([SystemMessage("Talk like a pirate."), question]).content == "pirate"


async def test_chat_model_async_round_trip(
    chat_cache: tuple[ValkeySemanticCache, TableEmbeddings],
) -> None:
    cache, emb = chat_cache
    model = _model("async answer", "never")
    assert (await model.ainvoke("What is semantic caching?")).content == "async answer"
    assert (await model.ainvoke("What is semantic caching?")).content == "async answer"
    assert cache.stats().hits == 1 and emb.calls == ["What is semantic caching?"]


def test_custom_prompt_splitter(engine: LocalEngine, index_name: str) -> None:
    from langchain_valkey_semcache import PromptParts

    emb = TableEmbeddings()
    cache = ValkeySemanticCache(
        emb, url=engine.url, index_name=index_name,
        prompt_splitter=lambda p: PromptParts(text=p.split("||")[1], context=p.split("||")[0]),
    )  # fmt: skip
    cache.update("ctxA||question", "llm", [Generation(text="A")])
    assert cache.lookup("ctxA||question", "llm") == [Generation(text="A")]
    assert cache.lookup("ctxB||question", "llm") is None
    assert emb.calls == ["question"]
