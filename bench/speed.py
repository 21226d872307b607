"""Lookup speed and recall through LangChain's ``lookup``, on RediSearch and valkey-search.

``make bench`` runs this (about 17 minutes on a quiet 2-core VM, most of it the engines' HNSW
insertion; ``--quick`` is a smoke run). Both
engines start side by side and get the same vectors; lookups alternate between them pass by
pass so that load on the shared machine hits both alike. Per engine and size it measures:

- ``lookup(prompt, llm_string)`` p50/p99 at the shipped defaults (guards on, EF_RUNTIME
  fitted to the index size): semantic hit, miss, exact repeat; the guards' share (the same
  hits with ``verifier=None``); recall@1 of the served answer against exact search;
- EF_RUNTIME sweep (recall@1, p50) on synthetic near-duplicates and on real MiniLM
  question embeddings; the evidence for the fitted EF_RUNTIME;
- ``store_many`` warm-up until searchable (entries/s) and memory per entry;
- 32 ``alookup`` tasks on one cache against sequential ``lookup``;
- langchain-redis (RediSearch only) on the same vectors, in ``.venv-bench``.

Embedding time is excluded (vectors replay from a table and the time inside is subtracted).
"""

from __future__ import annotations

import argparse
import os
import platform
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
import _engines
import _report
import _workload as w
from _common import near, unit_rows
from _real import minilm_questions

from langchain_valkey_semcache import ValkeySemanticCache

NEAR_COS = 0.97
CONCURRENCY = 32


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


@dataclass
class Side:
    """One engine with its caches (shipped defaults) and replaying embeddings per width."""

    choice: _engines.EngineChoice
    url: str
    caches: dict[int, ValkeySemanticCache] = field(default_factory=dict)
    embs: dict[int, w.Replay] = field(default_factory=dict)
    base_mem: int = 0


def lookups(side: Side, dims: int, texts: list[str]) -> w.Timed:
    return w.time_cache(side.caches[dims], side.embs[dims], texts)


def measure_size(
    sides: list[Side], dims: int, n: int, stored: np.ndarray, args: argparse.Namespace, rep: Any
) -> None:
    rng = np.random.default_rng(n + dims)
    picks = rng.choice(n, size=args.queries, replace=False)
    hits, misses = near(rng, stored[picks], NEAR_COS), unit_rows(rng, args.queries, dims)
    exact = w.exact_nearest(stored[:n], hits)
    rep.queries[(n, dims)] = (hits, misses)
    hit_texts = [w.query_prompt("near", n, j) for j in range(args.queries)]
    miss_texts = [w.query_prompt("far", n, j) for j in range(args.queries)]
    repeat_texts = [w.stored_prompt(int(i)) for i in picks]
    for side in sides:
        side.embs[dims].extra |= dict(zip(hit_texts, hits, strict=True))
        side.embs[dims].extra |= dict(zip(miss_texts, misses, strict=True))
    kinds = (("hit", hit_texts), ("miss", miss_texts), ("exact repeat", repeat_texts))
    for p in range(args.passes):  # alternate engines pass by pass
        for side in sides:
            label = side.choice.label
            ef = side.caches[dims].ef_runtime_in_force
            for kind, texts in kinds:
                log(f"{label}: pass {p + 1} {kind} n={n:,} dims={dims}")
                t = lookups(side, dims, texts)
                r = w.recall(t.got, exact, stored, hits) if kind == "hit" else None
                rep.lookup(label, n, dims, kind, p, t.ms, r, ef)
            # the guards' share: the same hits without a verifier
            bare = w.make_cache(side.url, side.embs[dims], f"speed_{dims}_{n}", dims, verifier=None)
            t = w.time_cache(bare, side.embs[dims], hit_texts)
            rep.lookup(label, n, dims, "hit, verifier=None", p, t.ms, None, ef)
            bare.close()
    sample = hit_texts[: args.sweep_queries]
    for side in sides:
        for ef in args.ef_values:
            probe = w.make_cache(
                side.url,
                side.embs[dims],
                f"speed_{dims}_{n}",
                dims,
                verifier=None,
                hnsw_ef_runtime=ef,
            )
            t = w.time_cache(probe, side.embs[dims], sample)
            r = w.recall(t.got, exact[: len(sample)], stored, hits[: len(sample)])
            rep.sweep(side.choice.label, "synthetic near-dup", n, dims, ef, r, t.ms)
            probe.close()


