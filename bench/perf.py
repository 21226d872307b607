"""Performance of ValkeySemanticCache in one run on one local engine, with ratios.

Measures, side by side against the same engine process:

- lookup overhead without the embedding call (hit, miss, exact repeat), p50/p99, per size
  and vector width;
- recall@1 of the HNSW settings against exact search (numpy), on synthetic near-duplicates
  and on real all-MiniLM-L6-v2 embeddings of ``/work/shared/data/dev_stream.jsonl``; an
  EF_RUNTIME / M trade-off table;
- bulk warm-up throughput of ``store_many`` and memory per entry (``INFO memory``);
- lookups per second with 32 async tasks on one connection pool;
- the same lookups through langchain-redis and GPTCache (a subprocess in the comparison
  virtualenv, see ``bench/requirements-compare.txt``) and a numpy brute-force floor.

Overhead is a lookup's wall time minus the time spent inside the embedding call, for every
system alike (each gets the same precomputed vectors through a replaying embedding).
Run ``python bench/perf.py`` (a quarter of an hour, one engine) or ``python bench/perf.py --quick``.
``make bench`` runs ``bench/speed.py`` instead (both engines, through LangChain's ``lookup``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import valkey
from langchain_core.embeddings import Embeddings

sys.path.insert(0, str(Path(__file__).parent))
import _workload as w
from _common import near, pct, table, unit_rows

from langchain_valkey_semcache import CacheConfig, ValkeySemanticCache
from langchain_valkey_semcache import normalize_prompt as normalize
from langchain_valkey_semcache.engine import LocalEngine

ROOT = Path(__file__).resolve().parent.parent
DATA_CANDIDATES = (
    ROOT.parent / "shared" / "data" / "dev_stream.jsonl",
    Path("/work/shared/data/dev_stream.jsonl"),
)
COMPARE_PYTHON = ROOT / ".venv-bench" / "bin" / "python"
THRESHOLD = 0.9
NEAR_COS = 0.97
WARM = 20
FILL_BATCH = 1000
CONCURRENCY = 32


class TimedReplay(w.Replay):
    """Replays precomputed vectors and adds up the time spent inside the embedding call.

    ``s{i}`` is row ``i`` of ``stored``; any other text is looked up in ``extra``.
    """

    def row(self, text: str) -> int:
        return int(text[1:])


@dataclass
class Report:
    lookups: list[tuple[Any, ...]] = field(default_factory=list)
    ours: dict[tuple[int, int, str], float] = field(default_factory=dict)
    compare: list[tuple[Any, ...]] = field(default_factory=list)
    warmup: list[tuple[Any, ...]] = field(default_factory=list)
    recall: list[tuple[Any, ...]] = field(default_factory=list)
    tradeoff: list[tuple[Any, ...]] = field(default_factory=list)
    concurrency: list[tuple[Any, ...]] = field(default_factory=list)
    targets: list[tuple[Any, ...]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    facts: dict[str, float] = field(default_factory=dict)


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def used_memory(admin: valkey.Valkey) -> int:
    return int(admin.info("memory")["used_memory"])


def exact_best(stored: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """Cosine similarity of each query's exact nearest stored vector (float32, unit rows)."""
    best = np.full(len(queries), -2.0, dtype=np.float32)
    for lo in range(0, len(stored), 20_000):
        block = queries @ stored[lo : lo + 20_000].T
        best = np.maximum(best, block.max(axis=1))
    return best


def found(got: Sequence[float | None], exact: np.ndarray) -> float:
    """recall@1: the share of lookups whose best candidate is as near as the exact one."""
    ok = [g is not None and g >= float(e) - 1e-4 for g, e in zip(got, exact, strict=True)]
    return sum(ok) / len(ok)


def time_lookups(
    cache: ValkeySemanticCache, emb: TimedReplay, texts: Sequence[str]
) -> tuple[list[float], list[float | None], float]:
    """Per-lookup overhead in ms, best similarities, share served."""
    for text in texts[:WARM]:
        cache.search(text)
    overhead: list[float] = []
    best: list[float | None] = []
    served = 0
    for text in texts:
        emb.inside = 0.0
        start = time.perf_counter()
        result = cache.search(text)
        overhead.append((time.perf_counter() - start - emb.inside) * 1000.0)
        best.append(1.0 if result.hit and result.hit.exact else result.best_similarity)
        served += result.hit is not None
        if result.error:
            raise RuntimeError(f"lookup failed: {result.error}")
    return overhead, best, served / len(texts)


