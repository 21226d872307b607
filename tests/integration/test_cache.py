"""Core semantics on Engine A, each test through the sync and the async path."""

from __future__ import annotations

import asyncio
import time

import pytest
import valkey
from langchain_core.messages import AIMessage
from langchain_core.outputs import ChatGeneration, Generation

from langchain_valkey_semcache import (
    ConfigurationError,
    IndexMismatchError,
    InvalidInputError,
    ValkeySemanticCache,
)
from langchain_valkey_semcache import _protocol as proto
from langchain_valkey_semcache.engine import LocalEngine
from tests.conftest import Api
from tests.faults import Clock, calls_between, command_calls
from tests.support import TableEmbeddings, at_similarity

Q = "What is semantic caching?"


def make(
    engine: LocalEngine, index_name: str, emb: TableEmbeddings, **kw: object
) -> ValkeySemanticCache:
    return ValkeySemanticCache(emb, url=engine.url, index_name=index_name, **kw)  # type: ignore[arg-type]


async def test_exact_repeat_needs_no_embedding(
    engine: LocalEngine, index_name: str, mode: str
) -> None:
    emb = TableEmbeddings()
    api = Api(make(engine, index_name, emb), mode)
    assert (await api.search(Q)).hit is None
    assert emb.calls == [Q]
    await api.store(Q, "answer")
    assert emb.calls == [Q], "the update reuses the vector of the missed lookup"
    result = await api.search("  What is   semantic caching? ")
    assert result.hit is not None and result.hit.exact
    assert result.hit.answer == "answer" and result.hit.similarity == 1.0
    assert result.timings.embedding_ms == 0.0
    assert emb.calls == [Q], "an exact repeat never calls the embedding model"


async def test_threshold_is_cosine_similarity(
    engine: LocalEngine, index_name: str, mode: str
) -> None:
    emb = TableEmbeddings({
        "stored": at_similarity(1.0),
        "close": at_similarity(0.95),
        "seed-0.8": at_similarity(0.6),  # the seed's 1 - d/2 calls this 0.8
        "below": at_similarity(0.89),
    })  # fmt: skip
    api = Api(make(engine, index_name, emb, similarity_threshold=0.9), mode)
    await api.store("stored", "A")
    close = await api.search("close")
    assert close.hit is not None and close.hit.answer == "A" and not close.hit.exact
    assert close.hit.similarity == pytest.approx(0.95, abs=1e-4)
    assert close.hit.matched_prompt == "stored"
    assert (await api.search("below")).hit is None
    seed = await api.search("seed-0.8", similarity_threshold=0.8)
    assert seed.hit is None and seed.best_similarity == pytest.approx(0.6, abs=1e-4)
    assert (await api.search("below", similarity_threshold=0.85)).hit is not None


async def test_partition_filter_runs_inside_knn(
    engine: LocalEngine, index_name: str, mode: str
) -> None:
    """A closer entry of another model must not hide this model's valid hit."""
    emb = TableEmbeddings({"q": at_similarity(1.0), "a-model": at_similarity(0.999),
                           "b-model": at_similarity(0.95)})  # fmt: skip
    api = Api(make(engine, index_name, emb, candidates=1), mode)
    for i in range(20):  # many nearer entries of model A
        emb.table[f"a{i}"] = at_similarity(0.999 - i * 1e-5)
        await api.store(f"a{i}", f"from A {i}", llm_string="model-A")
    await api.store("b-model", "from B", llm_string="model-B")
    hit = (await api.search("q", llm_string="model-B")).hit
    assert hit is not None and hit.answer == "from B"


async def test_same_prompt_two_models_two_entries(
    engine: LocalEngine, index_name: str, mode: str
) -> None:
    emb = TableEmbeddings()
    api = Api(make(engine, index_name, emb), mode)
    await api.store(Q, "haiku answer", llm_string="haiku|temp=0")
    assert (await api.search(Q, llm_string="sonnet|temp=0")).hit is None
    assert (await api.search(Q, llm_string="haiku|temp=0.7")).hit is None
    await api.store(Q, "sonnet answer", llm_string="sonnet|temp=0")
    assert (await api.check(Q, llm_string="haiku|temp=0")).answer == "haiku answer"
    assert (await api.check(Q, llm_string="sonnet|temp=0")).answer == "sonnet answer"


async def test_context_partitions_answers(engine: LocalEngine, index_name: str, mode: str) -> None:
    emb = TableEmbeddings()
    api = Api(make(engine, index_name, emb), mode)
    await api.store(Q, "pirate answer", context="system: talk like a pirate")
    assert (await api.search(Q, context="system: be formal")).hit is None
    assert (await api.search(Q)).hit is None
    assert (await api.check(Q, context="system: talk like a pirate")).answer == "pirate answer"


