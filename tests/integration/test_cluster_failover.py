"""Failover in cluster mode: the coordinator cluster of test_cluster.py, with one replica
per shard, loses a primary to ``SIGKILL`` under steady traffic from threads and asyncio
tasks; the cluster promotes the replica by itself (a short ``cluster-node-timeout``).

Asserted: no wrong answer ever; every call fails open within the client's timeouts; hits
and stores come back by themselves after the promotion (the cluster clients follow MOVED
and refresh their topology); entries acknowledged before the kill are found after it.
valkey-search only (RediSearch here has no cross-shard coordinator).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import valkey
from valkey.asyncio.cluster import ValkeyCluster as AsyncValkeyCluster
from valkey.cluster import ValkeyCluster

from langchain_valkey_semcache import ValkeySemanticCache
from langchain_valkey_semcache import _protocol as proto
from langchain_valkey_semcache.engine import LocalEngine
from tests.cluster_nodes import start_cluster
from tests.traffic import Traffic, first, known_items, questions

KNOWN = 60
TIMEOUT = 0.5  # the cache's default socket timeout
RETRIES = 1  # cluster_error_retry_attempts, as the README advises
NODE_TIMEOUT_MS = 1000  # how long the cluster waits before it fails a silent primary over
SLACK = 1.0  # scheduling on a loaded, shared 2-core machine


@dataclass(frozen=True)
class Profile:
    back_off: float
    steady: float  # seconds of traffic after the promotion
    warm: float  # seconds of traffic before the kill
    threads: int
    tasks: int


CI = Profile(back_off=1.0, steady=2.0, warm=0.0, threads=3, tasks=8)
SOAK = Profile(back_off=5.0, steady=20.0, warm=10.0, threads=4, tasks=16)  # shipped back-off


@pytest.fixture
def replicated(search_engine: str) -> Iterator[tuple[list[LocalEngine], list[LocalEngine]]]:
    if search_engine != proto.VALKEY_SEARCH:
        pytest.skip(f"{search_engine} has no cross-shard coordinator (valkey-search runs these)")
    args = ("--cluster-node-timeout", str(NODE_TIMEOUT_MS), "--repl-diskless-sync-delay", "0")
    primaries, replicas = start_cluster(coordinator=True, replicas=1, args=args)
    yield primaries, replicas
    for node in [*primaries, *replicas]:
        node.stop()


def _clients(port: int) -> tuple[ValkeyCluster, AsyncValkeyCluster]:
    kwargs: dict[str, Any] = {
        "socket_timeout": TIMEOUT, "socket_connect_timeout": TIMEOUT,
        "cluster_error_retry_attempts": RETRIES,
    }  # fmt: skip
    return (
        ValkeyCluster(host="127.0.0.1", port=port, **kwargs),
        AsyncValkeyCluster(host="127.0.0.1", port=port, **kwargs),
    )


def _promoted(replica: LocalEngine) -> bool:
    try:
        return valkey.Valkey(port=replica.port, socket_timeout=1).execute_command("ROLE")[0] == (
            b"master"
        )
    except valkey.ValkeyError:
        return False


def _cluster_ok(nodes: list[LocalEngine]) -> bool:
    for node in nodes:
        info = valkey.Valkey(port=node.port, socket_timeout=1).execute_command("CLUSTER", "INFO")
        if b"cluster_state:ok" not in info:
            return False
    return True


def _scenario(
    nodes: tuple[list[LocalEngine], list[LocalEngine]], index_name: str, p: Profile
) -> None:
    primaries, replicas = nodes
    emb, paraphrases = questions(KNOWN)
    client, async_client = _clients(primaries[0].port)  # the victim: the default node
    cache = ValkeySemanticCache(emb, client=client, async_client=async_client,
                                index_name=index_name, verifier=None,
                                retry_after_seconds=p.back_off)  # fmt: skip
    assert all(cache.store_many(known_items(KNOWN)))
    for node in primaries:
        valkey.Valkey(port=node.port).execute_command("WAIT", 1, 5000)
    victim, heir = primaries[0], replicas[0]  # start_cluster: replicas[i] follows primaries[i]
    traffic = Traffic(cache, paraphrases, threads=p.threads, tasks=p.tasks)
    with traffic:
        assert traffic.wait_until(lambda calls, acks: len(acks) >= 50, 30), "no traffic"
        time.sleep(p.warm)
        assert victim.process is not None
        killed = time.monotonic()
        victim.process.kill()
        victim.process.wait()
        deadline = killed + 20 * NODE_TIMEOUT_MS / 1000
        while not (_promoted(heir) and _cluster_ok([*primaries[1:], heir])):
            assert time.monotonic() < deadline, "the cluster did not promote the replica"
            time.sleep(0.05)
        promoted = time.monotonic()
        bound = p.back_off + (1 + RETRIES) * TIMEOUT + SLACK
        assert traffic.serves_again(promoted, bound + p.steady), (
            f"no hit after the promotion: {traffic.count(since=promoted)}"
        )
        time.sleep(p.steady)
    assert not traffic.raised, traffic.raised[:3]

    calls, acks = traffic.snapshot()
    stats = cache.stats()
    assert traffic.wrong == [], traffic.wrong[:5]
    hit_back = first(calls, "lookup", "hit", after=promoted)
    assert hit_back is not None
    last_hit = max((c.ended for c in calls if c.outcome == "hit" and c.started < killed),
                   default=killed)  # fmt: skip
    worst = max(c.seconds for c in calls if c.started >= killed)
    before_kill = [x.key for x in acks if x.at < killed]
    reader = ValkeyCluster(host="127.0.0.1", port=primaries[1].port)
    survived = sum(reader.exists(key) for key in before_kill)
    report = {
        "promotion after the kill (s)": round(promoted - killed, 3),
        "miss window, last hit to first hit (s)": round(hit_back.ended - last_hit, 3),
        "first hit after the promotion (s)": round(hit_back.ended - promoted, 3),
        "acknowledged entries found after it": f"{survived}/{len(before_kill)}",
        "slowest call from the kill on (s)": round(worst, 3),
        "outcomes from the kill on": dict(traffic.count(since=killed)),
        "by_error": stats.by_error,
    }
    print("\nfailover (cluster):", report)
    assert worst < (1 + RETRIES) * TIMEOUT + SLACK, report
    assert hit_back.ended - promoted < bound, report
    assert survived == len(before_kill), report
    after = [x.key for x in acks if x.at > promoted]
    assert sum(reader.exists(key) for key in after) == len(after)
    # The coordinator still fans out: paraphrases of entries on every shard are served.
    served = sum(cache.check(q) is not None for q in list(paraphrases)[:20])
    assert served == 20, (served, cache.stats().by_error)


def test_cluster_primary_killed_replica_promoted(
    replicated: tuple[list[LocalEngine], list[LocalEngine]], index_name: str
) -> None:
    _scenario(replicated, index_name, CI)


@pytest.mark.soak
def test_cluster_failover_soak_with_shipped_back_off(
    replicated: tuple[list[LocalEngine], list[LocalEngine]], index_name: str
) -> None:
    _scenario(replicated, index_name, SOAK)
