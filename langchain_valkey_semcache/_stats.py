"""The cache's one accounting: the counters behind ``stats()``, and the throttled error log.

A lookup ends in exactly one of ``names.LOOKUP_OUTCOMES``; a stored entry in one of
``names.STORE_OUTCOMES``. ``stats()`` and the OpenTelemetry metrics both count these same
outcomes, decided once by :func:`lookup_outcome` from the value the lookup flow returned.
"""

from __future__ import annotations

import logging
import math
import threading
from dataclasses import replace

from ._effects import Clock
from ._entry import CacheLookup, CacheStats
from ._errors import (
    CacheUnavailableError,
    ConfigurationError,
    IndexMismatchError,
    NoSearchModuleError,
)
from .names import ERROR, EXACT_HIT, MISS, SEMANTIC_HIT, SKIPPED, STORED

logger = logging.getLogger("langchain_valkey_semcache")


_LOG_WINDOW_SECONDS = 30.0
_MISCONFIGURED = (NoSearchModuleError, IndexMismatchError, ConfigurationError)
_SAFE_TO_LOG = (*_MISCONFIGURED, CacheUnavailableError)


def lookup_outcome(result: CacheLookup) -> str:
    """exact_hit, semantic_hit, miss, skipped or error: what one lookup ended as."""
    if result.error is not None:
        return ERROR
    if result.skipped is not None:
        return SKIPPED
    if result.hit is None:
        return MISS
    return EXACT_HIT if result.hit.exact else SEMANTIC_HIT


# CacheStats field counted per lookup outcome (exact hits are hits too).
_LOOKUP_FIELDS = {
    EXACT_HIT: ("hits", "exact_hits"),
    SEMANTIC_HIT: ("hits",),
    MISS: ("misses",),
    SKIPPED: ("skipped",),
    ERROR: ("errors",),
}
_STORE_FIELDS = {STORED: "stores", SKIPPED: "store_skipped", ERROR: "store_errors"}


class Counters:
    """Thread-safe counters of one cache (a snapshot is a :class:`CacheStats`)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stats = CacheStats()

    def _add(self, increments: dict[str, int], error: str | None = None, times: int = 1) -> None:
        with self._lock:
            s = self._stats
            by_error = dict(s.by_error)
            if error is not None:
                by_error[error] = by_error.get(error, 0) + times
            values = {k: getattr(s, k) + v for k, v in increments.items()}
            self._stats = replace(s, by_error=by_error, **values)

    def looked_up(self, result: CacheLookup) -> str:
        """Count one lookup by its outcome; returns the outcome."""
        outcome = lookup_outcome(result)
        counts = {"lookups": 1, "rejected": result.rejected}
        counts.update(dict.fromkeys(_LOOKUP_FIELDS[outcome], 1))
        self._add(counts, result.error)
        return outcome

    def stored(self, outcome: str, entries: int = 1, error: str | None = None) -> None:
        """Count ``entries`` stored, skipped, or failed with ``error`` (its class name)."""
        if entries:
            self._add({_STORE_FIELDS[outcome]: entries}, error, entries)

    def snapshot(self) -> CacheStats:
        with self._lock:
            return replace(self._stats, by_error=dict(self._stats.by_error))

    def reset(self) -> None:
        with self._lock:
            self._stats = CacheStats()


class ErrorLog:
    """Log the first error of a kind, then at most one summary per window."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self._state: dict[str, tuple[float, int]] = {}

    def report(self, err: BaseException, what: str) -> None:
        kind = type(err).__name__
        now = self.clock.monotonic()
        with self._lock:
            since, suppressed = self._state.get(kind, (-math.inf, 0))
            if now - since < _LOG_WINDOW_SECONDS:
                self._state[kind] = (since, suppressed + 1)
                return
            self._state[kind] = (now, 0)
        more = f" ({suppressed} more since the last report)" if suppressed else ""
        level = logging.ERROR if isinstance(err, _MISCONFIGURED) else logging.WARNING
        # Only messages we wrote ourselves: provider and reply texts may quote user prompts.
        cause = f" ({type(err.__cause__).__name__})" if err.__cause__ is not None else ""
        detail = f": {err}" if isinstance(err, _SAFE_TO_LOG) else cause
        logger.log(level, "semantic cache %s failed, continuing without it: %s%s%s",
                   what, kind, detail, more)  # fmt: skip
        logger.debug("semantic cache %s error detail: %r", what, err)