async def test_chat_generations_round_trip(engine: LocalEngine, index_name: str, mode: str) -> None:
    emb = TableEmbeddings()
    api = Api(make(engine, index_name, emb), mode)
    message = AIMessage(
        content="",
        tool_calls=[{"name": "weather", "args": {"city": "Paris"}, "id": "call-1"}],
        usage_metadata={"input_tokens": 3, "output_tokens": 4, "total_tokens": 7},
    )
    generations = [ChatGeneration(message=message, generation_info={"stop": "tool_use"})]
    await api.store(Q, generations)
    hit = await api.check(Q)
    assert hit.generations == generations
    assert hit.message.tool_calls[0]["args"] == {"city": "Paris"}


async def test_ttl_per_cache_and_per_entry(engine: LocalEngine, index_name: str, mode: str) -> None:
    emb = TableEmbeddings({"short": at_similarity(1.0), "near-short": at_similarity(0.99)})
    cache = make(engine, index_name, emb, ttl_seconds=3600)
    api = Api(cache, mode)
    long_key = await api.store("long", "kept")
    short_key = await api.store("short", "gone soon", ttl_seconds=1)
    raw = valkey.Valkey.from_url(engine.url)
    assert 3500 < raw.ttl(long_key) <= 3600
    assert 0 < raw.pttl(short_key) <= 1000  # -1 would be an entry that never leaves
    expires_at = float(raw.hget(short_key, proto.EXPIRES))  # type: ignore[arg-type]
    assert time.time() < expires_at <= time.time() + 1
    raw.persist(short_key)  # an EXPIRE lost: the entry's own expiry time still holds
    assert (await api.check("near-short")) is not None
    await asyncio.sleep(1.6)
    assert (await api.check("short")) is None
    assert (await api.check("near-short")) is None
    assert (await api.check("long")).answer == "kept"


async def test_a_lookup_reports_what_happened(
    engine: LocalEngine, index_name: str, mode: str
) -> None:
    table = {
        "query": at_similarity(1.0),
        "first": at_similarity(0.99),
        "second": at_similarity(0.97),
    }
    emb = TableEmbeddings(table)
    cache = make(engine, index_name, emb, verifier=lambda q, c, s: False, similarity_threshold=0.9)
    api = Api(cache, mode)
    first = await api.store("first", "1")
    await api.store("second", "2")
    miss = await api.search("query")  # both candidates above the threshold, both turned down
    assert (miss.hit, miss.candidates, miss.rejected, miss.threshold) == (None, 2, 2, 0.9)
    assert miss.best_similarity == pytest.approx(0.99, abs=1e-3)
    assert cache.stats().rejected == 2
    t = miss.timings
    assert t.total_ms >= t.embedding_ms + t.search_ms and t.search_ms > 0 and t.verify_ms > 0
    skipped = await api.search("   ")
    assert skipped.skipped and skipped.threshold == 0.9 and skipped.timings.total_ms >= 0

    served = Api(make(engine, index_name, emb, verifier=None, similarity_threshold=0.9), mode)
    hit = (await served.search("query")).hit
    assert hit is not None and hit.exact is False
    assert (hit.key, hit.matched_prompt, hit.answer) == (first, "first", "1")
    assert hit.timings.total_ms >= hit.timings.search_ms > 0
    repeat = await served.search("first")
    assert repeat.hit is not None and repeat.hit.exact is True
    assert (repeat.hit.key, repeat.hit.matched_prompt, repeat.hit.similarity) == (
        first,
        "first",
        1.0,
    )
    assert (repeat.best_similarity, repeat.threshold) == (1.0, 0.9)
    assert repeat.timings.total_ms >= repeat.timings.search_ms > 0


async def test_a_per_call_threshold_is_checked(
    engine: LocalEngine, index_name: str, mode: str
) -> None:
    emb = TableEmbeddings({"stored": at_similarity(1.0), "near": at_similarity(0.9)})
    api = Api(make(engine, index_name, emb), mode)
    await api.store("stored", "x")
    edges = {1.0: False, 0.0: True}  # both ends are valid: 1.0 serves only identical vectors
    for threshold, served in edges.items():
        result = await api.search("near", similarity_threshold=threshold)
        assert (result.hit is not None, result.threshold, result.error) == (served, threshold, None)
    for bad in (1.0001, -0.1, True):
        result = await api.search("near", similarity_threshold=bad)
        assert result.hit is None and result.error == "ConfigurationError"