def fill(cache: ValkeySemanticCache, lo: int, hi: int) -> float:
    """store_many entries s{lo}..s{hi-1}; returns the seconds taken."""
    start = time.perf_counter()
    for a in range(lo, hi, FILL_BATCH):
        items = [(f"s{i}", f"answer {i}") for i in range(a, min(hi, a + FILL_BATCH))]
        keys = cache.store_many(items)
        if any(k is None for k in keys):
            raise RuntimeError("store_many dropped entries")
    return time.perf_counter() - start


def make_cache(url: str, emb: Embeddings, name: str, dims: int, **kw: Any) -> ValkeySemanticCache:
    return ValkeySemanticCache(
        emb,
        url=url,
        index_name=name,
        dims=dims,
        on_error="raise",
        socket_timeout_seconds=10.0,  # FT.INFO on a big index under load can take > 0.5 s
        similarity_threshold=THRESHOLD,
        # Synthetic names ("s12", "h12") would trip the guards' names-with-digits check;
        # the guards cost microseconds and are measured in bench/replay.py.
        verifier=None,
        **kw,
    )


def ms(value: float) -> str:
    return f"{value:.3f}" if value < 10 else f"{value:.1f}"


# -- synthetic vectors: overhead, recall, warm-up, memory ------------------------------------


def synthetic(
    args: argparse.Namespace,
    url: str,
    admin: valkey.Valkey,
    rep: Report,
    manifest: list[dict[str, Any]],
) -> None:
    out = Path(args.out)
    for dims in args.dims:
        rng = np.random.default_rng(dims)
        top = max(args.sizes)
        stored = unit_rows(rng, top, dims)
        stored_path = out / f"stored_{dims}.npy"
        if args.compare:
            np.save(stored_path, stored)
        emb = TimedReplay(stored)
        name = f"perf_{dims}"
        cache = make_cache(url, emb, name, dims, hnsw_ef_runtime=args.ef_runtime)
        cache.drop_index()
        cache = make_cache(url, emb, name, dims, hnsw_ef_runtime=args.ef_runtime)
        base_mem, filled, fill_s = used_memory(admin), 0, 0.0
        for n in sorted(args.sizes):
            log(f"fill {name} to {n:,} entries")
            fill_s += fill(cache, filled, n)
            filled = n
            mem = (used_memory(admin) - base_mem) / n
            rate = n / fill_s
            rep.warmup.append(
                (n, dims, f"{rate:,.0f}", f"{mem / 1024:.2f}", f"{dims * 4 / 1024:.2f}")
            )
            rep.facts[f"fill_{n}_{dims}"] = rate
            picks = rng.choice(n, size=args.queries, replace=False)
            hits = near(rng, stored[picks], NEAR_COS)
            misses = unit_rows(rng, args.queries, dims)
            for j in range(args.queries):
                emb.extra[f"h{n}_{j}"] = hits[j]
                emb.extra[f"m{n}_{j}"] = misses[j]
            exact_hit = exact_best(stored[:n], hits)
            exact_miss = exact_best(stored[:n], misses)
            kinds: list[tuple[str, list[str], np.ndarray | None]] = [
                ("hit", [f"h{n}_{j}" for j in range(args.queries)], exact_hit),
                ("miss", [f"m{n}_{j}" for j in range(args.queries)], exact_miss),
                ("exact repeat", [f"s{i}" for i in picks], None),
            ]
            for kind, texts, exact in kinds:
                log(f"lookups {kind} n={n:,} dims={dims}")
                overhead, best, served = time_lookups(cache, emb, texts)
                p50, p99 = pct(overhead, 50), pct(overhead, 99)
                recall = f"{found(best, exact):.3f}" if exact is not None else "-"
                rep.ours[(n, dims, kind)] = p50
                rep.facts[f"p99_{n}_{dims}_{kind}"] = p99
                if exact is not None:
                    rep.facts[f"recall_{n}_{dims}_{kind}"] = found(best, exact)
                rep.lookups.append(
                    (
                        n,
                        dims,
                        kind,
                        ms(p50),
                        ms(p99),
                        ms(sum(overhead) / len(overhead)),
                        f"{served:.1%}",
                        recall,
                    )
                )
            numpy_floor(stored[:n], hits, misses, n, dims, rep)
            if args.compare:
                hit_path, miss_path = out / f"hit_{n}_{dims}.npy", out / f"miss_{n}_{dims}.npy"
                np.save(hit_path, hits)
                np.save(miss_path, misses)
                manifest.append(
                    {
                        "n": n,
                        "dims": dims,
                        "stored": str(stored_path),
                        "hit": str(hit_path),
                        "miss": str(miss_path),
                        "gptcache": args.gptcache_all or dims == args.dims[0],
                        "gptcache_queries": 200,
                    }
                )
            if dims == args.dims[0] and n == top:
                hit_texts = [f"h{n}_{j}" for j in range(args.queries)]
                tradeoff_ef(url, emb, name, n, dims, hit_texts, exact_hit, args, rep)
                concurrency(cache, emb, hit_texts, rep, n, dims)
                m_sweep(url, stored[: args.m_size], rng, args, rep)
        cache.drop_index()
        cache.close()


