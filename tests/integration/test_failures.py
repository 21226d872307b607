"""Failing open, bad input and a server without the search module."""

from __future__ import annotations

import logging
import math
import time

import pytest
from langchain_core.outputs import Generation

from langchain_valkey_semcache import (
    CacheUnavailableError,
    EmbeddingError,
    NoSearchModuleError,
    Timings,
    ValkeySemanticCache,
    _stats,
)
from langchain_valkey_semcache.engine import LocalEngine, free_port
from tests.conftest import Api
from tests.support import BrokenEmbeddings, TableEmbeddings

Q = "What is semantic caching?"


async def test_unreachable_cache_fails_open_fast(mode: str) -> None:
    url = f"valkey://127.0.0.1:{free_port()}"
    cache = ValkeySemanticCache(TableEmbeddings(), url=url, socket_timeout_seconds=0.5)
    api = Api(cache, mode)
    started = time.perf_counter()
    assert (await api.search(Q)).hit is None
    assert await api.store(Q, "x") is None
    assert await api.lookup(Q, "llm") is None
    await api.update(Q, "llm", [Generation(text="x")])
    elapsed = time.perf_counter() - started
    assert elapsed < 0.25, f"a refused connection waited {elapsed:.2f}s (timeout 0.5 s)"
    stats = cache.stats()
    assert stats.errors >= 1 and stats.by_error.get("CacheUnavailableError", 0) >= 1
    # the first lookup failed, the second skipped (backing off): neither is a miss
    assert (stats.lookups, stats.hits, stats.errors, stats.skipped, stats.misses) == (2, 0, 1, 1, 0)
    stats.by_error["CacheUnavailableError"] = 10**6  # a snapshot: the cache's count stays
    assert cache.stats().by_error["CacheUnavailableError"] < 10**6


