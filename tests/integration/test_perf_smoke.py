"""bench/perf.py runs end to end at smoke size and prints its tables (no speed assertions)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[2]
SCRIPT = ROOT / "bench" / "perf.py"

TABLES = (
    "### Lookup overhead, ours",
    "### Same lookups, other systems",
    "### Bulk warm-up",
    "### HNSW trade-off",
    "### Concurrency",
    "### Targets",
)


def _run(tmp_path: Path, *extra: str) -> str:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--no-real", "--out", str(tmp_path), *extra],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_perf_quick_prints_every_table(tmp_path: Path) -> None:
    out = _run(tmp_path, "--no-compare")
    for title in TABLES:
        assert title in out
    hit_rows = [line for line in out.splitlines() if line.startswith("| 300     | 384  | hit ")]
    assert hit_rows and "| 100.0%" in hit_rows[0], "near-duplicate lookups must be served"
    assert "exact repeat" in out
    assert "numpy brute force" in out


def test_guard_cost_bench_prints_its_table(tmp_path: Path) -> None:
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text(
        '{"q1": "How do I install numpy?", "q2": "How do I uninstall numpy?"}\n'
        '{"q1": "What is semantic caching?", "q2": "What does semantic caching mean?"}\n'
    )
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "guards.py"), "--pairs", str(pairs), "--repeat", "1"],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert "| default    | 2     |" in done.stdout and "p50 us" in done.stdout
