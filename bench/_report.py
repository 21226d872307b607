"""What bench/speed.py measured, and its tables (engines side by side, with ratios)."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from _common import pct, table

ROOT = Path(__file__).resolve().parent.parent
COMPARE_PYTHON = ROOT / ".venv-bench" / "bin" / "python"
THRESHOLD = 0.9


def ms(value: float) -> str:
    return f"{value:.2f}" if value < 10 else f"{value:.1f}"


def spread(values: list[float]) -> str:
    """p50 over passes: one value, or ``low-high``."""
    lo, hi = min(values), max(values)
    return ms(lo) if ms(lo) == ms(hi) else f"{ms(lo)}-{ms(hi)}"


@dataclass
class Report:
    # (engine, n, dims, kind) -> per pass (p50, p99); recall; EF
    runs: dict[tuple[str, int, int, str], list[tuple[float, float]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    recalls: dict[tuple[str, int, int], list[float]] = field(
        default_factory=lambda: defaultdict(list)
    )
    efs: dict[tuple[str, int, int], int] = field(default_factory=dict)
    sweeps: list[tuple[Any, ...]] = field(default_factory=list)
    fills: list[tuple[Any, ...]] = field(default_factory=list)
    rates: list[tuple[str, str, float, float]] = field(default_factory=list)
    configs: list[dict[str, Any]] = field(default_factory=list)
    theirs: dict[tuple[int, int, str], tuple[float, float, str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    queries: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)

    def lookup(
        self, engine: str, n: int, dims: int, kind: str, _pass: int, times: list[float],
        recall: float | None, ef: int,
    ) -> None:  # fmt: skip
        self.runs[(engine, n, dims, kind)].append((pct(times, 50), pct(times, 99)))
        if recall is not None:
            self.recalls[(engine, n, dims)].append(recall)
        self.efs[(engine, n, dims)] = ef

    def sweep(
        self, engine: str, vectors: str, n: int, dims: int, ef: Any, recall: float, t: list[float]
    ) -> None:
        self.sweeps.append((engine, vectors, f"{n:,}", dims, ef, f"{recall:.3f}",
                            ms(pct(t, 50)), ms(pct(t, 99))))  # fmt: skip

    def warmup(
        self, engine: str, lo: int, hi: int, dims: int, seconds: float, grown: int, cpu: float
    ) -> None:
        n = max(1, hi - lo)
        self.fills.append((engine, f"{lo:,} -> {hi:,}", dims, f"{n / seconds:,.0f}",
                           f"{cpu / n * 1000:.2f}", f"{n / cpu:,.0f}" if cpu else "-",
                           f"{grown / n / 1024:.2f}", f"{dims * 4 / 1024:.2f}"))  # fmt: skip

    def concurrency(self, engine: str, mode: str, rate: float, base: float) -> None:
        self.rates.append((engine, mode, rate, rate / base))

    # -- langchain-redis, in its own virtualenv ---------------------------------------------

    def manifest(self, args: argparse.Namespace, dims: int, stored: np.ndarray) -> None:
        out = Path(args.out)
        np.save(out / f"speed_stored_{dims}.npy", stored)
        for n in args.sizes:
            hits, misses = self.queries[(n, dims)]
            np.save(out / f"speed_hit_{n}_{dims}.npy", hits)
            np.save(out / f"speed_miss_{n}_{dims}.npy", misses)
            self.configs.append({
                "n": n, "dims": dims, "stored": str(out / f"speed_stored_{dims}.npy"),
                "hit": str(out / f"speed_hit_{n}_{dims}.npy"),
                "miss": str(out / f"speed_miss_{n}_{dims}.npy"), "gptcache": False,
            })  # fmt: skip

    def competitors(self, args: argparse.Namespace, url: str) -> None:
        python = Path(args.compare_python)
        if not python.exists():
            self.notes.append(f"langchain-redis NOT RUN: no {python} (make bench creates it)")
            return
        out = Path(args.out)
        spec, result = out / "speed_manifest.json", out / "speed_competitors.json"
        spec.write_text(json.dumps({"threshold": THRESHOLD, "configs": self.configs}))
        env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
        script = Path(__file__).parent / "compare_competitors.py"
        subprocess.run(
            [str(python), str(script), "--url", url.replace("valkey://", "redis://", 1),
             "--manifest", str(spec), "--out", str(result)],
            check=True, env=env,
        )  # fmt: skip
        data = json.loads(result.read_text())
        for r in data["rows"]:
            if r["system"] == "langchain-redis":
                self.theirs[(r["n"], r["dims"], r["kind"])] = (r["p50"], r["p99"], r["note"])
        for err in data["errors"]:
            self.notes.append("langchain-redis failed: " + err.strip().splitlines()[-1])

    # -- tables ------------------------------------------------------------------------------

    def print(self, header: str, engines: list[str], args: argparse.Namespace) -> None:
        print(f"\n{header}\n")
        print("### lookup(prompt, llm_string) at the shipped defaults: p50 / p99 ms "
              f"(embedding excluded; p50 range over {args.passes} passes)\n")  # fmt: skip
        keys = sorted({(n, d, k) for (_, n, d, k) in self.runs})
        rows = []
        for n, d, kind in keys:
            row: list[Any] = [f"{n:,}", d, kind]
            p50s = []
            for e in engines:
                got = self.runs.get((e, n, d, kind), [])
                if not got:
                    row += ["-", "-"]
                    continue
                p50s.append(min(p for p, _ in got))
                row += [f"{spread([p for p, _ in got])} / {ms(max(q for _, q in got))}",
                        self.efs.get((e, n, d), "-")]  # fmt: skip
            row.append(f"{p50s[1] / p50s[0]:.2f}" if len(p50s) == 2 else "-")
            lcr = self.theirs.get((n, d, kind))
            row.append(f"{ms(lcr[0])} ({p50s[0] / lcr[0]:.2f}x)" if lcr and p50s else "-")
            rows.append(row)
        heads = ["entries", "dims", "lookup"]
        for e in engines:
            heads += [f"{e} p50 / p99", "EF"]
        heads += ["p50 ratio 2nd/1st", "langchain-redis p50 (ours/theirs)"]
        print(table(heads, rows))
        print("\nrecall@1 of the served hit against exact search, shipped defaults:\n")
        rrows = [(e, f"{n:,}", d, self.efs[(e, n, d)], " / ".join(f"{r:.3f}" for r in rs))
                 for (e, n, d), rs in sorted(self.recalls.items())]  # fmt: skip
        print(table(("engine", "entries", "dims", "EF_RUNTIME", "recall@1 per pass"), rrows))
        if self.fills:
            print("\n### store_many warm-up (until searchable) and memory\n")
            print(table(("engine", "entries", "dims", "entries/s", "server CPU ms/entry",
                         "entries per server CPU-s", "KiB/entry (used_memory)", "KiB raw vector"),
                        self.fills))  # fmt: skip
        if self.rates:
            print("\n### Concurrency: hits through lookup / alookup on one cache\n")
            rates = [(e, m, f"{r:,.0f}", f"{x:.2f}x") for e, m, r, x in self.rates]
            print(table(("engine", "mode", "lookups/s", "vs sequential"), rates))
        if self.sweeps:
            print(
                "\n### EF_RUNTIME sweep (guards off): recall@1 against exact search, p50/p99 ms\n"
            )
            print(table(("engine", "vectors", "entries", "dims", "EF_RUNTIME", "recall@1",
                         "p50", "p99"), self.sweeps))  # fmt: skip
        for note in self.notes:
            print(f"- {note}")
        sys.stdout.flush()