async def test_a_bad_per_entry_ttl_is_refused(
    engine: LocalEngine, index_name: str, mode: str
) -> None:
    # 0 must not mean "forever" (PERSIST), nor a bool or a float a number of seconds: nothing
    # is stored, the error is counted (fail-open: the caller's call goes on).
    cache = make(engine, index_name, TableEmbeddings(), ttl_seconds=3600)
    api = Api(cache, mode)
    bad_values = (0, -5, True, 1.5)
    for bad in bad_values:
        assert await api.store("a question", "an answer", ttl_seconds=bad) is None
        assert await api.store_many([("another", "an answer")], ttl_seconds=bad) == [None]
    assert cache.stats().by_error == {"ConfigurationError": 2 * len(bad_values)}
    assert not list(valkey.Valkey.from_url(engine.url).scan_iter(f"{index_name}:*"))
    strict = Api(make(engine, index_name, TableEmbeddings(), on_error="raise"), mode)
    with pytest.raises(ConfigurationError, match="ttl_seconds must be a positive int"):
        await strict.store("a question", "an answer", ttl_seconds=0)


async def test_namespaces_isolate_and_clear(
    engine: LocalEngine, index_name: str, mode: str
) -> None:
    emb = TableEmbeddings()
    weird = 'ac}me|*@\\"x y\n\u00e9\u4e2d'
    api = Api(make(engine, index_name, emb, namespace=weird), mode)
    await api.store(Q, "weird tenant")
    await api.store(Q, "other tenant", namespace="other")
    assert (await api.check(Q)).answer == "weird tenant"
    assert (await api.check(Q, namespace="other")).answer == "other tenant"
    assert (await api.check(Q, namespace="third")) is None
    await api.clear()
    assert (await api.check(Q)) is None
    assert (await api.check(Q, namespace="other")).answer == "other tenant"
    await api.clear(all_namespaces=True)
    assert (await api.check(Q, namespace="other")) is None


async def test_clear_keeps_index_and_other_caches(
    engine: LocalEngine, index_name: str, mode: str
) -> None:
    emb = TableEmbeddings()
    api = Api(make(engine, index_name, emb), mode)
    neighbour = make(engine, index_name + "_n", emb)
    neighbour.store(Q, "neighbour")
    for i in range(30):
        await api.store(f"question {i}", f"answer {i}")
    await api.clear(all_namespaces=True)
    raw = valkey.Valkey.from_url(engine.url)
    assert index_name.encode() in raw.execute_command("FT._LIST")
    assert proto.parse_info(raw.execute_command(*proto.info_index(index_name))).num_docs == 0
    assert neighbour.check(Q).answer == "neighbour"
    await api.store(Q, "again")
    assert (await api.check(Q)).answer == "again"


async def test_no_embedding_call_in_init_and_idempotent_create(
    engine: LocalEngine, index_name: str, mode: str
) -> None:
    emb = TableEmbeddings()
    first = make(engine, index_name, emb)
    second = make(engine, index_name, emb, dims=8)
    assert emb.calls == []
    await Api(first, mode).store(Q, "one")
    assert (await Api(second, mode).check(Q)).answer == "one"


async def test_index_mismatch_is_explained(engine: LocalEngine, index_name: str, mode: str) -> None:
    make(engine, index_name, TableEmbeddings(dims=8), dims=8)
    with pytest.raises(IndexMismatchError, match=r"DIM 8.*drop_index"):
        make(engine, index_name, TableEmbeddings(dims=16), dims=16)
    raising = Api(make(engine, index_name, TableEmbeddings(dims=16), on_error="raise"), mode)
    with pytest.raises(IndexMismatchError):
        await raising.search(Q)
    failing_open = make(engine, index_name, TableEmbeddings(dims=16))
    assert (await Api(failing_open, mode).search(Q)).hit is None
    assert failing_open.stats().by_error == {"IndexMismatchError": 1}


async def test_index_dropped_underneath_is_recreated(
    engine: LocalEngine, index_name: str, mode: str
) -> None:
    emb = TableEmbeddings({"second": at_similarity(1.0), "second again": at_similarity(0.97)})
    cache = make(engine, index_name, emb)
    api = Api(cache, mode)
    await api.store("first", "1")
    raw = valkey.Valkey.from_url(engine.url)
    raw.execute_command("FT.DROPINDEX", index_name)
    assert (await api.search("something else")).hit is None
    assert index_name.encode() in raw.execute_command("FT._LIST")
    await api.store("second", "2")
    hit = await api.check("second again")  # a vector search: needs the re-created index
    assert hit is not None and not hit.exact and hit.answer == "2"
    assert cache.stats().errors == cache.stats().store_errors == 0