def numpy_floor(
    stored: np.ndarray, hits: np.ndarray, misses: np.ndarray, n: int, dims: int, rep: Report
) -> None:
    """Exact search in-process: one matrix-vector product and argmax per query."""
    for kind, queries in (("hit", hits), ("miss", misses)):
        times = []
        for q in queries[:200]:
            start = time.perf_counter()
            int(np.argmax(stored @ q))
            times.append((time.perf_counter() - start) * 1000.0)
        rep.compare.append(
            (
                "numpy brute force",
                n,
                dims,
                kind,
                pct(times, 50),
                pct(times, 99),
                "100%" if kind == "hit" else "-",
                "exact, in-process, no I/O",
            )
        )


def tradeoff_ef(
    url: str,
    emb: TimedReplay,
    name: str,
    n: int,
    dims: int,
    texts: list[str],
    exact: np.ndarray,
    args: argparse.Namespace,
    rep: Report,
) -> None:
    """recall@1 and overhead for several EF_RUNTIME values on the built M=16 index."""
    for ef in args.ef_values:
        cache = make_cache(url, emb, name, dims, hnsw_ef_runtime=ef)
        sample = texts[: args.tradeoff_queries]
        overhead, best, _ = time_lookups(cache, emb, sample)
        recall = found(best, exact[: len(sample)])
        rep.tradeoff.append(
            (
                "synthetic near-dup",
                n,
                dims,
                16,
                ef,
                f"{recall:.3f}",
                ms(pct(overhead, 50)),
                ms(pct(overhead, 99)),
            )
        )
        cache.close()


def m_sweep(
    url: str, stored: np.ndarray, rng: np.random.Generator, args: argparse.Namespace, rep: Report
) -> None:
    """Rebuild the index with other M values (same data) and sweep EF_RUNTIME on each."""
    n, dims = stored.shape
    picks = rng.choice(n, size=args.tradeoff_queries, replace=False)
    hits = near(rng, stored[picks], NEAR_COS)
    exact = exact_best(stored, hits)
    for m in args.m_values:
        emb = TimedReplay(stored)
        texts = [f"q{j}" for j in range(len(hits))]
        emb.extra = {t: hits[j] for j, t in enumerate(texts)}
        name = f"perf_m{m}_{dims}"
        cache = make_cache(url, emb, name, dims, hnsw_m=m)
        cache.drop_index()
        cache = make_cache(url, emb, name, dims, hnsw_m=m)
        log(f"M={m}: fill {n:,} entries")
        seconds = fill(cache, 0, n)
        rep.notes.append(f"M={m}: store_many {n / seconds:,.0f} entries/s at n={n:,} {dims}-d")
        for ef in args.ef_values:
            probe = make_cache(url, emb, name, dims, hnsw_m=m, hnsw_ef_runtime=ef)
            overhead, best, _ = time_lookups(probe, emb, texts)
            recall = found(best, exact)
            rep.tradeoff.append(
                (
                    "synthetic near-dup",
                    n,
                    dims,
                    m,
                    ef,
                    f"{recall:.3f}",
                    ms(pct(overhead, 50)),
                    ms(pct(overhead, 99)),
                )
            )
            probe.close()
        cache.drop_index()
        cache.close()


