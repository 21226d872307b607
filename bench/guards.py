"""What the guard verifier costs per candidate (the "~30 us per candidate" of docs/correctness.md).

Times ``GuardVerifier().verify(query, cached, similarity)`` on labelled question pairs (the
pairs a lookup hands it: a new question and a stored candidate), with the default checks and
with every check, and prints one table:

    python bench/guards.py [--pairs ../shared/data/dev.jsonl] [--limit 5000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from _common import summary, table  # noqa: E402

from langchain_valkey_semcache.guards import _CHECKS as ALL_CHECKS  # noqa: E402
from langchain_valkey_semcache.guards import CHECKS, GuardVerifier  # noqa: E402

DATA = HERE.parent.parent / "shared" / "data"


def _pairs(path: Path, limit: int) -> list[tuple[str, str]]:
    with path.open(encoding="utf-8") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    return [(r["q1"], r["q2"]) for r in rows[:limit]]


def _time(guard: GuardVerifier, pairs: list[tuple[str, str]], repeat: int) -> list[float]:
    """Microseconds per verify call, best of ``repeat`` per pair (scheduling noise removed)."""
    out = []
    for query, cached in pairs:
        best = float("inf")
        for _ in range(repeat):
            started = time.perf_counter()
            guard.verify(query, cached, 0.95)
            best = min(best, time.perf_counter() - started)
        out.append(best * 1e6)
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--pairs", type=Path, default=DATA / "dev.jsonl")
    p.add_argument("--limit", type=int, default=5000)
    p.add_argument("--repeat", type=int, default=5)
    args = p.parse_args(argv)
    pairs = _pairs(args.pairs, args.limit)
    rows = []
    for name, checks in (("default", CHECKS), ("all checks", tuple(ALL_CHECKS))):
        guard = GuardVerifier(checks)
        _time(guard, pairs[:200], 1)  # warm the word caches
        p50, p99, mean = summary(_time(guard, pairs, args.repeat))
        rows.append((name, len(pairs), f"{p50:.1f}", f"{p99:.1f}", f"{mean:.1f}"))
    print(f"GuardVerifier.verify on {args.pairs.name}: microseconds per candidate")
    print(table(("checks", "pairs", "p50 us", "p99 us", "mean us"), rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
