"""Fault helpers on real engine processes: pause one, black-hole its port, read its counters."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import time
from collections.abc import Iterator
from typing import Any

import valkey

from langchain_valkey_semcache.engine import LocalEngine


@contextlib.contextmanager
def stopped(engine: LocalEngine) -> Iterator[None]:
    """SIGSTOP the engine: the kernel still completes TCP handshakes, nothing answers."""
    assert engine.process is not None
    os.kill(engine.process.pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(engine.process.pid, signal.SIGCONT)


@contextlib.contextmanager
def blackholed(port: int, probe_timeout: float = 0.2) -> Iterator[None]:
    """Fill the accept queue of a stopped engine (started with a small ``--tcp-backlog``):
    the kernel then drops new SYNs on 127.0.0.1:``port``, so a connect hangs until its
    timeout, as to an address that never answers. Proven with a probe connect."""
    fillers: list[socket.socket] = []
    try:
        for _ in range(64):
            s = socket.socket()
            s.settimeout(probe_timeout)
            try:
                s.connect(("127.0.0.1", port))
            except TimeoutError:
                s.close()
                break
            fillers.append(s)
        else:
            raise AssertionError("the accept queue never filled: is the engine stopped?")
        yield
    finally:
        for s in fillers:
            s.close()


def command_calls(client: valkey.Valkey) -> dict[str, int]:
    """Calls per command since the engine started (``INFO commandstats``, names lower-case)."""
    stats: dict[str, Any] = client.info("commandstats")
    return {k.removeprefix("cmdstat_").lower(): int(v["calls"]) for k, v in stats.items()}


def calls_between(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    """The commands run between two :func:`command_calls` snapshots (INFO itself left out)."""
    # INFO is the counting itself; ACL GETUSER is what valkey-search runs inside FT.SEARCH.
    diff = {k: after[k] - before.get(k, 0) for k in after if k not in ("info", "acl|getuser")}
    return {k: v for k, v in diff.items() if v}


class Clock:
    """``time.monotonic`` plus an offset the test advances: waits without sleeping."""

    def __init__(self) -> None:
        self.offset = 0.0

    def monotonic(self) -> float:
        return time.monotonic() + self.offset

    def wall(self) -> float:
        return time.time()

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)
