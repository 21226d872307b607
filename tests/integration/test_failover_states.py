"""The states a node passes through in a failover or a restart, each met on a real server:
a write to a replica (READONLY), a node loading its dataset (LOADING), a replica cut from
its primary that refuses stale reads (MASTERDOWN), a cluster node that serves no slot
(CLUSTERDOWN). Each is a counted miss or skipped store under its own kind, in ``stats()``
and in the OpenTelemetry metrics (``error.type``), and none is a stuck state. READONLY runs
through both drivers (each drops its own pool); the states that only back off run through
one each, alternating, to keep CI short.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
import valkey

from langchain_valkey_semcache import ValkeySemanticCache
from langchain_valkey_semcache.engine import LocalEngine
from tests.cluster_nodes import cluster_port
from tests.conftest import Api
from tests.integration import test_telemetry
from tests.integration.test_telemetry import Otel
from tests.traffic import known_items, questions

KNOWN = 20
otel = test_telemetry.otel  # the spans and metrics fixture
REPLICATION = ("--repl-diskless-sync-delay", "0")


def _cache(url: str, index_name: str, otel: Otel, **kw: object) -> ValkeySemanticCache:
    emb, _ = questions(KNOWN)
    return ValkeySemanticCache(emb, url=url, index_name=index_name, verifier=None,
                               socket_timeout_seconds=0.5, tracer_provider=otel.tracer_provider,
                               meter_provider=otel.meter_provider, **kw)  # type: ignore[arg-type]  # fmt: skip


def _errors(otel: Otel, kind: str) -> float:
    return otel.count("semcache.lookups", semcache_outcome="error", error_type=kind) + otel.count(
        "semcache.stores", semcache_outcome="error", error_type=kind
    )


@pytest.fixture
def pair() -> Iterator[tuple[LocalEngine, LocalEngine]]:
    primary = LocalEngine(args=REPLICATION).start()
    replica = LocalEngine(args=(*REPLICATION, "--replicaof", "127.0.0.1", str(primary.port)))
    try:
        replica.start()
        client = valkey.Valkey(port=replica.port)
        deadline = time.monotonic() + 20
        while client.execute_command("ROLE")[3] != b"connected":
            assert time.monotonic() < deadline, "the replica never synced"
            time.sleep(0.02)
        yield primary, replica
    finally:
        replica.stop()
        primary.stop()


async def test_writes_to_a_replica_are_not_primary_errors_and_lookups_go_on(
    pair: tuple[LocalEngine, LocalEngine], index_name: str, otel: Otel, mode: str
) -> None:
    primary, replica = pair
    assert all(_cache(primary.url, index_name, otel).store_many(known_items(KNOWN)))
    valkey.Valkey(port=primary.port).execute_command("WAIT", 1, 5000)
    cache = _cache(replica.url, index_name, otel)  # what a demoted primary is
    api = Api(cache, mode)
    for i in range(5):
        assert await api.store(f"new {i}", "x") is None
        result = await api.search(f"like known {i}")  # never skipped: no back-off
        assert result.hit is not None and result.hit.answer == f"answer {i}", result
    assert cache.stats().by_error == {"NotPrimaryError": 5}
    assert _errors(otel, "NotPrimaryError") == 5


@pytest.mark.parametrize("mode", ["async"])
async def test_a_node_loading_its_dataset_is_a_server_loading_error(
    index_name: str, otel: Otel, mode: str
) -> None:
    slow_load = ("--enable-debug-command", "yes", "--key-load-delay", "500",
                 "--loading-process-events-interval-bytes", "1024")  # fmt: skip
    with LocalEngine(args=slow_load) as node:
        cache = _cache(node.url, index_name, otel, retry_after_seconds=0.05)
        api = Api(cache, mode)
        assert all(await api.store_many(known_items(KNOWN)))
        valkey.Valkey(port=node.port).execute_command("DEBUG", "POPULATE", 2000, "filler")
        reload = threading.Thread(
            target=valkey.Valkey(port=node.port).execute_command, args=("DEBUG", "RELOAD")
        )
        reload.start()
        try:
            time.sleep(0.1)
            result = await api.search("like known 1")
            assert result.hit is None and result.error == "ServerLoadingError", result
        finally:
            reload.join(timeout=60)
        time.sleep(0.1)
        result = await api.search("like known 1")  # loaded: served again
        assert result.hit is not None and result.hit.answer == "answer 1"
    assert cache.stats().by_error == {"ServerLoadingError": 1}
    assert _errors(otel, "ServerLoadingError") == 1


@pytest.mark.parametrize("mode", ["sync"])
async def test_a_replica_cut_from_its_primary_is_a_primary_down_error(
    pair: tuple[LocalEngine, LocalEngine], index_name: str, otel: Otel, mode: str
) -> None:
    primary, replica = pair
    assert all(_cache(primary.url, index_name, otel).store_many(known_items(KNOWN)))
    valkey.Valkey(port=primary.port).execute_command("WAIT", 1, 5000)
    valkey.Valkey(port=replica.port).config_set("replica-serve-stale-data", "no")
    cache = _cache(replica.url, index_name, otel)
    api = Api(cache, mode)
    assert (await api.search("like known 2")).hit is not None
    primary.stop()
    client = valkey.Valkey(port=replica.port)
    deadline = time.monotonic() + 20
    while client.info("replication")["master_link_status"] != "down":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    result = await api.search("like known 2")
    assert result.hit is None and result.error == "PrimaryDownError", result
    assert cache.stats().by_error == {"PrimaryDownError": 1}
    assert _errors(otel, "PrimaryDownError") == 1


@pytest.mark.parametrize("mode", ["async"])
async def test_a_cluster_node_serving_no_slot_is_a_cluster_down_error(
    index_name: str, otel: Otel, mode: str
) -> None:
    args = ("--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf")
    with LocalEngine(port=cluster_port(), args=args) as node:  # no slot assigned: down
        cache = _cache(node.url, index_name, otel)
        api = Api(cache, mode)
        result = await api.search("like known 3")
        assert result.hit is None and result.error == "ClusterDownError", result
        assert await api.store("new", "x") is None  # backing off: skipped, not an error
    assert cache.stats().by_error == {"ClusterDownError": 1}
    assert _errors(otel, "ClusterDownError") == 1
