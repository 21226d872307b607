"""EF_RUNTIME fitted to the index size: learned from FT.INFO, refreshed, sent in the query."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import valkey

from langchain_valkey_semcache import ValkeySemanticCache
from langchain_valkey_semcache import _protocol as proto
from langchain_valkey_semcache._index import ef_for
from langchain_valkey_semcache.engine import LocalEngine
from tests.conftest import Api
from tests.support import TableEmbeddings

DIMS = 8
K = 3  # the default candidates


@pytest.fixture
def slowlog(engine: LocalEngine) -> Iterator[valkey.Valkey]:
    """Every command lands in SLOWLOG, so a test can read the FT.SEARCH the server got."""
    client = valkey.Valkey.from_url(engine.url)
    before = client.config_get("slowlog-log-slower-than")["slowlog-log-slower-than"]
    client.config_set("slowlog-log-slower-than", 0)
    client.slowlog_reset()
    yield client
    client.config_set("slowlog-log-slower-than", before)
    client.close()


def sent_ef(client: valkey.Valkey) -> list[int]:
    """EF_RUNTIME of each FT.SEARCH logged, oldest first."""
    efs = []
    for entry in reversed(client.slowlog_get(128)):
        command = entry["command"]
        text = command.decode("latin-1") if isinstance(command, bytes) else str(command)
        if text.upper().startswith("FT.SEARCH") and "EF_RUNTIME " in text:
            efs.append(int(text.split("EF_RUNTIME ", 1)[1].split()[0]))
    return efs


def wait_docs(url: str, name: str, n: int) -> None:
    """valkey-search indexes in background threads: wait until FT.INFO counts ``n``."""
    client = valkey.Valkey.from_url(url)
    deadline = time.monotonic() + 30
    while proto.parse_info(client.execute_command(*proto.info_index(name))).num_docs < n:
        assert time.monotonic() < deadline, "index never counted the stored entries"
        time.sleep(0.05)
    client.close()


def make(engine: LocalEngine, index_name: str, **kw: object) -> ValkeySemanticCache:
    return ValkeySemanticCache(
        TableEmbeddings(dims=DIMS),
        url=engine.url,
        index_name=index_name,
        dims=DIMS,
        **kw,  # type: ignore[arg-type]
    )


async def test_ef_runtime_follows_the_index_size(
    engine: LocalEngine, index_name: str, mode: str, slowlog: valkey.Valkey
) -> None:
    cache = make(engine, index_name, index_check_interval_seconds=0)
    other = make(engine, index_name, index_check_interval_seconds=3600)
    assert cache.ef_runtime_in_force == other.ef_runtime_in_force == ef_for(0, DIMS, K)
    await Api(cache, mode).search("asked before the fill")  # learns the empty index's size
    assert cache.ef_runtime_in_force == ef_for(0, DIMS, K)
    n = 10_001  # past the first step
    assert ef_for(n, DIMS, K) > ef_for(n - 1, DIMS, K), "the test needs two different steps"
    # Another process fills the index: its own stores count at once, without an FT.INFO.
    keys = other.store_many([(f"question number {i}", "a") for i in range(n)])
    assert None not in keys
    assert other.ef_runtime_in_force == ef_for(n, DIMS, K)
    # This cache re-reads the size from FT.INFO (interval 0) and sends the wider beam.
    wait_docs(engine.url, index_name, n)
    slowlog.slowlog_reset()
    await Api(cache, mode).search("a question nobody stored")
    assert cache.ef_runtime_in_force == ef_for(n, DIMS, K)
    assert sent_ef(slowlog)[-1] == ef_for(n, DIMS, K)
    # Overwrites add nothing; a forgotten entry leaves (back below the step).
    other.store_many([(f"question number {i}", "b") for i in range(100)])
    other.store("question number 1", "c")
    assert other._core.index.size == n
    assert other.forget(str(keys[0]))
    assert other._core.index.size == n - 1
    assert other.ef_runtime_in_force == ef_for(n - 1, DIMS, K)


async def test_pinned_ef_runtime_is_sent_as_set(
    engine: LocalEngine, index_name: str, mode: str, slowlog: valkey.Valkey
) -> None:
    cache = make(engine, index_name, hnsw_ef_runtime=77)
    api = Api(cache, mode)
    await api.store("what is a cache", "a")
    slowlog.slowlog_reset()
    await api.search("what is a semantic cache")
    assert cache.ef_runtime_in_force == 77
    sent = sent_ef(slowlog)  # RediSearch repeats a short BATCHES answer with its own plan
    assert sent and set(sent) == {77}
