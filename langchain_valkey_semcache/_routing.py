"""Which client a command goes to when reads may be served by replicas.

With ``replica_urls`` the lookups' reads (the exact-repeat HMGET and the KNN FT.SEARCH) go to
the replicas in turn and everything else (writes, FT.INFO, FT.CREATE) to the primary. A
replica receives an entry a replication lag after the primary acknowledged it: a lookup in
between misses, it never serves another question's answer.
"""

from __future__ import annotations

import itertools
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
