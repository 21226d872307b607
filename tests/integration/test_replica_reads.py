"""Reads from replicas: standalone with ``replica_urls`` (the lookups' HMGET and FT.SEARCH go
to the replica, writes and index checks to the primary), and in cluster mode with a cluster
client's ``read_from_replicas`` (the lookups spread over primaries and replicas). A replica
that lags behind the primary (here: its replication link frozen by a forwarder) may cost a
missed hit or an older answer to the same question, never another question's answer.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import valkey
from valkey.asyncio.cluster import ValkeyCluster as AsyncValkeyCluster
from valkey.cluster import ValkeyCluster

from langchain_valkey_semcache import ValkeySemanticCache
from langchain_valkey_semcache import _protocol as proto
from langchain_valkey_semcache.engine import LocalEngine
from tests.cluster_nodes import start_cluster
from tests.conftest import Api
from tests.faults import calls_between, command_calls
from tests.forwarder import Forwarder
from tests.traffic import known_items, questions

KNOWN = 30
REPLICATION = ("--repl-diskless-sync-delay", "0")


def _synced(replica: LocalEngine, timeout: float = 20) -> None:
    client = valkey.Valkey(port=replica.port)
    deadline = time.monotonic() + timeout
    while client.execute_command("ROLE")[3] != b"connected":
        assert time.monotonic() < deadline, "the replica never synced"
        time.sleep(0.02)


@pytest.fixture
def linked() -> Iterator[tuple[LocalEngine, LocalEngine, Forwarder]]:
    """A primary and a replica whose replication link runs through a forwarder."""
    primary = LocalEngine(args=REPLICATION).start()
    link = Forwarder(primary.port)
    replica = LocalEngine(args=(*REPLICATION, "--replicaof", "127.0.0.1", str(link.port)))
    try:
        replica.start()
        _synced(replica)
        yield primary, replica, link
    finally:
        replica.stop()
        link.close()
        primary.stop()


def _cache(primary: LocalEngine, replica: LocalEngine, index_name: str) -> ValkeySemanticCache:
    emb, _ = questions(KNOWN)
    return ValkeySemanticCache(emb, url=primary.url, replica_urls=(replica.url,),
                               index_name=index_name, verifier=None)  # fmt: skip


async def test_lookups_read_from_the_replica_writes_go_to_the_primary(
    linked: tuple[LocalEngine, LocalEngine, Forwarder], index_name: str, mode: str
) -> None:
    primary, replica, _ = linked
    cache = _cache(primary, replica, index_name)
    api = Api(cache, mode)
    assert all(await api.store_many(known_items(KNOWN)))
    assert valkey.Valkey(port=primary.port).execute_command("WAIT", 1, 5000) == 1
    on_primary, on_replica = valkey.Valkey(port=primary.port), valkey.Valkey(port=replica.port)
    before = command_calls(on_primary), command_calls(on_replica)
    for i in range(KNOWN):
        hit = await api.check(f"like known {i}")
        assert hit is not None and hit.answer == f"answer {i}" and not hit.exact
        hit = await api.check(f"known {i}")
        assert hit is not None and hit.exact
    assert await api.store("one more", "x")
    primary_calls = calls_between(before[0], command_calls(on_primary))
    replica_calls = calls_between(before[1], command_calls(on_replica))
    assert replica_calls.get("ft.search", 0) == KNOWN and replica_calls.get("hmget", 0) == 2 * KNOWN
    assert "ft.search" not in primary_calls and "hmget" not in primary_calls, primary_calls
    assert primary_calls.get("hset") == 1  # the write went to the primary
    assert cache.stats().errors == 0


@pytest.mark.parametrize("mode", ["async"])  # the routing is the same in both drivers
async def test_a_lagging_replica_costs_a_miss_never_a_wrong_answer(
    linked: tuple[LocalEngine, LocalEngine, Forwarder], index_name: str, mode: str
) -> None:
    primary, replica, link = linked
    cache = _cache(primary, replica, index_name)
    api = Api(cache, mode)
    assert all(await api.store_many(known_items(KNOWN)))
    assert valkey.Valkey(port=primary.port).execute_command("WAIT", 1, 5000) == 1
    link.repoint(primary.port, old="freeze")  # the replica hears nothing more: it lags
    assert await api.store("fresh question", "fresh answer")
    assert await api.store("known 1", "answer 1, revised")
    result = await api.search("fresh question")
    assert result.hit is None and result.error is None  # not there yet: a miss
    hit = await api.check("like known 1")
    assert hit is not None and hit.answer == "answer 1", hit  # an older answer, same question
    for i in range(2, KNOWN):  # nothing else changes
        hit = await api.check(f"like known {i}")
        assert hit is not None and hit.answer == f"answer {i}"
    link.repoint(primary.port, old="cut")  # the link breaks; the replica reconnects, catches up
    _synced(replica)
    deadline = time.monotonic() + 10
    while (fresh := await api.check("fresh question")) is None:
        assert time.monotonic() < deadline, "the replica never caught up"
        time.sleep(0.05)
    assert fresh.answer == "fresh answer"
    hit = await api.check("like known 1")
    assert hit is not None and hit.answer == "answer 1, revised"


@pytest.fixture(scope="module")
def cluster_with_replicas(
    search_engine: str,
) -> Iterator[tuple[list[LocalEngine], list[LocalEngine]]]:
    if search_engine != proto.VALKEY_SEARCH:
        pytest.skip(f"{search_engine} has no cross-shard coordinator (valkey-search runs these)")
    primaries, replicas = start_cluster(coordinator=True, replicas=1, args=REPLICATION)
    yield primaries, replicas
    for node in [*primaries, *replicas]:
        node.stop()


async def test_cluster_client_reading_from_replicas_spreads_the_lookups(
    cluster_with_replicas: tuple[list[LocalEngine], list[LocalEngine]], index_name: str, mode: str
) -> None:
    primaries, replicas = cluster_with_replicas
    port = primaries[0].port
    emb, paraphrases = questions(KNOWN)
    cache = ValkeySemanticCache(
        emb, index_name=index_name, verifier=None,
        client=ValkeyCluster(host="127.0.0.1", port=port, read_from_replicas=True),
        async_client=AsyncValkeyCluster(host="127.0.0.1", port=port, read_from_replicas=True),
    )  # fmt: skip
    api = Api(cache, mode)
    assert all(await api.store_many(known_items(KNOWN)))
    for node in primaries:
        valkey.Valkey(port=node.port).execute_command("WAIT", 1, 5000)
    nodes = [valkey.Valkey(port=n.port) for n in replicas]
    before = [command_calls(n) for n in nodes]
    for asked, want in paraphrases.items():
        hit = await api.check(asked)
        assert hit is not None and hit.answer == want, asked
    on_replicas = [calls_between(b, command_calls(n)) for b, n in zip(before, nodes, strict=True)]
    searched = sum(c.get("ft.search", 0) for c in on_replicas)
    read = sum(c.get("hmget", 0) for c in on_replicas)
    print(f"\ncluster reads from replicas: {searched} of {KNOWN} KNN, {read} of {KNOWN} HMGET")
    assert searched > 0 and read > 0, on_replicas
    assert not any("hset" in c for c in on_replicas)
    assert cache.stats().errors == 0
    await cache.aclose()


@pytest.mark.parametrize("mode", ["sync"])
async def test_a_replica_address_that_is_the_primary_just_works(
    linked: tuple[LocalEngine, LocalEngine, Forwarder], index_name: str, mode: str
) -> None:
    primary, _, _ = linked
    cache = _cache(primary, primary, index_name)  # a misconfigured reader: the primary itself
    api = Api(cache, mode)
    assert all(await api.store_many(known_items(KNOWN)))
    for i in range(KNOWN):  # reads at once: no replication lag to wait for
        hit = await api.check(f"like known {i}")
        assert hit is not None and hit.answer == f"answer {i}"
    assert cache.stats().errors == 0 and cache.stats().store_errors == 0
