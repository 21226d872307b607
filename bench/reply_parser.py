"""lookup() p50 with valkey-py's pure-Python reply parser against libvalkey's C parser.

Same engine, same cache settings, same hit queries; the two caches alternate in rounds so
that load on a shared machine hits both alike. ``python bench/reply_parser.py`` (a minute).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from valkey._parsers import _LibvalkeyParser, _RESP2Parser

sys.path.insert(0, str(Path(__file__).parent))
import _engines
import _workload as w
from _common import near, pct, table, unit_rows

from langchain_valkey_semcache.engine import LocalEngine


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--engines", nargs="+", default=["redisearch", "valkey-search"])
    parser.add_argument("--entries", type=int, default=5_000)
    parser.add_argument("--dims", type=int, default=384)
    parser.add_argument("--rounds", type=int, default=6)
    args = parser.parse_args()
    rows = []
    for choice in _engines.choices(args.engines, None):
        with LocalEngine(module=choice.module) as engine:
            stored = unit_rows(np.random.default_rng(1), args.entries, args.dims)
            emb = w.Replay(stored)
            cache = w.make_cache(engine.url, emb, "parser", args.dims)
            w.fill(engine.url, cache, emb, 0, args.entries)
            texts = [w.query_prompt("near", 0, j) for j in range(300)]
            emb.extra = dict(
                zip(texts, near(np.random.default_rng(2), stored[:300], 0.97), strict=True)
            )
            caches = {
                name: w.make_cache(engine.url, emb, "parser", args.dims,
                                   client_kwargs={"parser_class": cls})
                for name, cls in (("python", _RESP2Parser), ("libvalkey", _LibvalkeyParser))
            }  # fmt: skip
            times: dict[str, list[float]] = {name: [] for name in caches}
            for _ in range(args.rounds):
                for name, c in caches.items():
                    times[name] += w.time_lookups(
                        lambda t, c=c: c.lookup(t, w.LLM_STRING), emb, texts
                    ).ms
            base = pct(times["python"], 50)
            for name, ms in times.items():
                p50 = pct(ms, 50)
                rows.append(
                    (choice.label, name, f"{p50:.3f}", f"{pct(ms, 99):.3f}", f"{p50 / base:.2f}")
                )
    print(f"\n### lookup() hit p50/p99 ms by reply parser ({args.entries:,} x {args.dims}-d, "
          f"{args.rounds} alternating rounds of 300)\n")  # fmt: skip
    print(table(("engine", "parser", "p50", "p99", "vs python"), rows))


if __name__ == "__main__":
    main()