def test_errors_are_logged_once_per_window_then_counted(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"valkey://127.0.0.1:{free_port()}"
    cache = ValkeySemanticCache(TableEmbeddings(), url=url, retry_after_seconds=0)
    caplog.set_level(logging.DEBUG, logger="langchain_valkey_semcache")
    monkeypatch.setattr(_stats, "_LOG_WINDOW_SECONDS", 3600.0)

    def reports() -> list[logging.LogRecord]:
        return [r for r in caplog.records if "failed, continuing without it" in r.getMessage()]

    for _ in range(3):  # no back-off: each lookup fails on the refused connection
        assert cache.lookup(Q, "llm") is None
    [first] = reports()
    assert first.levelno == logging.WARNING
    assert first.getMessage().startswith(
        "semantic cache lookup failed, continuing without it: CacheUnavailableError: "
    )
    assert "more since" not in first.getMessage()
    assert any(
        "lookup error detail: CacheUnavailableError(" in r.getMessage() for r in caplog.records
    )

    monkeypatch.setattr(_stats, "_LOG_WINDOW_SECONDS", 0.0)  # the window is over
    caplog.clear()
    cache.update(Q, "llm", [Generation(text="x")])
    [summary] = reports()
    assert summary.getMessage().startswith("semantic cache store failed")
    assert summary.getMessage().endswith(" (2 more since the last report)")
    caplog.clear()
    assert cache.store(Q, "x", ttl_seconds=0) is None  # a misconfiguration: ERROR, with detail
    [misconfigured] = reports()
    assert misconfigured.levelno == logging.ERROR
    assert misconfigured.getMessage().endswith(
        ": ConfigurationError: ttl_seconds must be a positive int, got 0"
    )


def test_unreachable_cache_raises_when_asked() -> None:
    url = f"valkey://127.0.0.1:{free_port()}"
    with pytest.raises(CacheUnavailableError):
        ValkeySemanticCache(TableEmbeddings(), url=url, on_error="raise")


async def test_cache_recovers_after_backoff(mode: str) -> None:
    port = free_port()
    cache = ValkeySemanticCache(
        TableEmbeddings(), url=f"valkey://127.0.0.1:{port}", retry_after_seconds=0.3,
        socket_timeout_seconds=0.2,
    )  # fmt: skip
    api = Api(cache, mode)
    assert (await api.search(Q)).error == "CacheUnavailableError"
    assert (await api.search(Q)).skipped == "cache unavailable, retrying later"
    with LocalEngine(port=port):
        time.sleep(0.35)
        await api.store(Q, "back")
        assert (await api.check(Q)).answer == "back"


async def test_embedding_failure_is_a_counted_miss(
    engine: LocalEngine, index_name: str, mode: str
) -> None:
    cache = ValkeySemanticCache(
        BrokenEmbeddings(RuntimeError("ThrottlingException")), url=engine.url, index_name=index_name
    )
    api = Api(cache, mode)
    missed = await api.search(Q)
    assert missed.hit is None and missed.error == "EmbeddingError"
    assert missed.timings == Timings()
    assert await api.store(Q, "x") is None
    assert cache.stats().by_error == {"EmbeddingError": 2}
    assert (cache.stats().errors, cache.stats().store_errors) == (1, 1)
    raising = ValkeySemanticCache(
        BrokenEmbeddings(RuntimeError("ThrottlingException")), url=engine.url,
        index_name=index_name, on_error="raise",
    )  # fmt: skip
    with pytest.raises(EmbeddingError):
        await Api(raising, mode).store(Q, "x")
    with pytest.raises(EmbeddingError):
        await Api(raising, mode).store_many([(Q, "x")])


@pytest.mark.parametrize(
    "vector",
    [[math.nan] * 8, [math.inf] + [0.0] * 7, [0.1] * 7, [0.0] * 8, [], "not a vector"],
    ids=["nan", "inf", "short", "zero", "empty", "text"],
)
async def test_bad_vectors_never_reach_the_server(
    engine: LocalEngine, index_name: str, mode: str, vector: object
) -> None:
    make = lambda emb, **kw: ValkeySemanticCache(  # noqa: E731
        emb, url=engine.url, index_name=index_name, dims=8, **kw
    )
    with pytest.raises(EmbeddingError):
        await Api(make(BrokenEmbeddings(vector), on_error="raise"), mode).search(Q)
    quiet = make(BrokenEmbeddings(vector))
    assert (await Api(quiet, mode).search(Q)).hit is None
    assert await Api(quiet, mode).store(Q, "x") is None
    good = make(TableEmbeddings())
    assert (await Api(good, mode).search(Q)).hit is None  # nothing was stored


@pytest.mark.parametrize("prompt", ["", "   ", "\n\t "])
async def test_empty_prompts_never_stored_or_served(
    engine: LocalEngine, index_name: str, mode: str, prompt: str
) -> None:
    emb = TableEmbeddings()
    cache = ValkeySemanticCache(emb, url=engine.url, index_name=index_name, on_error="raise")
    api = Api(cache, mode)
    assert await api.store(prompt, "x") is None
    result = await api.search(prompt)
    assert result.hit is None and result.skipped == "empty prompt"
    assert emb.calls == []


async def test_prompt_over_limit_is_not_cached(
    engine: LocalEngine, index_name: str, mode: str
) -> None:
    emb = TableEmbeddings()
    cache = ValkeySemanticCache(
        emb, url=engine.url, index_name=index_name, max_prompt_chars=100, on_error="raise"
    )
    api = Api(cache, mode)
    long_prompt = "why " * 100
    assert await api.store(long_prompt, "x") is None
    assert (await api.search(long_prompt)).skipped.startswith("prompt over max_prompt_chars")
    assert emb.calls == []


async def test_unserializable_or_oversized_answers_are_skipped(
    engine: LocalEngine, index_name: str, mode: str
) -> None:
    cache = ValkeySemanticCache(
        TableEmbeddings(), url=engine.url, index_name=index_name, max_answer_bytes=2000
    )
    api = Api(cache, mode)
    weird = Generation(text="x", generation_info={"obj": object()})
    assert await api.store(Q, [weird]) is None
    assert await api.store(Q, "y" * 5000) is None
    assert (await api.search(Q)).hit is None
    assert cache.stats().store_skipped == 2 and cache.stats().store_errors == 0


def test_no_search_module_error_names_elasticache_requirement() -> None:
    with LocalEngine(search=False) as plain:
        for on_error in ("miss", "raise"):
            with pytest.raises(NoSearchModuleError, match=r"Valkey 8\.2\+.*node-based"):
                ValkeySemanticCache(TableEmbeddings(), url=plain.url, on_error=on_error)  # type: ignore[arg-type]
