"""Bulk warm-up and the verifier hook, through both paths."""

from __future__ import annotations

import pytest
import valkey

from langchain_valkey_semcache import ValkeySemanticCache
from langchain_valkey_semcache.engine import LocalEngine
from langchain_valkey_semcache.verification import FunctionVerifier
from tests.conftest import Api
from tests.support import TableEmbeddings, at_similarity


class CountingBatchEmbeddings(TableEmbeddings):
    def __init__(self) -> None:
        super().__init__()
        self.batches: list[list[str]] = []

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.batches.append(list(texts))
        return [self.vector(t) for t in texts]


async def test_store_many_embeds_once_and_writes_all(
    engine: LocalEngine, index_name: str, mode: str
) -> None:
    emb = CountingBatchEmbeddings()
    cache = ValkeySemanticCache(emb, url=engine.url, index_name=index_name, ttl_seconds=600)
    api = Api(cache, mode)
    items = [(f"question {i}", f"answer {i}") for i in range(2500)]
    items.insert(1250, ("  ", "skipped"))  # one unstorable item in the middle, not the end
    keys = await api.store_many(items)
    assert len(keys) == 2501 and keys[1250] is None and all(keys[:1250] + keys[1251:])
    assert len(emb.batches) == 1 and len(emb.batches[0]) == 2500 and emb.calls == []
    assert (await api.check("question 1234")).answer == "answer 1234"
    assert cache.stats().stores == 2500


async def test_store_many_honours_namespace_context_and_ttl(
    engine: LocalEngine, index_name: str, mode: str
) -> None:
    cache = ValkeySemanticCache(TableEmbeddings(), url=engine.url, index_name=index_name)
    api = Api(cache, mode)
    [key] = await api.store_many([("q", "a")], namespace="t", context="sys", ttl_seconds=60)
    assert key is not None
    assert (await api.check("q", namespace="t", context="sys")).answer == "a"
    assert (await api.check("q", context="sys")) is None  # another namespace
    assert (await api.check("q", namespace="t")) is None  # another context
    assert 0 < valkey.Valkey.from_url(engine.url).pttl(key) <= 60_000


async def test_store_many_reuses_memo_and_fails_open(
    engine: LocalEngine, index_name: str, mode: str
) -> None:
    emb = CountingBatchEmbeddings()
    api = Api(ValkeySemanticCache(emb, url=engine.url, index_name=index_name), mode)
    await api.search("known")
    await api.store_many([("known", "k"), ("new", "n")])
    assert emb.batches == [["new"]]
    assert await api.store_many([("bad answer", [])]) == [None]


@pytest.mark.parametrize("verdict", [True, False])
async def test_verifier_sees_candidates_above_threshold(
    engine: LocalEngine, index_name: str, mode: str, verdict: bool
) -> None:
    emb = TableEmbeddings(
        {"stored": at_similarity(1.0), "asked": at_similarity(0.95), "far": at_similarity(0.5)}
    )
    seen: list[tuple[str, str, float]] = []

    def judge(query: str, cached: str, similarity: float) -> bool:
        seen.append((query, cached, round(similarity, 3)))
        return verdict

    cache = ValkeySemanticCache(emb, url=engine.url, index_name=index_name, verifier=judge)
    api = Api(cache, mode)
    await api.store("stored", "A")
    result = await api.search("asked")
    assert (result.hit is not None) is verdict
    assert result.best_similarity == pytest.approx(0.95, abs=1e-3)
    assert (await api.search("far")).hit is None
    assert (await api.search("stored")).hit is not None  # exact repeats skip the verifier
    assert seen == [("asked", "stored", 0.95)]
    assert cache.stats().rejected == (0 if verdict else 1)


async def test_failing_verifier_rejects(engine: LocalEngine, index_name: str, mode: str) -> None:
    emb = TableEmbeddings({"stored": at_similarity(1.0), "asked": at_similarity(0.97)})

    async def boom(query: str, cached: str, similarity: float) -> bool:
        raise RuntimeError("judge down")

    verifier = FunctionVerifier(lambda q, c, s: 1 / 0 > 0, boom)
    cache = ValkeySemanticCache(emb, url=engine.url, index_name=index_name, verifier=verifier)
    api = Api(cache, mode)
    await api.store("stored", "A")
    assert (await api.search("asked")).hit is None
    assert cache.stats().rejected == 1 and cache.stats().errors == 0
