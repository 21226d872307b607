"""Cluster mode on a local 3-primary cluster (each node with the search module).

What this covers: the cache accepts ``ValkeyCluster`` clients (sync, and asyncio as
``async_client``), routes key commands by slot, pipelines writes across slots, serves exact
repeats from any shard and clears entries on every primary. What it cannot cover locally:
the RediSearch module here has no cluster coordinator, so FT.SEARCH sees one shard and, with
cluster mode enabled, returns no fields; valkey-search on ElastiCache coordinates FT.SEARCH
across shards itself. The test checks that this degrades to misses, never to a wrong hit.
"""

from __future__ import annotations

import random
import socket
import time
from collections.abc import Iterator

import pytest
import valkey
from valkey.asyncio.cluster import ValkeyCluster as AsyncValkeyCluster
from valkey.cluster import ValkeyCluster

from langchain_valkey_semcache import ValkeySemanticCache
from langchain_valkey_semcache.engine import LocalEngine
from tests.conftest import Api
from tests.support import TableEmbeddings, at_similarity

SLOTS = 16384


@pytest.fixture(scope="module")
def cluster() -> Iterator[list[LocalEngine]]:
    args = ("--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf")
    nodes = [LocalEngine(port=_cluster_port(), args=args).start() for _ in range(3)]
    try:
        clients = [valkey.Valkey(port=n.port) for n in nodes]
        step = SLOTS // len(nodes)
        for i, client in enumerate(clients):
            last = SLOTS - 1 if i == len(nodes) - 1 else (i + 1) * step - 1
            client.execute_command("CLUSTER", "ADDSLOTSRANGE", i * step, last)
        for node in nodes[1:]:
            clients[0].execute_command("CLUSTER", "MEET", "127.0.0.1", node.port)
        deadline = time.monotonic() + 30
        while not all(b"cluster_state:ok" in c.execute_command("CLUSTER", "INFO") for c in clients):
            assert time.monotonic() < deadline, "the local cluster did not form"
            time.sleep(0.1)
        yield nodes
    finally:
        for node in nodes:
            node.stop()


def _cluster_port() -> int:
    """A free port whose cluster bus port (+10000) is free and valid too."""
    rng = random.Random()
    for _ in range(200):
        port = rng.randint(20_000, 45_000)
        try:
            for p in (port, port + 10_000):
                with socket.socket() as s:
                    s.bind(("127.0.0.1", p))
        except OSError:
            continue
        return port
    raise RuntimeError("no free port pair for a cluster node")


def _keys_per_node(nodes: list[LocalEngine], prefix: str) -> list[int]:
    return [len(list(valkey.Valkey(port=n.port).scan_iter(match=f"{prefix}*"))) for n in nodes]


async def test_cluster_client_store_exact_hits_and_clear(
    cluster: list[LocalEngine], index_name: str, mode: str
) -> None:
    client = ValkeyCluster(host="127.0.0.1", port=cluster[0].port)
    async_client = AsyncValkeyCluster(host="127.0.0.1", port=cluster[0].port)
    emb = TableEmbeddings({"q0": at_similarity(1.0), "like q0": at_similarity(0.99)})
    cache = ValkeySemanticCache(emb, client=client, async_client=async_client,
                                index_name=index_name)  # fmt: skip
    api = Api(cache, mode)
    questions = [f"q{i}" for i in range(60)]
    keys = await api.store_many([(q, f"answer {q}") for q in questions])
    assert all(keys)
    await api.store("single", "one", namespace="tenant-b")
    spread = _keys_per_node(cluster, f"{index_name}:")
    assert sum(spread) == 61 and all(count > 0 for count in spread), spread
    for q in questions[::7]:
        hit = await api.check(q)
        assert hit is not None and hit.exact and hit.answer == f"answer {q}"
    paraphrase = await api.search("like q0")
    assert paraphrase.hit is None or paraphrase.hit.answer == "answer q0"
    await api.clear()
    assert sum(_keys_per_node(cluster, f"{index_name}:")) == 1  # tenant-b's entry is left
    await api.clear(all_namespaces=True)
    assert _keys_per_node(cluster, f"{index_name}:") == [0, 0, 0]
    await async_client.aclose()