def concurrency(side: Side, dims: int, texts: list[str], rep: Any) -> None:
    cache = side.caches[dims]
    total = max(len(texts) * 4, 800)
    work = [texts[i % len(texts)] for i in range(total)]
    start = time.perf_counter()
    for text in work:
        cache.lookup(text, w.LLM_STRING)
    base = total / (time.perf_counter() - start)
    rep.concurrency(side.choice.label, "lookup, sequential", base, base)

    async def lookup(text: str) -> Any:
        return await cache.alookup(text, w.LLM_STRING)

    for tasks in (1, CONCURRENCY):
        rate = w.tasks_rate(cache, lookup, work, tasks)
        rep.concurrency(side.choice.label, f"alookup, {tasks} task(s)", rate, base)


def prepare(sides: list[Side], dims: int, n: int, stored: np.ndarray, keep: bool, rep: Any) -> None:
    """One index per size and width; an index kept by an earlier run (``--keep``) with the
    same ``n`` documents is reused (vectors are seeded, so they are the same)."""
    name = f"speed_{dims}_{n}"
    for side in sides:
        emb = side.embs[dims] = w.Replay(stored[:n])
        for i in range(n):
            emb.index[w.stored_prompt(i)] = i
        reuse = keep and w.indexed_or_none(side.url, name) == n
        if not reuse:
            w.make_cache(side.url, emb, name, dims).drop_index()
        side.caches[dims] = w.make_cache(side.url, emb, name, dims)
        if reuse:
            fixed = w.respell_kept(side.caches[dims], n)
            w.wait_indexed(side.url, name, n)
            rep.notes.append(
                f"{side.choice.label}: {name} reused from an earlier run ({n:,} entries, "
                f"{fixed:,} re-stored under the current spelling)"
            )
            continue
        log(f"{side.choice.label}: store_many to {n:,} x {dims}-d")
        before, cpu = _engines.used_memory(side.url), _engines.cpu_seconds(side.url)
        seconds = w.fill(side.url, side.caches[dims], emb, 0, n)
        grown = _engines.used_memory(side.url) - before
        cpu = _engines.cpu_seconds(side.url) - cpu
        rep.warmup(side.choice.label, 0, n, dims, seconds, grown, cpu)


def synthetic(sides: list[Side], args: argparse.Namespace, rep: Any) -> None:
    for dims in args.dims:
        stored = unit_rows(np.random.default_rng(dims), max(args.sizes), dims)
        for n in sorted(args.sizes):
            prepare(sides, dims, n, stored, args.keep, rep)
            measure_size(sides, dims, n, stored, args, rep)
            if args.concurrency and n == max(args.sizes):
                texts = [w.query_prompt("near", n, j) for j in range(args.queries)]
                for side in sides:
                    log(f"{side.choice.label}: concurrency at {n:,} x {dims}-d")
                    concurrency(side, dims, texts, rep)
                args.concurrency = False  # once, at the first width's largest size
            for side in sides:
                if not args.keep:
                    side.caches[dims].drop_index()
                side.caches[dims].close()
        if args.compare and sides[0].choice.module == "redisearch":
            rep.manifest(args, dims, stored)


