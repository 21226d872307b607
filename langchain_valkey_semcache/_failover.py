"""What a failover's errors mean for a client's connections, and what the cache does.

ElastiCache moves its primary endpoint (a DNS name) to the new primary after a failover,
but a connection pool keeps the sockets it opened to the old one. A planned failover
(test-failover, maintenance) turns that node into a replica of the new primary: reads
still work there, every write answers ``READONLY``, and nothing in the client drops those
sockets. A node that vanished without a reset leaves sockets that only time out. In both
cases the idle pooled connections are dropped, so the next command resolves and connects
again; connections in use by other threads or tasks are left to finish, and are dropped in
turn by the error they meet.
"""

from __future__ import annotations

import contextlib
from typing import Any

from ._errors import CacheUnavailableError, NotPrimaryError, SemanticCacheError


def drops_connections(err: SemanticCacheError) -> bool:
    """Whether ``err`` says the pooled connections lead to the wrong node or nowhere: a
    write to a demoted primary, a refused or timed-out connection."""
    return isinstance(err, CacheUnavailableError)


def backs_off(err: BaseException) -> bool:
    """Whether the cache should pause after ``err`` (``retry_after_seconds``). Not after
    ``READONLY``: it answers at once, reads still work, and the connections it came from
    are dropped already, so the next call reaches the new primary."""
    return isinstance(err, CacheUnavailableError) and not isinstance(err, NotPrimaryError)


def _pool(client: Any) -> Any:
    """The connection pool of a standalone client (cluster clients route and refresh their
    topology themselves, on MOVED and connection errors)."""
    return getattr(client, "connection_pool", None)


def reset_sync(client: Any, err: SemanticCacheError) -> None:
    """After ``err`` from a blocking client: drop its idle connections if it calls for it."""
    pool = _pool(client)
    if pool is not None and drops_connections(err):
        with contextlib.suppress(Exception):  # the error at hand is what the caller sees
            pool.disconnect(inuse_connections=False)


async def reset_async(client: Any, err: SemanticCacheError) -> None:
    """After ``err`` from an asyncio client: drop its idle connections if it calls for it."""
    pool = _pool(client)
    if pool is None or not drops_connections(err):
        return
    idle = getattr(pool, "_available_connections", None)
    with contextlib.suppress(Exception):
        if not isinstance(idle, list):
            await pool.disconnect(inuse_connections=False)
            return
        # Not the pool's own disconnect(): it closes the idle connections in tasks that run
        # later, after another task may have taken one from the pool (it then writes to a
        # closed writer). nowait closes each socket without yielding to the event loop.
        for connection in list(idle):
            await connection.disconnect(nowait=True)
