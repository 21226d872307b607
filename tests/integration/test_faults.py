"""Faults on real engine processes that the tests start, pause, kill and restart."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator

import pytest
import valkey

from langchain_valkey_semcache import CacheHit, IndexMismatchError, ValkeySemanticCache
from langchain_valkey_semcache import _protocol as proto
from langchain_valkey_semcache.engine import LocalEngine
from tests.conftest import Api
from tests.faults import Clock, blackholed, calls_between, command_calls, stopped
from tests.support import BrokenEmbeddings, TableEmbeddings, at_similarity

Q = "What is semantic caching?"
PARA = "What does semantic caching mean?"
TIMEOUT = 0.3
SLACK = 0.2  # scheduling on a loaded 2-core machine, on top of a timeout


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
    emb = TableEmbeddings({Q: at_similarity(1.0), PARA: at_similarity(0.97)})
    cache = _cache(own_engine.url, emb)
    api = Api(cache, mode)
    await api.store(Q, "before the crash")
    assert (await api.check(PARA)).answer == "before the crash"
    assert own_engine.process is not None
    own_engine.process.kill()
    own_engine.process.wait()
    worst = 0.0
    for _ in range(20):
        started = time.perf_counter()
        assert (await api.search(PARA)).hit is None
        await api.store("during", "x")
        worst = max(worst, time.perf_counter() - started)
    assert worst < 2 * TIMEOUT, f"a call took {worst:.2f}s with the engine down"
    assert cache.stats().by_error.get("CacheUnavailableError", 0) >= 1
    restarted = LocalEngine(port=own_engine.port).start()  # no persistence: empty, no index
    try:
        time.sleep(0.6)  # the back-off window
        assert (await api.search(PARA)).hit is None
        await api.store(Q, "after the restart")
        raw = valkey.Valkey.from_url(restarted.url)
        assert cache.config.index_name.encode() in raw.execute_command("FT._LIST")
        hit = await api.check(PARA)  # a vector search on the re-created index
        assert hit is not None and not hit.exact and hit.answer == "after the restart"
    finally:
        restarted.stop()


async def test_paused_engine_adds_at_most_the_timeout(own_engine: LocalEngine, mode: str) -> None:
    cache = _cache(own_engine.url)
    api = Api(cache, mode)
    await api.store(Q, "x")
    with stopped(own_engine):
        started = time.perf_counter()
        result = await api.search(Q)
        elapsed = time.perf_counter() - started
        assert result.hit is None and result.error == "CacheUnavailableError"
        assert TIMEOUT <= elapsed < TIMEOUT + SLACK, elapsed
        started = time.perf_counter()
        assert (await api.search(Q)).skipped  # backing off: no wait at all
        assert time.perf_counter() - started < 0.05
    assert cache.stats().errors == 1 and cache.stats().skipped == 1


@pytest.fixture
def backlog_engine() -> Iterator[LocalEngine]:
    """An engine with a tiny accept queue, so that a stopped one can be black-holed."""
    with LocalEngine(args=("--tcp-backlog", "2")) as engine:
        yield engine


def test_shipped_defaults_on_a_stopped_then_blackholed_engine(
    backlog_engine: LocalEngine,
) -> None:
    """The defaults (0.5 s timeout, 5 s back-off) against a SIGSTOPped engine: a read times
    out, the cache is skipped for 5 s, then a new connect to a port that answers no SYN
    times out too. Each call is a miss within 2x the timeout."""
    emb = TableEmbeddings({Q: at_similarity(1.0), PARA: at_similarity(0.97)})
    cache = ValkeySemanticCache(emb, url=backlog_engine.url)
    timeout, back_off = cache.config.socket_timeout_seconds, cache.config.retry_after_seconds
    assert (timeout, back_off) == (0.5, 5.0)

    def timed_search() -> tuple[float, str | None, str | None]:
        started = time.perf_counter()
        result = cache.search(PARA)
        assert result.hit is None
        return time.perf_counter() - started, result.error, result.skipped

    cache.store(Q, "stored")
    assert cache.check(PARA) is not None
    with stopped(backlog_engine):
        elapsed, error, _ = timed_search()  # connected already: the read times out
        failed_at = time.monotonic()
        assert error == "CacheUnavailableError" and timeout <= elapsed < 2 * timeout, elapsed
        with blackholed(backlog_engine.port):
            skips = 0
            while time.monotonic() - failed_at < back_off - 0.3:
                elapsed, error, skipped = timed_search()
                assert skipped and elapsed < 0.05, (elapsed, error)
                assert cache.store(Q, "during the back-off") is None
                skips += 1
                time.sleep(0.1)
            time.sleep(max(0.0, failed_at + back_off + 0.05 - time.monotonic()))
            elapsed, error, _ = timed_search()  # a new connect: no SYN-ACK comes back
            assert error == "CacheUnavailableError" and timeout <= elapsed < 2 * timeout, elapsed
    stats = cache.stats()
    assert (
        skips >= 30 and stats.errors == 2 and (stats.skipped, stats.store_skipped) == (skips, skips)
    )
    assert stats.by_error == {"CacheUnavailableError": 2}


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


async def test_index_recheck_is_throttled(
    engine: LocalEngine, index_name: str, mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Lookups that find nothing re-verify the index (FT.INFO) at most every interval."""
    clock = Clock()
    cache = ValkeySemanticCache(TableEmbeddings(), url=engine.url, index_name=index_name,
                                on_error="raise")  # fmt: skip
    cache._core.clock = clock
    interval = cache.config.index_check_interval_seconds
    assert interval == 30.0
    api = Api(cache, mode)
    await api.store(Q, "x")  # the index is verified here
    raw = valkey.Valkey.from_url(engine.url)

    async def info_calls(steps: int, step: float) -> int:
        before = command_calls(raw)
        for i in range(steps):
            clock.offset += step
            assert (await api.search(Q, llm_string=f"empty {clock.offset} {i}")).hit is None
        return calls_between(before, command_calls(raw)).get("ft.info", 0)

    assert await info_calls(5, interval / 6) == 0  # 25 s: within the interval
    assert await info_calls(1, interval / 6 + 0.1) == 1  # 30.1 s after the last check
    assert await info_calls(5, interval / 6) == 0
    assert await info_calls(10, interval / 2) == 5  # one check per interval, not per lookup