def concurrency(
    cache: ValkeySemanticCache, emb: TimedReplay, texts: list[str], rep: Report, n: int, dims: int
) -> None:
    """Lookups per second: sequential sync, one async task, 32 tasks on one pool."""
    log("concurrency")
    total = max(len(texts) * 4, 400)
    work = [texts[i % len(texts)] for i in range(total)]
    start = time.perf_counter()
    for text in work:
        cache.search(text)
    rows = [("sync, sequential", 1, total / (time.perf_counter() - start))]

    async def search(text: str) -> Any:
        result = await cache.asearch(text)
        if result.error:
            raise RuntimeError(result.error)
        return result

    for tasks in (1, CONCURRENCY):
        rows.append((f"asearch, {tasks} task(s), one pool", tasks,
                     w.tasks_rate(cache, search, work, tasks)))  # fmt: skip
    base = rows[0][2]
    for label, tasks, rate in rows:
        rep.concurrency.append((n, dims, label, f"{rate:,.0f}", f"{rate / base:.2f}x"))
        rep.facts[f"rate_{tasks}_{label[:4]}"] = rate


# -- real embeddings ---------------------------------------------------------------------------


def real(args: argparse.Namespace, url: str, rep: Report) -> None:
    """recall@1 on all-MiniLM-L6-v2 vectors of real questions (store part, query the rest)."""
    data = next((p for p in DATA_CANDIDATES if p.exists()), None)
    if data is None:
        rep.notes.append("real embeddings skipped: no shared/data/dev_stream.jsonl")
        return
    lines = data.read_text().splitlines()
    texts = list(dict.fromkeys(normalize(json.loads(line)["query"]) for line in lines))
    texts = [t for t in texts if t][: args.real_limit]
    key = hashlib.sha256("\n".join(texts).encode()).hexdigest()[:12]
    path = Path(args.out) / f"minilm_{len(texts)}_{key}.npy"
    if path.exists():
        vectors = np.load(path)
        rep.notes.append(f"MiniLM vectors of {len(texts):,} questions read from {path.name}")
    else:
        from langchain_valkey_semcache.embeddings import MiniLMEmbeddings

        log(f"embedding {len(texts):,} questions with MiniLM")
        model = MiniLMEmbeddings()
        model.embed_documents(texts[:8])  # load the model outside the timing
        start = time.perf_counter()
        vectors = np.asarray(model.embed_documents(texts), dtype=np.float32)
        seconds = time.perf_counter() - start
        np.save(path, vectors)
        rep.notes.append(
            f"MiniLM embed_documents: {len(texts) / seconds:,.0f} questions/s "
            f"({len(texts):,} in {seconds:.0f}s, batch 64, CPU)"
        )
        rep.facts["minilm_per_s"] = len(texts) / seconds
    split = int(len(texts) * 0.7)
    stored, queries = vectors[:split], vectors[split:]
    exact = exact_best(stored, queries)
    for m in sorted({16, *args.m_values}):
        emb = TimedReplay(stored)
        qtexts = [f"r{j}" for j in range(len(queries))]
        emb.extra = {t: queries[j] for j, t in enumerate(qtexts)}
        name = f"perf_real_m{m}"
        cache = make_cache(url, emb, name, stored.shape[1], hnsw_m=m)
        cache.drop_index()
        cache = make_cache(url, emb, name, stored.shape[1], hnsw_m=m)
        seconds = fill(cache, 0, split)
        for ef in args.ef_values:
            probe = make_cache(url, emb, name, stored.shape[1], hnsw_m=m, hnsw_ef_runtime=ef)
            overhead, best, served = time_lookups(probe, emb, qtexts)
            recall = found(best, exact)
            rep.tradeoff.append(
                (
                    "MiniLM dev_stream",
                    split,
                    stored.shape[1],
                    m,
                    ef,
                    f"{recall:.3f}",
                    ms(pct(overhead, 50)),
                    ms(pct(overhead, 99)),
                )
            )
            if m == 16 and ef == args.ef_runtime:
                rep.recall.append(
                    (
                        "MiniLM dev_stream questions",
                        split,
                        stored.shape[1],
                        len(qtexts),
                        m,
                        ef,
                        f"{recall:.3f}",
                        f"{served:.1%}",
                    )
                )
                rep.facts["recall_real"] = recall
                rep.facts["fill_real"] = split / seconds
            probe.close()
        cache.drop_index()
        cache.close()


# -- competitors -------------------------------------------------------------------------------


