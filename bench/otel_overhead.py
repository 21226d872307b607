"""What OpenTelemetry costs the cache: the import of opentelemetry-api, and per lookup.

Prints two tables.

1. Import time (``python -X importtime``, median of ``--imports`` fresh interpreters): the
   package as a whole, the part of it spent importing opentelemetry-api (the cumulative
   time of ``langchain_valkey_semcache._telemetry``, which imports nothing else new), and
   opentelemetry-api alone in an empty interpreter.
2. Lookup latency on one local engine (Engine A) for three set-ups, through the public
   API only: the cache with OpenTelemetry's no-op providers (the baseline), with no SDK
   configured (the API's proxies: what every user without an SDK gets),
   and the face with the SDK (batching span processor, metric reader). Three kinds of
   lookup: "skipped" (an empty prompt: no I/O, so the face's own cost), an exact repeat (one
   HMGET) and a semantic hit (embedding replayed + KNN). Set-ups run interleaved, in rounds;
   each cell is the median of the rounds' p50s (the machine is shared).

Run ``python bench/otel_overhead.py`` (about a minute) or with ``--quick``.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

sys.path.insert(0, str(Path(__file__).parent))
from _common import ReplayEmbeddings, near, pct, table, unit_rows

from langchain_valkey_semcache import ValkeySemanticCache
from langchain_valkey_semcache.engine import LocalEngine

DIMS = 384
Q, PARA = "What is semantic caching?", "What does semantic caching mean?"


def _importtime(code: str) -> dict[str, float]:
    """Cumulative import time (ms) of each module a fresh interpreter imports for ``code``."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    out = {}
    for line in proc.stderr.splitlines():
        m = re.match(r"import time:\s+\d+ \|\s+(\d+) \|\s*(\S+)$", line)
        if m:
            out[m.group(2)] = int(m.group(1)) / 1000.0
    return out


def import_rows(runs: int) -> list[tuple[str, str, str]]:
    package, telemetry, alone = [], [], []
    for _ in range(runs):
        times = _importtime("import langchain_valkey_semcache")
        package.append(times["langchain_valkey_semcache"])
        telemetry.append(times["langchain_valkey_semcache._telemetry"])
        times = _importtime("import opentelemetry.trace, opentelemetry.metrics")
        alone.append(times["opentelemetry.trace"] + times["opentelemetry.metrics"])
    med = statistics.median
    return [
        ("import langchain_valkey_semcache (whole package)", f"{med(package):.1f}", "100%"),
        (
            "  of which opentelemetry-api (_telemetry module)",
            f"{med(telemetry):.1f}",
            f"{100 * med(telemetry) / med(package):.1f}%",
        ),
        ("opentelemetry-api alone, empty interpreter", f"{med(alone):.1f}", "-"),
    ]


class _Drop(SpanExporter):
    """An exporter that discards: the SDK does all its work, nothing leaves the process."""

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return SpanExportResult.SUCCESS


def _caches(url: str, emb: ReplayEmbeddings) -> dict[str, ValkeySemanticCache]:
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(BatchSpanProcessor(_Drop()))
    sdk_meters = MeterProvider(metric_readers=[InMemoryMetricReader()])
    common: dict[str, Any] = {"url": url, "index_name": "otel_bench", "verifier": None}
    return {
        "no-op providers": ValkeySemanticCache(
            emb,
            tracer_provider=trace.NoOpTracerProvider(),
            meter_provider=metrics.NoOpMeterProvider(),
            **common,
        ),
        "no SDK (API proxies)": ValkeySemanticCache(emb, **common),
        "SDK (batch spans, metrics)": ValkeySemanticCache(
            emb, tracer_provider=tracer_provider, meter_provider=sdk_meters, **common
        ),
    }


def lookup_rows(url: str, n: int, rounds: int) -> list[tuple[str, ...]]:
    rng = np.random.default_rng(7)
    base = unit_rows(rng, 1, DIMS)
    emb = ReplayEmbeddings({Q: base[0], PARA: near(rng, base, 0.97)[0]})
    caches = _caches(url, emb)
    first = next(iter(caches.values()))
    first.drop_index()
    first.store(Q, "Reusing answers by meaning.")
    setups: dict[str, dict[str, Callable[[], Any]]] = {}
    for name, cache in caches.items():
        setups[name] = {k: (lambda c=cache, t=t: c.search(t)) for k, t in _KINDS.items()}
    for calls in setups.values():  # warm up; check each kind does what its name says
        assert calls["skipped"]().skipped and calls["exact hit"]().hit.exact
        assert not calls["semantic hit"]().hit.exact
    # p50 of each round, then the median over rounds: robust to a busy shared machine.
    p50s: dict[tuple[str, str], list[float]] = {}
    for _ in range(rounds):
        for name, calls in setups.items():
            for kind, call in calls.items():
                times = []
                for _ in range(n):
                    t = time.perf_counter_ns()
                    call()
                    times.append((time.perf_counter_ns() - t) / 1000.0)
                p50s.setdefault((name, kind), []).append(pct(times, 50))
    for cache in caches.values():
        cache.close()
    med = {key: statistics.median(values) for key, values in p50s.items()}
    bare_name = next(iter(setups))
    rows = []
    for name in setups:
        cells = [name, *(f"{med[(name, kind)]:.1f}" for kind in _KINDS)]
        added = med[(name, "skipped")] - med[(bare_name, "skipped")]
        cells.append("-" if name == bare_name else f"{added:+.1f}")
        rows.append(tuple(cells))
    return rows


_KINDS = {"skipped": "", "exact hit": Q, "semantic hit": PARA}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer samples (a smoke run)")
    parser.add_argument("--imports", type=int, default=7, help="interpreters per import row")
    args = parser.parse_args()
    runs = 3 if args.quick else args.imports
    n, rounds = (100, 2) if args.quick else (300, 11)
    print(f"OpenTelemetry overhead (python {sys.version.split()[0]})\n")
    print(f"Import time, median of {runs} fresh interpreters (python -X importtime):\n")
    print(table(("import", "ms", "share"), import_rows(runs)))
    with LocalEngine() as engine:
        rows = lookup_rows(engine.url, n, rounds)
    load = os.getloadavg()[0]
    print(
        f"\nLookup latency, microseconds: median over {rounds} interleaved rounds of each "
        f"round's p50 ({n} lookups a round); load average {load:.1f}. Last column: the face and "
        "its telemetry without I/O (skipped p50 minus the bare flow's).\n"
    )
    print(table(("set-up", *(f"{k} p50" for k in _KINDS), "added, no I/O"), rows))


if __name__ == "__main__":
    main()
