"""OpenTelemetry spans and metrics, observed at the cache's face from what the flows return.

Only ``opentelemetry-api`` is used: with no SDK configured every call is a no-op. What goes
into an attribute is chosen here, in one place, and never includes the prompt, the answer,
a tenant name or an entry key: a namespace appears as its digest (the TAG the entries
carry), outcomes as fixed words, errors as the exception's class name.

Metric names follow OpenTelemetry's semantic-convention style (lowercase dotted names under
one ``semcache.`` namespace, durations in seconds, ``error.type`` for error kinds); the
README lists them.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from opentelemetry import metrics, trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

from ._entry import CacheLookup, Timings
from ._stats import lookup_outcome
from ._version import __version__
from .names import (
    CANDIDATES,
    DB_SYSTEM,
    ENGINE,
    ENTRIES,
    ERROR,
    ERROR_TYPE,
    HIT,
    HIT_KIND,
    M_EMBEDDING_DURATION,
    M_LOOKUP_DURATION,
    M_LOOKUPS,
    M_REJECTIONS,
    M_SEARCH_DURATION,
    M_SIMILARITY,
    M_STORES,
    M_VERIFICATION_DURATION,
    MISS,
    NAMESPACE,
    NEAREST,
    OUTCOME,
    REJECTIONS,
    SEMANTIC_HIT,
    SIMILARITY,
    SKIP_REASON,
    SKIPPED,
    STORED,
    THRESHOLD,
)

SCOPE = "langchain_valkey_semcache"
SCOPE_VERSION = __version__

_SECONDS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_SIMILARITY = (0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.88, 0.9, 0.92, 0.94, 0.96, 0.98, 0.99, 1.0)


class Operation:
    """One observed operation: its span, and what is recorded when it ends."""

    def __init__(self, telemetry: Telemetry, span: Span, kind: str) -> None:
        self._t = telemetry
        self.span = span
        self.kind = kind
        self.error: str | None = None
        self._start = time.perf_counter()

    def set(self, name: str, value: Any) -> None:
        if value is not None:
            self.span.set_attribute(name, value)

    def _error(self, kind: str) -> None:
        self.error = kind
        self.span.set_attribute(ERROR_TYPE, kind)
        self.span.set_status(Status(StatusCode.ERROR, kind))

    def escaped(self, exc: BaseException) -> None:
        """An exception leaves the operation (``on_error="raise"``, clear, forget...)."""
        self._error(type(exc).__name__)
        attrs = {OUTCOME: ERROR, ERROR_TYPE: type(exc).__name__}
        if self.kind == "lookup":
            self.span.set_attribute(OUTCOME, ERROR)
            self._t.lookups.add(1, attrs)
            self._t.lookup_duration.record(time.perf_counter() - self._start, attrs)
        elif self.kind == "store":
            self._t.stores.add(1, attrs)

    def store_failed(self, exc: BaseException, entries: int = 1) -> None:
        """A store that failed open: ``entries`` counted as errors of its kind."""
        self._error(type(exc).__name__)
        self._t.stores.add(entries, {OUTCOME: ERROR, ERROR_TYPE: type(exc).__name__})

    def stored(self, written: int, skipped: int) -> None:
        """Entries written and entries not stored (too large, empty, backing off)."""
        if written:
            self._t.stores.add(written, {OUTCOME: STORED})
        if skipped:
            self._t.stores.add(skipped, {OUTCOME: SKIPPED})
        self.span.set_attribute(ENTRIES, written)

    def looked_up(self, result: CacheLookup) -> None:
        outcome = lookup_outcome(result)
        attrs: dict[str, str] = {OUTCOME: outcome}
        if result.error is not None:
            attrs[ERROR_TYPE] = result.error
            self._error(result.error)
        t = self._t
        t.lookups.add(1, attrs)
        t.lookup_duration.record(time.perf_counter() - self._start, attrs)
        if result.rejected:
            t.rejections.add(result.rejected)
        if outcome in (SEMANTIC_HIT, MISS):
            _record_timings(t, result)
        if outcome == SEMANTIC_HIT and result.hit is not None:
            t.similarity.record(result.hit.similarity, {OUTCOME: outcome})
        elif outcome == MISS and result.best_similarity is not None:
            t.similarity.record(result.best_similarity, {OUTCOME: outcome})
        span = self.span
        if not span.is_recording():
            return
        span.set_attribute(OUTCOME, outcome)
        span.set_attribute(HIT, result.hit is not None)
        if result.hit is not None:
            span.set_attribute(HIT_KIND, "exact" if result.hit.exact else "semantic")
            span.set_attribute(SIMILARITY, result.hit.similarity)
        self.set(NEAREST, result.best_similarity)
        self.set(THRESHOLD, result.threshold)
        span.set_attribute(CANDIDATES, result.candidates)
        span.set_attribute(REJECTIONS, result.rejected)
        self.set(SKIP_REASON, result.skipped)
        _timing_events(span, result.timings)


def _record_timings(t: Telemetry, result: CacheLookup) -> None:
    timings = result.timings
    t.embedding_duration.record(timings.embedding_ms / 1000.0)
    t.search_duration.record(timings.search_ms / 1000.0)
    if result.candidates:
        t.verification_duration.record(timings.verify_ms / 1000.0)


def _timing_events(span: Span, timings: Timings) -> None:
    for name, ms in (
        ("semcache.embedding", timings.embedding_ms),
        ("semcache.vector_search", timings.search_ms),
        ("semcache.verification", timings.verify_ms),
    ):
        if ms:
            span.add_event(name, {"semcache.duration_ms": round(ms, 3)})


class Telemetry:
    """The tracer and instruments of one provider pair (the global ones by default)."""

    def __init__(
        self,
        tracer_provider: trace.TracerProvider | None = None,
        meter_provider: metrics.MeterProvider | None = None,
    ) -> None:
        self.tracer = trace.get_tracer(SCOPE, SCOPE_VERSION, tracer_provider)
        meter = metrics.get_meter(SCOPE, SCOPE_VERSION, meter_provider)
        self.lookups = meter.create_counter(
            M_LOOKUPS, "{lookup}", "Lookups by outcome (exact_hit, semantic_hit, miss, skipped, "
            "error with error.type)",
        )  # fmt: skip
        self.rejections = meter.create_counter(
            M_REJECTIONS, "{candidate}", "Candidates above the threshold the verifier rejected"
        )
        self.stores = meter.create_counter(
            M_STORES, "{entry}", "Entries stored, skipped, or failed (error with error.type)"
        )

        def seconds(name: str, what: str) -> Any:
            return meter.create_histogram(
                name, "s", what, explicit_bucket_boundaries_advisory=_SECONDS
            )

        self.lookup_duration = seconds(M_LOOKUP_DURATION, "Duration of a lookup, by outcome")
        self.embedding_duration = seconds(M_EMBEDDING_DURATION, "Embedding the question")
        self.search_duration = seconds(M_SEARCH_DURATION, "The vector search (KNN)")
        self.verification_duration = seconds(
            M_VERIFICATION_DURATION, "Verifying the candidates above the threshold"
        )
        self.similarity = meter.create_histogram(
            M_SIMILARITY, "1", "Cosine similarity of served semantic hits and of the nearest "
            "candidate on misses (semcache.outcome tells which)",
            explicit_bucket_boundaries_advisory=_SIMILARITY,
        )  # fmt: skip

    @contextmanager
    def operation(
        self, name: str, kind: str, engine: str | None, namespace: str | None
    ) -> Iterator[Operation]:
        """A span around one cache operation (``kind``: lookup, store or admin); an
        exception leaving it is recorded by its class name, never its message."""
        attributes: dict[str, str] = {DB_SYSTEM: "valkey", ENGINE: engine or "unknown"}
        if namespace is not None:
            attributes[NAMESPACE] = namespace
        with self.tracer.start_as_current_span(
            f"semcache.{name}",
            kind=SpanKind.INTERNAL,
            attributes=attributes,
            record_exception=False,  # exception messages may quote what was asked
            set_status_on_exception=False,
        ) as span:
            op = Operation(self, span, kind)
            try:
                yield op
            except BaseException as exc:
                op.escaped(exc)
                raise


_DEFAULT: Telemetry | None = None


def default_telemetry() -> Telemetry:
    """The telemetry of the global providers (proxies until an SDK installs real ones)."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = Telemetry()
    return _DEFAULT