def competitors(
    args: argparse.Namespace, url: str, manifest: list[dict[str, Any]], rep: Report
) -> None:
    python = Path(args.compare_python)
    if not python.exists():
        rep.notes.append(f"competitors skipped: no {python} (see bench/requirements-compare.txt)")
        return
    out = Path(args.out)
    spec = out / "manifest.json"
    result = out / "competitors.json"
    spec.write_text(json.dumps({"threshold": THRESHOLD, "configs": manifest}))
    log("competitors (subprocess in the comparison venv)")
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    subprocess.run(
        [
            str(python),
            str(Path(__file__).parent / "compare_competitors.py"),
            "--url",
            url.replace("valkey://", "redis://", 1),
            "--manifest",
            str(spec),
            "--out",
            str(result),
        ],
        check=True,
        env=env,
    )
    data = json.loads(result.read_text())
    for r in data["rows"]:
        rep.compare.append(
            (
                r["system"],
                r["n"],
                r["dims"],
                r["kind"],
                r["p50"],
                r["p99"],
                f"{r['served']:.1%}",
                r["note"],
            )
        )
    for err in data["errors"]:
        rep.notes.append("competitor failed: " + err.strip().splitlines()[-1])
        log(err)


# -- report ------------------------------------------------------------------------------------


def comparison_rows(rep: Report) -> list[tuple[Any, ...]]:
    rows = []
    for (n, dims, kind), p50 in sorted(rep.ours.items()):
        if kind == "exact repeat":
            continue
        p99 = rep.facts[f"p99_{n}_{dims}_{kind}"]
        rows.append((n, dims, kind, "ValkeySemanticCache (ours)", ms(p50), ms(p99), "1.00", ""))
        for system, cn, cd, ck, cp50, cp99, _served, note in rep.compare:
            if (cn, cd, ck) == (n, dims, kind):
                rows.append((n, dims, kind, system, ms(cp50), ms(cp99), f"{cp50 / p50:.2f}", note))
    return rows


def targets(args: argparse.Namespace, rep: Report) -> list[tuple[Any, ...]]:
    top = max(args.sizes)
    small = min(args.dims)
    rows: list[tuple[Any, ...]] = []

    def add(
        what: str, value: float | None, goal: str, ok: Callable[[float], bool], fmt: str
    ) -> None:
        if value is None:
            rows.append((what, "not measured", goal, "-"))
        else:
            rows.append((what, format(value, fmt), goal, "met" if ok(value) else "MISSED"))

    for dims in args.dims:
        for kind in ("hit", "miss"):
            add(
                f"overhead p50, {kind}, {top:,} x {dims}-d (ms)",
                rep.ours.get((top, dims, kind)),
                "<= 1",
                lambda v: v <= 1.0,
                ".3f",
            )
            add(
                f"overhead p99, {kind}, {top:,} x {dims}-d (ms)",
                rep.facts.get(f"p99_{top}_{dims}_{kind}"),
                "<= 3",
                lambda v: v <= 3.0,
                ".3f",
            )
        add(
            f"recall@1 near-dup, {top:,} x {dims}-d",
            rep.facts.get(f"recall_{top}_{dims}_hit"),
            ">= 0.99",
            lambda v: v >= 0.99,
            ".3f",
        )
        add(
            f"exact-repeat hit p50, {top:,} x {dims}-d (ms)",
            rep.ours.get((top, dims, "exact repeat")),
            "<= 1",
            lambda v: v <= 1.0,
            ".3f",
        )
    lcr = [c for c in rep.compare if c[0] == "langchain-redis" and c[1] == top and c[3] == "hit"]
    for c in lcr:
        ours = rep.ours.get((top, c[2], "hit"))
        if ours:
            add(
                f"our p50 / langchain-redis p50, hit, {top:,} x {c[2]}-d",
                ours / c[4],
                "<= 0.5",
                lambda v: v <= 0.5,
                ".3f",
            )
    add(
        f"store_many warm-up, {top:,} x {small}-d (entries/s)",
        rep.facts.get(f"fill_{top}_{small}"),
        ">= 2,000",
        lambda v: v >= 2000,
        ",.0f",
    )
    return rows


