"""bench/speed.py runs end to end at smoke size on the engine under test and prints its
tables (no speed assertions: speed claims come from the bench's own tables)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from langchain_valkey_semcache.engine import SEARCH_MODULE_ENV

ROOT = Path(__file__).parents[2]


def test_speed_quick_prints_tables_and_serves_hits(tmp_path: Path) -> None:
    module = os.environ.get(SEARCH_MODULE_ENV)
    engine = ["--engines", "valkey-search", "--valkey-search", module] if module else []
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "speed.py"), "--quick", "--no-real",
         "--no-compare", "--out", str(tmp_path), *(engine or ["--engines", "redisearch"])],
        capture_output=True, text=True, timeout=600, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    for title in ("### lookup(prompt, llm_string)", "recall@1 of the served hit",
                  "### store_many warm-up", "### Concurrency", "### EF_RUNTIME sweep"):  # fmt: skip
        assert title in out
    recall_rows = [line for line in out.splitlines() if "| 1,000 " in line and " / " in line]
    assert recall_rows, out
    assert any("1.000 / 1.000" in line for line in recall_rows), "near-duplicates must be served"
