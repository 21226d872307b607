"""What each error means for the connections and the back-off (no server: pools never connect)."""

from __future__ import annotations

import socket

import pytest
import valkey
import valkey.asyncio as avalkey
import valkey.exceptions as vex

from langchain_valkey_semcache import _failover
from langchain_valkey_semcache import _protocol as proto
from langchain_valkey_semcache._errors import (
    CacheUnavailableError,
    ClusterDownError,
    NotPrimaryError,
    PrimaryDownError,
    ProtocolError,
    ServerLoadingError,
)


@pytest.mark.parametrize(
    ("err", "drops", "backs_off"),
    [
        (NotPrimaryError("x"), True, False),
        (CacheUnavailableError("x"), True, True),
        (ServerLoadingError("x"), True, True),
        (PrimaryDownError("x"), True, True),
        (ClusterDownError("x"), True, True),
        (ProtocolError("x"), False, False),
    ],
)
def test_rules(err: Exception, drops: bool, backs_off: bool) -> None:
    assert _failover.drops_connections(err) is drops  # type: ignore[arg-type]
    assert _failover.backs_off(err) is backs_off  # type: ignore[arg-type]


def test_readonly_reply_means_not_primary() -> None:
    err = proto.translate(vex.ReadOnlyError("You can't write against a read only replica."))
    assert isinstance(err, NotPrimaryError) and not _failover.backs_off(err)


class _Sock:
    """Stands for a connected socket: records its closing."""

    closed = False

    def shutdown(self, how: int) -> None:
        pass

    def close(self) -> None:
        self.closed = True


def test_sync_reset_closes_idle_connections_only() -> None:
    client = valkey.Valkey(host="127.0.0.1", port=1)
    pool = client.connection_pool
    idle, busy = pool.make_connection(), pool.make_connection()
    idle._sock, busy._sock = _Sock(), _Sock()  # type: ignore[assignment]
    sockets = idle._sock, busy._sock
    pool._available_connections.append(idle)
    pool._in_use_connections.add(busy)
    _failover.reset_sync(client, ProtocolError("x"))  # not about the connections
    assert idle._sock is not None
    _failover.reset_sync(client, NotPrimaryError("x"))
    assert idle._sock is None and sockets[0].closed
    assert busy._sock is not None and not sockets[1].closed  # another thread's: left to finish


async def test_async_reset_closes_idle_connections_at_once() -> None:
    client = avalkey.Valkey(host="127.0.0.1", port=1)
    pool = client.connection_pool
    idle = pool.make_connection()
    left, right = socket.socketpair()
    try:
        writer = _Writer(left)
        idle._reader, idle._writer = object(), writer  # type: ignore[assignment]
        pool._available_connections.append(idle)
        await _failover.reset_async(client, CacheUnavailableError("x"))
        assert not idle.is_connected and left.fileno() == -1
        # Closed without yielding to the loop: no other task can take it from the pool
        # half closed (the pool's own disconnect() waits, in tasks that run later).
        assert not writer.waited
    finally:
        left.close()
        right.close()


class _Writer:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.waited = False

    def close(self) -> None:
        self.sock.close()

    async def wait_closed(self) -> None:
        self.waited = True