async def test_stats_count_everything(engine: LocalEngine, index_name: str, mode: str) -> None:
    emb = TableEmbeddings({"a": at_similarity(1.0), "a too": at_similarity(0.97)})
    cache = make(engine, index_name, emb)
    api = Api(cache, mode)
    await api.search("a")
    await api.store("a", "x")
    await api.search("a")
    await api.search("a too")
    await api.search("   ")
    s = cache.stats()
    assert (s.lookups, s.hits, s.exact_hits, s.misses, s.skipped, s.stores, s.errors) == (
        4,
        2,
        1,
        1,  # the empty prompt was skipped, not missed
        1,
        1,
        0,
    )


async def test_drop_index_removes_entries(engine: LocalEngine, index_name: str, mode: str) -> None:
    cache = make(engine, index_name, TableEmbeddings())
    api = Api(cache, mode)
    await api.store(Q, "x")
    assert await api.drop_index() == 1
    raw = valkey.Valkey.from_url(engine.url)
    assert index_name.encode() not in raw.execute_command("FT._LIST")
    assert (await api.search(Q)).hit is None


def test_sync_path_works_inside_a_running_loop(engine: LocalEngine, index_name: str) -> None:
    cache = make(engine, index_name, TableEmbeddings())

    async def inside() -> str | None:
        cache.store(Q, "from a loop")
        hit = cache.check(Q)
        return hit.answer if hit else None

    assert asyncio.run(inside()) == "from a loop"


def test_generations_list_plain(engine: LocalEngine, index_name: str) -> None:
    cache = make(engine, index_name, TableEmbeddings())
    gens = [Generation(text="a", generation_info={"k": 1}), Generation(text="b")]
    cache.update(Q, "llm", gens)
    assert cache.lookup(Q, "llm") == gens
    started = time.perf_counter()
    assert cache.lookup(Q, "other-llm") is None
    assert time.perf_counter() - started < 5


async def test_forget_one_entry(engine: LocalEngine, index_name: str, mode: str) -> None:
    emb = TableEmbeddings({"stored": at_similarity(1.0), "asked": at_similarity(0.97)})
    api = Api(make(engine, index_name, emb), mode)
    await api.store("kept", "other answer")
    await api.store("stored", "a wrong answer")
    hit = (await api.search("asked")).hit
    assert hit is not None and hit.answer == "a wrong answer"
    assert await api.forget(hit.key) is True
    assert (await api.search("asked")).hit is None
    assert (await api.search("stored")).hit is None  # the exact path is gone too
    assert (await api.search("kept")).hit is not None
    assert await api.forget(hit.key) is False
    with pytest.raises(InvalidInputError):
        await api.forget("user:42")


async def test_round_trips_per_semantic_lookup(
    engine: LocalEngine, index_name: str, mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the README says a lookup costs: HMGET + FT.SEARCH when the partition holds at
    least ``candidates`` entries; on RediSearch one more FT.SEARCH (the engine's own plan)
    when it holds fewer; one FT.INFO when nothing is found, at most every interval."""
    clock = Clock()
    emb = TableEmbeddings()
    cache = make(engine, index_name, emb)
    cache._core.clock = clock
    api = Api(cache, mode)
    raw = valkey.Valkey.from_url(engine.url)

    async def commands(text: str, **kw: str) -> dict[str, int]:
        before = command_calls(raw)
        await api.search(text, **kw)
        return calls_between(before, command_calls(raw))

    await api.store_many([(f"question {i}", "a") for i in range(cache.config.candidates)])
    redisearch = (
        cache._core.index.engine.hybrid_policy
    )  # learned with the index: the clause is in use
    assert await commands("a paraphrase") == {"hmget": 1, "ft.search": 1}
    await api.store("lonely", "a", llm_string="small partition")
    small = await commands("a paraphrase", llm_string="small partition")
    assert small == {"hmget": 1, "ft.search": 2 if redisearch else 1}
    clock.offset += cache.config.index_check_interval_seconds
    empty = await commands("a paraphrase", llm_string="empty partition")
    assert empty == {"hmget": 1, "ft.search": 2 if redisearch else 1, "ft.info": 1}
    assert await commands("a paraphrase", llm_string="empty partition") == {
        "hmget": 1, "ft.search": 2 if redisearch else 1
    }  # fmt: skip
    assert await commands("question 1") == {"hmget": 1}  # exact repeat
