"""Failover of a standalone primary with one replica: the shape ``infra/`` deploys.

The cache reaches the primary through a forwarder that moves the way ElastiCache's primary
endpoint (a DNS name) does; threads and asyncio tasks keep looking up and storing all
along. First a planned failover (``FAILOVER``: the replica is promoted, the old primary
becomes its replica and keeps the cache's connections, as test-failover and maintenance
do), then a crash (the new primary ``SIGKILL``ed, the other node promoted, the endpoint
moved). Measured and asserted: no wrong answer ever; calls fail open within the socket
timeout; stores reach the new primary by themselves; hits come back within the back-off;
entries acknowledged before the crash are found after it. ``-m soak`` runs it longer with
the shipped defaults and prints the figures of docs/reliability.md.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest
import valkey

from langchain_valkey_semcache import ValkeySemanticCache
from langchain_valkey_semcache.engine import LocalEngine
from tests.forwarder import Forwarder
from tests.traffic import Ack, Traffic, first, known_items, questions

KNOWN = 40
# Diskless sync at once (the default waits 5 s for more replicas before it starts).
REPLICATION = ("--repl-diskless-sync-delay", "0")
SLACK = 1.0  # a call's scheduling on a loaded 2-core machine (shared), beyond its socket timeout


def replica_of(primary: LocalEngine) -> LocalEngine:
    """Start a replica of ``primary`` and wait for its full sync (ROLE says connected)."""
    replica = LocalEngine(args=(*REPLICATION, "--replicaof", "127.0.0.1", str(primary.port)))
    replica.start()
    wait_role(replica, b"slave", b"connected")
    return replica


def wait_role(
    node: LocalEngine, role: bytes, state: bytes | None = None, timeout: float = 20
) -> None:
    client = valkey.Valkey(port=node.port, socket_timeout=1)
    deadline = time.monotonic() + timeout
    while True:
        reply = client.execute_command("ROLE")
        if reply[0] == role and (state is None or reply[3] == state):
            return
        assert time.monotonic() < deadline, f"{node.port} stays {reply!r}, not {role!r} {state!r}"
        time.sleep(0.02)


def planned_switch(old: LocalEngine, new: LocalEngine) -> None:
    """What a planned failover does (as ``FAILOVER`` does, without its wait for the next
    replication tick): writes paused on the primary, the replica caught up and promoted,
    the old primary turned into its replica, writes resumed there (they now answer
    ``READONLY``). Client connections stay open all along."""
    primary, replica = valkey.Valkey(port=old.port), valkey.Valkey(port=new.port)
    primary.execute_command("CLIENT", "PAUSE", 2000, "WRITE")
    try:
        target = primary.info("replication")["master_repl_offset"]
        deadline = time.monotonic() + 5
        while replica.execute_command("ROLE")[4] < target:
            assert time.monotonic() < deadline, "the replica did not catch up"
            time.sleep(0.001)
        replica.execute_command("REPLICAOF", "NO", "ONE")
        primary.execute_command("REPLICAOF", "127.0.0.1", new.port)
    finally:
        primary.execute_command("CLIENT", "UNPAUSE")


def drivers(acks: list[Ack], after: float) -> set[str]:
    """Which drivers stored after ``after``: ``s`` (blocking threads), ``t`` (asyncio tasks)."""
    return {x.question.split()[1][0] for x in acks if x.at > after}


def present(node: LocalEngine, keys: list[str]) -> int:
    """How many of ``keys`` the node holds."""
    client = valkey.Valkey(port=node.port)
    pipe = client.pipeline(transaction=False)
    for key in keys:
        pipe.exists(key)
    return sum(pipe.execute())


@dataclass(frozen=True)
class Profile:
    """How long and with which settings the scenario runs."""

    timeout: float  # socket_timeout_seconds
    back_off: float  # retry_after_seconds
    steady: float  # seconds of traffic after each switch
    threads: int
    tasks: int


CI = Profile(timeout=0.5, back_off=1.0, steady=2.0, threads=3, tasks=8)
SOAK = Profile(timeout=0.5, back_off=5.0, steady=20.0, threads=4, tasks=16)  # shipped defaults


@pytest.fixture
def pair() -> Iterator[tuple[LocalEngine, LocalEngine]]:
    primary = LocalEngine(args=REPLICATION).start()
    try:
        replica = replica_of(primary)
    except BaseException:
        primary.stop()
        raise
    yield primary, replica
    replica.stop()
    primary.stop()


def _scenario(pair: tuple[LocalEngine, LocalEngine], index_name: str, p: Profile) -> None:
    a, b = pair
    emb, paraphrases = questions(KNOWN)
    with Forwarder(a.port) as endpoint:
        cache = ValkeySemanticCache(emb, url=endpoint.url, index_name=index_name, verifier=None,
                                    socket_timeout_seconds=p.timeout,
                                    retry_after_seconds=p.back_off)  # fmt: skip
        assert all(cache.store_many(known_items(KNOWN)))
        assert valkey.Valkey(port=a.port).execute_command("WAIT", 1, 5000) == 1
        traffic = Traffic(cache, paraphrases, threads=p.threads, tasks=p.tasks)
        with traffic:
            assert traffic.wait_until(lambda calls, acks: len(acks) >= 50, 30), "no traffic"

            # 1. Planned failover: b promoted, a its replica, the cache's sockets kept on a.
            planned = time.monotonic()
            planned_switch(a, b)
            kept = endpoint.repoint(b.port, old="keep")
            switched = time.monotonic()
            assert traffic.wait_until(
                lambda calls, acks: (
                    sum(x.at > switched for x in acks) >= 50
                    and drivers(acks, switched) == {"s", "t"}
                ),  # threads and tasks alike
                10 * p.steady,
            ), f"stores never reached the new primary: {traffic.count(since=switched)}"
            time.sleep(p.steady)
            calls, acks = traffic.snapshot()
            first_store = first(calls, "store", "stored", after=switched)
            assert first_store is not None
            after_switch = [x.key for x in acks if x.at > switched]
            assert present(b, after_switch) == len(after_switch)  # on the new primary
            planned_errors = traffic.count(since=planned)
            killed = time.monotonic()

            # 2. Crash: b SIGKILLed, a promoted, the endpoint moved, b's sockets gone.
            assert b.process is not None
            b.process.kill()
            b.process.wait()
            valkey.Valkey(port=a.port).execute_command("REPLICAOF", "NO", "ONE")
            wait_role(a, b"master")
            endpoint.repoint(a.port, old="cut")
            promoted = time.monotonic()
            bound = p.back_off + p.timeout + SLACK
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
    worst = max(c.seconds for c in calls if c.started >= planned)
    before_kill = [x.key for x in acks if x.at < killed]
    survived = present(a, before_kill)
    after_promotion = [x.key for x in acks if x.at > promoted]
    report = {
        "planned: connections kept on the old primary": kept,
        "planned: first store on the new primary (s after the switch)": round(
            first_store.ended - switched, 3
        ),
        "before the failover": dict(traffic.count(until=planned)),
        "planned: outcomes from the failover to the crash": dict(planned_errors),
        "crash: miss window, last hit to first hit (s)": round(hit_back.ended - last_hit, 3),
        "crash: first hit after the promotion (s)": round(hit_back.ended - promoted, 3),
        "crash: acknowledged entries found after it": f"{survived}/{len(before_kill)}",
        "slowest call from the failover on (s)": round(worst, 3),
        "by_error": stats.by_error,
    }
    print("\nfailover (standalone):", report)

    # Planned failover: READONLY is its own kind, never a ProtocolError, never stuck.
    assert stats.by_error.get("NotPrimaryError", 0) >= 1, stats.by_error
    assert "ProtocolError" not in stats.by_error, stats.by_error
    assert first_store.ended - switched < p.timeout + SLACK, report
    # Every call failed open within the socket timeout (plus scheduling), none raised.
    assert worst < p.timeout + SLACK, report
    # Hits came back within the back-off after the promotion, stores too.
    assert hit_back.ended - promoted < bound, report
    assert present(a, after_promotion) == len(after_promotion)
    # Asynchronous replication may lose the last writes before a crash; here the replica
    # kept up (a loopback link, no lag), so everything acknowledged survived.
    assert survived == len(before_kill), report
    assert stats.hits > 0 and stats.stores > 0


def test_standalone_planned_then_crash_failover(
    pair: tuple[LocalEngine, LocalEngine], index_name: str
) -> None:
    _scenario(pair, index_name, CI)


@pytest.mark.soak
def test_standalone_failover_soak_with_shipped_defaults(
    pair: tuple[LocalEngine, LocalEngine], index_name: str
) -> None:
    _scenario(pair, index_name, SOAK)


def test_endpoint_moved_away_from_a_silent_node_costs_one_timeout(index_name: str) -> None:
    """The old primary vanished without a reset (its sockets only go silent) and the endpoint
    moved to a new node: the first call times out, the cache drops the pool's other idle
    connections with it, and the next call after the back-off works on the new node. Kept,
    each pooled connection would time out in turn, one back-off apart."""
    emb, _ = questions(KNOWN)
    timeout, back_off, pooled = 0.3, 0.3, 6
    with LocalEngine() as old, LocalEngine() as new, Forwarder(old.port) as endpoint:
        cache = ValkeySemanticCache(emb, url=endpoint.url, index_name=index_name, verifier=None,
                                    socket_timeout_seconds=timeout,
                                    retry_after_seconds=back_off)  # fmt: skip
        cache.store_many(known_items(KNOWN))
        with ThreadPoolExecutor(pooled) as pool:  # several connections in the pool
            assert all(pool.map(lambda i: cache.check(f"known {i % KNOWN}") is not None, range(60)))
        assert endpoint.repoint(new.port, old="freeze") >= 2
        started = time.monotonic()
        assert cache.store("after the move", "fresh") is None  # meets a silent socket
        time.sleep(back_off + 0.05)
        with ThreadPoolExecutor(pooled) as pool:  # as many calls at once as before the move
            stored = list(pool.map(lambda i: cache.store(f"after {i}", "x"), range(3 * pooled)))
        assert all(stored), cache.stats()
        print(f"\nsilent node: stores back {time.monotonic() - started:.2f} s after the move")
    assert cache.stats().by_error == {"CacheUnavailableError": 1}, cache.stats()
