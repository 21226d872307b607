"""Which client or node a command goes to when reads may be served by replicas.

Standalone, with ``replica_urls``: the lookups' reads (the exact-repeat HMGET and the KNN
FT.SEARCH) go to the replicas in turn, everything else (writes, FT.INFO, FT.CREATE) to the
primary. Cluster mode follows the cluster client's own ``read_from_replicas``: it spreads
HMGET over each slot's primary and replicas, and the KNN goes to any node of the cluster
(valkey-search's coordinator fans out from a replica as from a primary). A replica receives
an entry a replication lag after the primary acknowledged it: a lookup in between misses, it
never serves another question's answer.
"""

from __future__ import annotations

import itertools
import random
import threading
from collections.abc import Sequence
from typing import Any, Generic, TypeVar

from . import _protocol as proto

T = TypeVar("T")


def reads_only(commands: Sequence[Sequence[Any]]) -> bool:
    """True when every command is a lookup's read (a replica may answer it)."""
    return bool(commands) and all(proto.is_lookup_read(c) for c in commands)


def target(primary: Any, reader: Any, commands: Sequence[Sequence[Any]]) -> Any:
    """The client for ``commands``: ``reader`` (a replica's) for reads, else ``primary``."""
    return reader if reader is not None and reads_only(commands) else primary


def keyless_node(client: Any, command: Sequence[Any]) -> Any:
    """The node of a cluster client for a command that names no key: any node for a
    lookup's KNN when the client reads from replicas, else its default node."""
    if proto.is_lookup_read(command) and getattr(client, "read_from_replicas", False):
        nodes = client.get_nodes()
        if nodes:
            return random.choice(nodes)
    return client.get_default_node()


class RoundRobin(Generic[T]):
    """The replicas' clients, one after the other (thread-safe); None when there are none."""

    def __init__(self, items: Sequence[T]) -> None:
        self._items = list(items)
        self._next = itertools.cycle(self._items) if self._items else None
        self._lock = threading.Lock()

    def __iter__(self) -> Any:
        return iter(self._items)

    def pick(self) -> T | None:
        if self._next is None:
            return None
        with self._lock:
            return next(self._next)