async def test_incomplete_or_corrupt_entries_are_never_served(
    engine: LocalEngine, index_name: str, mode: str
) -> None:
    emb = TableEmbeddings({"bad": at_similarity(1.0), "q": at_similarity(0.99)})
    cache = ValkeySemanticCache(emb, url=engine.url, index_name=index_name)
    api = Api(cache, mode)
    key = await api.store("bad", "will be damaged")
    assert (await api.check("q")).answer == "will be damaged"
    raw = valkey.Valkey.from_url(engine.url)
    raw.hdel(key, proto.ANSWER)
    for text, kind in (("q", "the nearest entry lacks its answer"), ("bad", "an exact repeat")):
        result = await api.search(text)
        assert result.hit is None and result.error == "ProtocolError", kind
    assert cache.stats().by_error == {"ProtocolError": 2}
    raw.hset(key, proto.ANSWER, '[{"lc": 1, "type": "constructor", "id": ["os", "system"]}]')
    for text in ("q", "bad"):  # not a list of generations: refused on both paths
        result = await api.search(text)
        assert result.hit is None and result.error == "ProtocolError"
    assert cache.stats().by_error == {"ProtocolError": 4}
    assert cache.stats().hits == 1


def test_threads_and_tasks_at_once_with_a_kill(own_engine: LocalEngine) -> None:
    """4 threads and 16 asyncio tasks work before, during and after a SIGKILL: no exception
    reaches a caller, every answer matches its question, the counters match the callers'."""
    emb = TableEmbeddings()
    cache = ValkeySemanticCache(emb, url=own_engine.url, socket_timeout_seconds=TIMEOUT,
                                retry_after_seconds=0.05)  # fmt: skip
    errors: list[BaseException] = []
    seen: Counter[str] = Counter()
    lock = threading.Lock()
    killed = threading.Event()
    stop = threading.Event()

    def record(phase: str, stored: str | None, hit: CacheHit | None, want: str) -> None:
        assert hit is None or hit.answer == want, (hit.answer, want)
        with lock:
            seen[f"{phase} lookups"] += 1
            seen[f"{phase} hits"] += hit is not None
            seen[f"{phase} stores"] += stored is not None

    def worker(n: int) -> None:
        i = 0
        while not stop.is_set():
            phase, q = "after" if killed.is_set() else "before", f"q{n}-{i % 7}"
            stored = cache.store(q, f"a{n}-{q}")
            record(phase, stored, cache.check(q), f"a{n}-{q}")
            i += 1

    async def task(n: int) -> None:
        i = 0
        while not stop.is_set():
            phase, q = "after" if killed.is_set() else "before", f"t{n}-{i % 5}"
            stored = await cache.astore(q, f"b{n}-{q}")
            record(phase, stored, await cache.acheck(q), f"b{n}-{q}")
            i += 1
            await asyncio.sleep(0)

    def guarded(target: Callable[[], object]) -> None:
        try:
            target()
        except BaseException as exc:
            errors.append(exc)

    async def tasks() -> None:
        await asyncio.gather(*(task(n) for n in range(16)))

    threads = [threading.Thread(target=guarded, args=(lambda n=n: worker(n),)) for n in range(4)]
    threads.append(threading.Thread(target=guarded, args=(lambda: asyncio.run(tasks()),)))
    for t in threads:
        t.start()
    try:
        deadline = time.monotonic() + 20
        while seen["before hits"] < 200:  # work overlaps the kill, not only its end
            assert time.monotonic() < deadline and not errors, (seen, errors[:1])
            time.sleep(0.02)
        assert own_engine.process is not None
        own_engine.process.kill()
        own_engine.process.wait()
        killed.set()
        time.sleep(1.5)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=60)
    assert not errors, errors[:3]
    stats = cache.stats()
    assert seen["before stores"] > 0 and seen["after lookups"] >= 100, seen
    assert seen["after hits"] <= 20 * 2, seen  # only calls already in flight at the kill
    assert stats.lookups == seen["before lookups"] + seen["after lookups"]
    assert stats.hits == seen["before hits"] + seen["after hits"]
    assert stats.stores == seen["before stores"] + seen["after stores"]
    assert stats.by_error.get("CacheUnavailableError", 0) >= 20, stats  # not only skipped