def print_report(
    args: argparse.Namespace, rep: Report, load: tuple[float, ...], seconds: float
) -> None:
    end = os.getloadavg()
    print(
        f"\n## perf.py: {platform.node()} ({os.cpu_count()} cores), Python "
        f"{platform.python_version()}, loopback; load average {load[0]:.2f} at start, "
        f"{end[0]:.2f} at end; run took {seconds / 60:.1f} min\n"
    )
    print("### Lookup overhead, ours (ms, wall time minus time inside the embedding call)\n")
    print(
        table(
            ("entries", "dims", "lookup", "p50", "p99", "mean", "served", "recall@1"), rep.lookups
        )
    )
    print("\n### Same lookups, other systems (ms; ratio = their p50 / our p50, same run)\n")
    print(
        table(
            ("entries", "dims", "lookup", "system", "p50", "p99", "p50 ratio", "note"),
            comparison_rows(rep),
        )
    )
    print("\n### Bulk warm-up (store_many, replayed vectors) and memory\n")
    print(
        table(
            ("entries", "dims", "entries/s", "KiB/entry (used_memory delta)", "KiB raw vector"),
            rep.warmup,
        )
    )
    if rep.recall:
        print(f"\n### recall@1 against exact search (M=16, EF_RUNTIME={args.ef_runtime})\n")
        print(
            table(
                (
                    "vectors",
                    "stored",
                    "dims",
                    "queries",
                    "M",
                    "EF_RUNTIME",
                    "recall@1",
                    "served at 0.9",
                ),
                rep.recall,
            )
        )
    if rep.tradeoff:
        print("\n### HNSW trade-off (recall@1 vs exact; lookup overhead ms)\n")
        print(
            table(
                ("vectors", "stored", "dims", "M", "EF_RUNTIME", "recall@1", "p50", "p99"),
                rep.tradeoff,
            )
        )
    if rep.concurrency:
        print("\n### Concurrency (hits, lookups/s, embedding excluded)\n")
        print(table(("entries", "dims", "mode", "lookups/s", "vs sync"), rep.concurrency))
    print("\n### Targets\n")
    print(table(("target", "measured", "goal", ""), targets(args, rep)))
    for note in rep.notes:
        print(f"- {note}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="smoke size (seconds, not minutes)")
    parser.add_argument("--sizes", type=int, nargs="+")
    parser.add_argument("--dims", type=int, nargs="+")
    parser.add_argument("--queries", type=int)
    parser.add_argument("--tradeoff-queries", type=int)
    parser.add_argument(
        "--ef-runtime",
        type=int,
        default=CacheConfig().hnsw_ef_runtime,
        help="default: the library's, fitted to the index size",
    )
    parser.add_argument("--ef-values", type=int, nargs="+")
    parser.add_argument("--m-values", type=int, nargs="+", help="M values rebuilt besides 16")
    parser.add_argument("--m-size", type=int, help="entries of the M sweep indexes")
    parser.add_argument("--real-limit", type=int, help="questions of dev_stream.jsonl to embed")
    parser.add_argument("--no-real", dest="real", action="store_false")
    parser.add_argument("--no-compare", dest="compare", action="store_false")
    parser.add_argument(
        "--gptcache-all",
        action="store_true",
        help="GPTCache at every width, not only the first (slow to fill)",
    )
    parser.add_argument("--compare-python", default=str(COMPARE_PYTHON))
    parser.add_argument("--out", default=str(ROOT / "bench" / "out"))
    args = parser.parse_args()
    quick = args.quick
    defaults = {
        "sizes": [300] if quick else [10_000, 100_000],
        "dims": [64, 384] if quick else [384, 1024],
        "queries": 40 if quick else 500,
        "tradeoff_queries": 30 if quick else 300,
        "ef_values": [10, 100] if quick else [10, 50, 100, 200, 400],
        "m_values": [8] if quick else [8, 32],
        "m_size": 300 if quick else 30_000,
        "real_limit": 200 if quick else 100_000,
    }
    for name, value in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    args.m_size = min(args.m_size, max(args.sizes))
    Path(args.out).mkdir(parents=True, exist_ok=True)
    load = os.getloadavg()
    started = time.perf_counter()
    rep = Report()
    manifest: list[dict[str, Any]] = []
    try:
        with LocalEngine() as engine:
            admin = valkey.Valkey.from_url(engine.url)
            synthetic(args, engine.url, admin, rep, manifest)
            if args.real:
                real(args, engine.url, rep)
            if args.compare:
                competitors(args, engine.url, manifest, rep)
            admin.close()
    finally:  # print what was measured even when a section failed
        print_report(args, rep, load, time.perf_counter() - started)


if __name__ == "__main__":
    main()
