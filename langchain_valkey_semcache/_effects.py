"""What a flow may ask its driver for: the effects, and the clock a flow reads.

A flow is a generator that yields these effects and receives their results (``_io``
performs them with a sync or an async client; a test feeds scripted replies). Errors of
an effect are thrown back into the flow at its ``yield``.
"""

from __future__ import annotations

import time
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from ._errors import SemanticCacheError

T = TypeVar("T")


@dataclass(frozen=True)
class Embed:
    """Effect: embed ``text``; the result is a sequence of floats."""

    text: str


@dataclass(frozen=True)
class EmbedMany:
    """Effect: embed ``texts`` in one batch; the result is a sequence of vectors."""

    texts: tuple[str, ...]


@dataclass(frozen=True)
class Run:
    """Effect: run commands in one round trip (a pipeline, no MULTI: cluster clients
    refuse transactions); the result is the list of replies."""

    commands: tuple[tuple[Any, ...], ...]


@dataclass(frozen=True)
class Scan:
    """Effect: the keys matching ``pattern`` on every primary; the result is a list[str]."""

    pattern: str


@dataclass(frozen=True)
class OnPrimaries:
    """Effect: run ``command`` on every primary of a cluster client, one by one; the result
    is a list with each node's reply or its :class:`SemanticCacheError`, or None for a
    client that is not a cluster client."""

    command: tuple[Any, ...]


@dataclass(frozen=True)
class Sleep:
    """Effect: wait ``seconds`` (a short, bounded wait; never on the lookup path)."""

    seconds: float


@dataclass(frozen=True)
class Verify:
    """Effect: may ``cached``'s answer answer ``query``? The result is True or False, or
    None when the cache has no verifier (then similarity alone decides). A verifier that
    fails is thrown into the flow as :class:`VerifierFailed`."""

    query: str
    cached: str
    similarity: float


Effect = Embed | EmbedMany | Run | Scan | Verify | OnPrimaries | Sleep
Flow = Generator[Effect, Any, T]


class VerifierFailed(SemanticCacheError):
    """The verifier raised (internal: a flow decides what that means; the cause is chained)."""


class Clock(Protocol):
    """Where a flow reads the time: injected, so that a test can make it jump."""

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back (intervals, durations)."""
        ...

    def wall(self) -> float:
        """Seconds since the epoch (entry expiry times, shared with other processes)."""
        ...


class SystemClock:
    """The real clocks: ``time.monotonic`` and ``time.time``."""

    def monotonic(self) -> float:
        return time.monotonic()

    def wall(self) -> float:
        return time.time()


SYSTEM_CLOCK = SystemClock()
