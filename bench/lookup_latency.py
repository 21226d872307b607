"""Lookup latency of ValkeySemanticCache without the embedding call.

Fills a fresh index on the local engine with N entries of random unit vectors, then
times ``search()`` for hits (a neighbour at cosine 0.97 of a stored entry), misses (a
fresh random vector) and exact repeats, reporting the cache's own time
(``total_ms - embedding_ms``). Run: ``python bench/lookup_latency.py --entries 10000``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _common import ReplayEmbeddings, near, summary, table, unit_rows

from langchain_valkey_semcache import ValkeySemanticCache
from langchain_valkey_semcache.engine import LocalEngine


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, nargs="+", default=[10_000])
    parser.add_argument("--dims", type=int, default=384)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--ef-runtime", type=int, default=100)
    args = parser.parse_args()
    rng = np.random.default_rng(7)
    rows = []
    with LocalEngine() as engine:
        for n in args.entries:
            stored = unit_rows(rng, n, args.dims)
            picks = rng.choice(n, size=args.queries, replace=False)
            vectors = {f"s{i}": stored[i] for i in range(n)}
            vectors |= {
                f"h{i}": v for i, v in zip(picks, near(rng, stored[picks], 0.97), strict=True)
            }
            vectors |= {f"m{i}": v for i, v in enumerate(unit_rows(rng, args.queries, args.dims))}
            cache = ValkeySemanticCache(
                ReplayEmbeddings(vectors), url=engine.url, index_name=f"bench_{n}_{args.dims}",
                dims=args.dims, hnsw_ef_runtime=args.ef_runtime, on_error="raise",
            )  # fmt: skip
            cache.drop_index()
            started = time.perf_counter()
            for i in range(n):
                cache.store(f"s{i}", f"answer {i}")
            fill_s = time.perf_counter() - started
            kinds = {
                "hit": [f"h{i}" for i in picks],
                "miss": [f"m{i}" for i in range(args.queries)],
                "exact repeat": [f"s{i}" for i in picks],
            }
            for kind, queries in kinds.items():
                for q in queries[:20]:  # warm the connection and the engine's caches
                    cache.search(q)
                overhead, outcomes = [], []
                for q in queries:
                    result = cache.search(q)
                    overhead.append(result.timings.total_ms - result.timings.embedding_ms)
                    outcomes.append(result.hit is not None)
                p50, p99, mean = summary(overhead)
                served = sum(outcomes) / len(outcomes)
                rows.append((n, args.dims, kind, f"{p50:.3f}", f"{p99:.3f}", f"{mean:.3f}",
                             f"{served:.1%}", f"{n / fill_s:,.0f}"))  # fmt: skip
            cache.drop_index()
    print(table(("entries", "dims", "lookup", "p50 ms", "p99 ms", "mean ms", "served",
                 "fill entries/s"), rows))  # fmt: skip


if __name__ == "__main__":
    main()