def real(sides: list[Side], args: argparse.Namespace, rep: Any) -> None:
    vectors = minilm_questions(Path(args.out), args.real_limit)
    if vectors is None:
        rep.notes.append("real embeddings NOT RUN: no shared/data/dev_stream.jsonl")
        return
    split = int(len(vectors) * 0.7)
    stored, queries = vectors[:split], vectors[split:]
    exact = w.exact_nearest(stored, queries)
    texts = [w.query_prompt("real", 0, j) for j in range(len(queries))]
    dims = stored.shape[1]
    for side in sides:
        emb = w.Replay(stored)
        emb.extra = dict(zip(texts, queries, strict=True))
        name = "speed_real"
        w.make_cache(side.url, emb, name, dims).drop_index()
        cache = w.make_cache(side.url, emb, name, dims)
        w.fill(side.url, cache, emb, 0, split)
        for ef in [None, *args.ef_values]:
            # threshold 0: every query is served its best candidate, so recall@1 covers all
            probe = w.make_cache(
                side.url, emb, name, dims, verifier=None, hnsw_ef_runtime=ef,
                similarity_threshold=0.0,
            )  # fmt: skip
            t = w.time_cache(probe, emb, texts)
            r = w.recall(t.got, exact, stored, queries)
            label = f"fitted ({probe.ef_runtime_in_force})" if ef is None else ef
            rep.sweep(side.choice.label, "MiniLM dev questions", split, dims, label, r, t.ms)
            probe.close()
        cache.drop_index()
        cache.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="smoke run (a minute)")
    parser.add_argument("--engines", nargs="+", default=["redisearch", "valkey-search"])
    parser.add_argument("--valkey-search", help="path to valkey-search's libsearch.so")
    parser.add_argument("--sizes", type=int, nargs="+")
    parser.add_argument("--dims", type=int, nargs="+")
    parser.add_argument("--queries", type=int)
    parser.add_argument("--sweep-queries", type=int)
    parser.add_argument("--passes", type=int, default=2, help="timed passes per engine")
    parser.add_argument("--ef-values", type=int, nargs="+")
    parser.add_argument("--real-limit", type=int, default=100_000)
    parser.add_argument("--no-real", dest="real", action="store_false")
    parser.add_argument("--no-compare", dest="compare", action="store_false")
    parser.add_argument("--no-concurrency", dest="concurrency", action="store_false")
    parser.add_argument("--keep", action="store_true", help="keep the indexes (with --attach)")
    parser.add_argument(
        "--attach", nargs="+", metavar="URL", help="running servers, one per --engines entry"
    )
    parser.add_argument("--compare-python", default=str(_report.COMPARE_PYTHON))
    parser.add_argument("--out", default=str(Path(__file__).parent / "out"))
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the engines on kill
    defaults = {
        "sizes": [1_000] if args.quick else [10_000, 100_000],
        "dims": [64] if args.quick else [384, 1024],
        "queries": 60 if args.quick else 300,
        "sweep_queries": 60 if args.quick else 300,
        "ef_values": [10, 40] if args.quick else [10, 20, 40, 80, 150, 250, 400, 800],
    }
    for name, value in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    if args.quick:
        args.real_limit = min(args.real_limit, 300)
    Path(args.out).mkdir(parents=True, exist_ok=True)
    choices = _engines.choices(args.engines, args.valkey_search)
    load, started = os.getloadavg(), time.perf_counter()
    rep = _report.Report()
    engines = []
    try:
        sides = []
        for i, choice in enumerate(choices):
            if args.attach:
                sides.append(Side(choice, args.attach[i]))
                continue
            engine = _engines.start(choice)
            engines.append(engine)
            sides.append(Side(choice, engine.url))
        synthetic(sides, args, rep)
        if args.real:
            real(sides, args, rep)
        if args.compare and sides[0].choice.module == "redisearch":
            rep.competitors(args, sides[0].url)
    finally:  # print what was measured even when a section failed
        for engine in engines:
            engine.stop()
        header = (
            f"## bench/speed.py: {platform.node()} ({os.cpu_count()} cores), Python "
            f"{platform.python_version()}, loopback; load average {load[0]:.2f} at start, "
            f"{os.getloadavg()[0]:.2f} at end; {(time.perf_counter() - started) / 60:.1f} min"
        )
        rep.print(header, [c.label for c in choices], args)


if __name__ == "__main__":
    main()
