"""Cluster mode on local 3-primary clusters of the engine under test.

valkey-search with its coordinator (``loadmodule ... --use-coordinator``, as ElastiCache runs
it) searches across shards: paraphrases are served whichever shard holds the entry, from sync
and asyncio cluster clients; ``clear()`` and ``drop_index()`` reach every shard; a stalled
shard turns lookups into bounded misses and the cache serves again once it resumes. A
cluster whose search module has no coordinator (RediSearch here, or valkey-search loaded
without it) would answer a KNN from one shard: the cache detects that and says so, instead
of serving partial results.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
import valkey
from valkey.asyncio.cluster import ValkeyCluster as AsyncValkeyCluster
from valkey.cluster import ValkeyCluster

from langchain_valkey_semcache import ConfigurationError, ValkeySemanticCache
from langchain_valkey_semcache import _protocol as proto
from langchain_valkey_semcache.engine import LocalEngine
from tests.cluster_nodes import start_cluster
from tests.conftest import Api
from tests.support import TableEmbeddings

TIMEOUT = 0.5  # the cache's default socket timeout
RETRIES = 1  # cluster_error_retry_attempts, as the README advises (valkey-py's default: 3)
DIMS = 64
N = 60


@pytest.fixture(scope="module")
def coordinated(search_engine: str) -> Iterator[list[LocalEngine]]:
    if search_engine != proto.VALKEY_SEARCH:
        pytest.skip(f"{search_engine} has no cross-shard coordinator (valkey-search runs these)")
    nodes, _ = start_cluster(coordinator=True)
    yield nodes
    for node in nodes:
        node.stop()


@pytest.fixture(scope="module")
def uncoordinated() -> Iterator[list[LocalEngine]]:
    nodes, _ = start_cluster(coordinator=False)
    yield nodes
    for node in nodes:
        node.stop()


def _clients(nodes: list[LocalEngine]) -> tuple[ValkeyCluster, AsyncValkeyCluster]:
    # As the README advises: socket timeouts, and one retry of the client's own (the cache
    # backs off and retries after retry_after_seconds itself).
    kwargs: dict[str, Any] = {
        "socket_timeout": TIMEOUT, "socket_connect_timeout": TIMEOUT,
        "cluster_error_retry_attempts": RETRIES,
    }  # fmt: skip
    return (
        ValkeyCluster(host="127.0.0.1", port=nodes[0].port, **kwargs),
        AsyncValkeyCluster(host="127.0.0.1", port=nodes[0].port, **kwargs),
    )


def _questions() -> TableEmbeddings:
    """N questions in random directions, each with a paraphrase at cosine ~0.99."""
    rng = np.random.default_rng(20261201)
    table: dict[str, list[float]] = {}
    for i in range(N):
        v = rng.normal(size=DIMS)
        v /= np.linalg.norm(v)
        near = v + rng.normal(size=DIMS) * 0.012
        table[f"q{i}"] = v.tolist()
        table[f"like q{i}"] = (near / np.linalg.norm(near)).tolist()
    return TableEmbeddings(table, dims=DIMS)


def _keys_per_node(nodes: list[LocalEngine], prefix: str) -> list[int]:
    return [len(list(valkey.Valkey(port=n.port).scan_iter(match=f"{prefix}*"))) for n in nodes]


def _node_of(nodes: list[LocalEngine], key: str) -> int:
    """The shard that holds ``key`` (and really has it: a SCAN of that node finds it)."""
    for i, node in enumerate(nodes):
        if key.encode() in set(valkey.Valkey(port=node.port).scan_iter(match=key)):
            return i
    raise AssertionError(f"{key} is on no node")


def _index_on(nodes: list[LocalEngine], name: str) -> list[bool]:
    return [name.encode() in valkey.Valkey(port=n.port).execute_command("FT._LIST") for n in nodes]


async def test_paraphrases_served_across_shards_then_clear_and_drop(
    coordinated: list[LocalEngine], index_name: str, mode: str
) -> None:
    client, async_client = _clients(coordinated)
    cache = ValkeySemanticCache(_questions(), client=client, async_client=async_client,
                                index_name=index_name, on_error="raise")  # fmt: skip
    api = Api(cache, mode)
    keys = await api.store_many([(f"q{i}", f"answer {i}") for i in range(N)])
    await api.store("single", "one", namespace="tenant-b")
    assert _index_on(coordinated, index_name) == [True] * 3  # FT.CREATE reached every shard
    spread = _keys_per_node(coordinated, f"{index_name}:")
    assert sum(spread) == N + 1 and all(count > 0 for count in spread), spread

    served_from = set()
    for i in range(N):
        hit = await api.check(f"like q{i}")
        assert hit is not None and not hit.exact, f"paraphrase {i} missed"
        assert hit.answer == f"answer {i}"
        served_from.add(_node_of(coordinated, hit.key))
    assert served_from == {0, 1, 2}  # semantic hits came from every shard

    exact_from = set()
    for i, key in enumerate(keys):
        assert key is not None
        hit = await api.check(f"q{i}")
        assert hit is not None and hit.exact and hit.answer == f"answer {i}"
        exact_from.add(_node_of(coordinated, key))
    assert exact_from == {0, 1, 2}  # exact repeats from every shard
    assert cache.stats().errors == 0

    await api.clear()
    assert sum(_keys_per_node(coordinated, f"{index_name}:")) == 1  # tenant-b's entry is left
    assert await api.drop_index() == 1
    assert _keys_per_node(coordinated, f"{index_name}:") == [0, 0, 0]
    deadline = time.monotonic() + 5
    while any(_index_on(coordinated, index_name)):  # the drop reaches every shard
        assert time.monotonic() < deadline, _index_on(coordinated, index_name)
        time.sleep(0.05)
    await async_client.aclose()


async def test_stalled_shard_gives_bounded_misses_then_serves_again(
    coordinated: list[LocalEngine], index_name: str, mode: str
) -> None:
    client, async_client = _clients(coordinated)
    cache = ValkeySemanticCache(_questions(), client=client, async_client=async_client,
                                index_name=index_name, retry_after_seconds=0.5)  # fmt: skip
    api = Api(cache, mode)
    assert all(await api.store_many([(f"q{i}", f"answer {i}") for i in range(N)]))
    assert (await api.check("like q1")) is not None
    stalled = coordinated[2].process
    assert stalled is not None
    os.kill(stalled.pid, signal.SIGSTOP)
    try:
        for i in range(3):
            start = time.perf_counter()
            result = await api.search(f"like q{i}")
            elapsed = time.perf_counter() - start
            assert result.hit is None
            # At most one socket timeout per attempt of the client, then the cache backs off.
            assert elapsed < (1 + RETRIES) * TIMEOUT + 0.4, elapsed
            print(f"stalled-shard lookup {i}: {elapsed:.2f} s")
        assert cache.stats().by_error.get("CacheUnavailableError", 0) >= 1
    finally:
        os.kill(stalled.pid, signal.SIGCONT)
    deadline = time.monotonic() + 30
    while True:
        time.sleep(0.5)
        hit = await api.check("like q5")
        if hit is not None:
            assert hit.answer == "answer 5" and not hit.exact
            break
        assert time.monotonic() < deadline, "the cache did not serve again after the resume"
    await api.drop_index()
    await async_client.aclose()


async def test_cluster_without_coordinator_is_refused_not_partial(
    uncoordinated: list[LocalEngine], index_name: str, mode: str, search_engine: str
) -> None:
    client, async_client = _clients(uncoordinated)
    if search_engine == proto.VALKEY_SEARCH:
        # The index reaches one shard only: refused, with the fix named.
        with pytest.raises(ConfigurationError, match=r"cross-shard.*--use-coordinator"):
            ValkeySemanticCache(_questions(), client=client, async_client=async_client,
                                index_name=index_name, dims=DIMS, on_error="raise")  # fmt: skip
        expected = "ConfigurationError"
    else:
        # RediSearch's module here answers a cluster-mode KNN with entries but no fields.
        expected = "ProtocolError"
    # Failing open, a semantic lookup is a miss counted as that error, never a hit from one
    # shard.
    cache = ValkeySemanticCache(_questions(), client=client, async_client=async_client,
                                index_name=index_name)  # fmt: skip
    api = Api(cache, mode)
    await api.store_many([(f"q{i}", f"answer {i}") for i in range(N)])
    for i in range(5):
        result = await api.search(f"like q{i}")
        assert result.hit is None and result.error == expected
    assert cache.stats().by_error[expected] >= 5
    assert cache.stats().hits == 0
    await api.clear(all_namespaces=True)
    await async_client.aclose()
