"""Local Valkey clusters of the engine under test: 3 primaries, optionally one replica each."""

from __future__ import annotations

import time

import valkey

from langchain_valkey_semcache.engine import (
    CLUSTER_BUS_PORT_OFFSET,
    COORDINATOR_PORT_OFFSET,
    LocalEngine,
    free_port,
)

SLOTS = 16384


def cluster_port() -> int:
    """A free port whose cluster bus and coordinator ports are free too."""
    return free_port(0, CLUSTER_BUS_PORT_OFFSET, COORDINATOR_PORT_OFFSET)


def node_id(node: LocalEngine) -> str:
    reply = valkey.Valkey(port=node.port).execute_command("CLUSTER", "MYID")
    return reply.decode() if isinstance(reply, bytes) else str(reply)


def start_cluster(
    coordinator: bool, *, replicas: int = 0, args: tuple[str, ...] = (), shards: int = 3
) -> tuple[list[LocalEngine], list[LocalEngine]]:
    """``shards`` primaries owning all slots and ``replicas`` replicas of each, started and
    joined; returns (primaries, replicas) once the cluster says ok and every replica is in
    sync. ``args`` go to every node (e.g. a short ``--cluster-node-timeout``)."""
    node_args = ("--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", *args)
    module_args = ("--use-coordinator",) if coordinator else ()
    primaries: list[LocalEngine] = []
    followers: list[LocalEngine] = []
    try:
        for _ in range(shards):
            primaries.append(
                LocalEngine(port=cluster_port(), args=node_args, module_args=module_args).start()
            )
        for _ in range(shards * replicas):
            followers.append(
                LocalEngine(port=cluster_port(), args=node_args, module_args=module_args).start()
            )
        clients = [valkey.Valkey(port=n.port) for n in primaries]
        step = SLOTS // shards
        for i, client in enumerate(clients):
            last = SLOTS - 1 if i == shards - 1 else (i + 1) * step - 1
            client.execute_command("CLUSTER", "ADDSLOTSRANGE", i * step, last)
        for node in [*primaries[1:], *followers]:
            clients[0].execute_command("CLUSTER", "MEET", "127.0.0.1", node.port)
        everyone = [valkey.Valkey(port=n.port) for n in [*primaries, *followers]]
        deadline = time.monotonic() + 30
        while not all(
            b"cluster_state:ok" in c.execute_command("CLUSTER", "INFO") for c in everyone
        ):
            assert time.monotonic() < deadline, "the local cluster did not form"
            time.sleep(0.1)
        ids = [node_id(p) for p in primaries]
        for i, follower in enumerate(followers):
            client = valkey.Valkey(port=follower.port)
            while True:  # the follower must know the primary's id before it can follow it
                try:
                    client.execute_command("CLUSTER", "REPLICATE", ids[i % shards])
                    break
                except valkey.ResponseError:
                    assert time.monotonic() < deadline, "a replica never learned its primary"
                    time.sleep(0.1)
        for follower in followers:
            client = valkey.Valkey(port=follower.port)
            while client.execute_command("ROLE")[3] != b"connected":  # its full sync is done
                assert time.monotonic() < deadline, "a replica never synced"
                time.sleep(0.05)
        for client in everyone:  # every node's map lists the replicas (clients read it)
            while any(
                len(served) - 3 < replicas for served in client.execute_command("CLUSTER", "SLOTS")
            ):
                assert time.monotonic() < deadline, "the cluster map never listed the replicas"
                time.sleep(0.05)
    except BaseException:
        for node in [*primaries, *followers]:
            node.stop()
        raise
    return primaries, followers
