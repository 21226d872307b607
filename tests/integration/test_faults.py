"""Faults on real engine processes that the tests start, pause, kill and restart."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Iterator

import pytest
import valkey

from langchain_valkey_semcache import IndexMismatchError, ValkeySemanticCache
from langchain_valkey_semcache import _protocol as proto
from langchain_valkey_semcache.engine import LocalEngine
from tests.conftest import Api
from tests.support import BrokenEmbeddings, TableEmbeddings, at_similarity

Q = "What is semantic caching?"
TIMEOUT = 0.3


@pytest.fixture
def own_engine() -> Iterator[LocalEngine]:
    """An engine of this test's own, free to be killed or paused."""
    engine = LocalEngine().start()
    yield engine
    engine.stop()


def _cache(url: str, emb: TableEmbeddings | None = None, **kw: object) -> ValkeySemanticCache:
    return ValkeySemanticCache(
        emb or TableEmbeddings(), url=url, socket_timeout_seconds=TIMEOUT,
        retry_after_seconds=0.5, **kw,  # type: ignore[arg-type]
    )  # fmt: skip


async def test_engine_killed_and_restarted(own_engine: LocalEngine, mode: str) -> None:
    cache = _cache(own_engine.url)
    api = Api(cache, mode)
    await api.store(Q, "before the crash")
    assert (await api.check(Q)).answer == "before the crash"
    assert own_engine.process is not None
    own_engine.process.kill()
    own_engine.process.wait()
    worst = 0.0
    for _ in range(20):
        started = time.perf_counter()
        assert (await api.search(Q)).hit is None
        await api.store("during", "x")
        worst = max(worst, time.perf_counter() - started)
    assert worst < 2 * TIMEOUT + 1.0, f"a call took {worst:.2f}s with the engine down"
    assert cache.stats().by_error.get("CacheUnavailableError", 0) >= 1
    restarted = LocalEngine(port=own_engine.port).start()  # no persistence: empty, no index
    try:
        time.sleep(0.6)  # the back-off window
        assert (await api.search(Q)).hit is None
        await api.store(Q, "after the restart")
        assert (await api.check(Q)).answer == "after the restart"
    finally:
        restarted.stop()


async def test_paused_engine_adds_at_most_the_timeout(own_engine: LocalEngine, mode: str) -> None:
    cache = _cache(own_engine.url)
    api = Api(cache, mode)
    await api.store(Q, "x")
    admin = valkey.Valkey.from_url(own_engine.url)
    admin.execute_command("CLIENT", "PAUSE", "3000", "ALL")
    try:
        started = time.perf_counter()
        result = await api.search(Q)
        elapsed = time.perf_counter() - started
        assert result.hit is None and result.error == "CacheUnavailableError"
        assert elapsed < TIMEOUT + 1.0  # the pause lasts 3 s
        started = time.perf_counter()
        assert (await api.search(Q)).skipped  # backing off: no wait at all
        assert time.perf_counter() - started < 0.2
    finally:
        admin.execute_command("CLIENT", "UNPAUSE")
    assert cache.stats().errors == 1 and cache.stats().skipped == 1


async def test_embedding_errors_logged_once_per_burst(
    engine: LocalEngine, index_name: str, mode: str, caplog: pytest.LogCaptureFixture
) -> None:
    secret_prompt = "my card number is 4111 1111 1111 1111"
    failing = BrokenEmbeddings(RuntimeError(f"ThrottlingException for input {secret_prompt}"))
    cache = ValkeySemanticCache(failing, url=engine.url, index_name=index_name)
    api = Api(cache, mode)
    with caplog.at_level(logging.WARNING, logger="langchain_valkey_semcache"):
        for _ in range(50):
            assert (await api.search(secret_prompt)).hit is None
    records = [r for r in caplog.records if r.name == "langchain_valkey_semcache"]
    assert len(records) == 1 and "EmbeddingError (RuntimeError)" in records[0].getMessage()
    assert "4111" not in caplog.text
    assert cache.stats().by_error == {"EmbeddingError": 50}


async def test_index_recreated_with_another_dim_underneath(
    engine: LocalEngine, index_name: str, mode: str
) -> None:
    cache = ValkeySemanticCache(TableEmbeddings(), url=engine.url, index_name=index_name,
                                on_error="raise", index_check_interval_seconds=0)  # fmt: skip
    api = Api(cache, mode)
    await api.store(Q, "x")
    raw = valkey.Valkey.from_url(engine.url)
    raw.execute_command(*proto.drop_index(index_name))
    raw.execute_command(
        *proto.create_index(proto.IndexSpec(index_name, f"{index_name}:", 16, 16, 200))
    )
    with pytest.raises(IndexMismatchError, match="DIM 16"):
        await api.search("another question")
    with pytest.raises(IndexMismatchError):  # stays explained, no crash loop
        await api.search("another question")


async def test_incomplete_or_corrupt_entries_are_never_served(
    engine: LocalEngine, index_name: str, mode: str
) -> None:
    emb = TableEmbeddings(
        {"good": at_similarity(0.97), "bad": at_similarity(1.0), "q": at_similarity(0.99)}
    )
    cache = ValkeySemanticCache(emb, url=engine.url, index_name=index_name)
    api = Api(cache, mode)
    key = await api.store("bad", "will be damaged")
    raw = valkey.Valkey.from_url(engine.url)
    raw.hdel(key, proto.ANSWER)
    assert (await api.search("q")).hit is None  # nearest entry lacks its answer: a miss
    raw.hset(key, proto.ANSWER, '[{"lc": 1, "type": "constructor", "id": ["os", "system"]}]')
    assert (await api.search("q")).hit is None  # not a generation: refused
    assert (await api.search("bad")).hit is None
    assert cache.stats().by_error.get("ProtocolError", 0) >= 2


def test_threads_and_tasks_at_once_with_a_kill(own_engine: LocalEngine) -> None:
    """Threads and an event loop hammer the cache while the engine dies: no exception escapes."""
    cache = _cache(own_engine.url)
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            for i in range(150):
                cache.store(f"q{n}-{i % 7}", f"a{n}")
                hit = cache.check(f"q{n}-{i % 7}")
                assert hit is None or hit.answer == f"a{n}"
        except BaseException as exc:  # collected for the assertion below
            errors.append(exc)

    async def tasks() -> None:
        async def one(n: int) -> None:
            for i in range(100):
                await cache.astore(f"t{n}-{i % 5}", f"b{n}")
                hit = await cache.acheck(f"t{n}-{i % 5}")
                assert hit is None or hit.answer == f"b{n}"

        await asyncio.gather(*(one(n) for n in range(16)))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    loop_thread = threading.Thread(target=lambda: asyncio.run(tasks()))
    for t in [*threads, loop_thread]:
        t.start()
    time.sleep(0.3)
    assert own_engine.process is not None
    own_engine.process.kill()
    for t in [*threads, loop_thread]:
        t.join(timeout=120)
    assert not errors
    stats = cache.stats()
    assert stats.lookups == stats.hits + stats.misses
