"""bench/replay.py end to end on a tiny synthetic stream, with deterministic embeddings."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

from langchain_valkey_semcache.engine import LocalEngine
from tests.support import TableEmbeddings

BENCH = Path(__file__).resolve().parents[2] / "bench"


def load_replay() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_replay", BENCH / "replay.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_replay"] = module
    spec.loader.exec_module(module)
    return module


def vec(*pairs: tuple[int, float]) -> list[float]:
    v = [0.0] * 8
    for i, x in pairs:
        v[i] = x
    return v


# (query, class_id, vector): t1 is a trap at cosine 0.95 to t0, t2 a paraphrase of t0 at
# 0.97 (0.92 to t1), t4 a trap at 0.85 to t3.
STREAM = [
    ("How do I install Python on Windows?", 0, vec((0, 1.0))),
    ("How do I uninstall Python on Windows?", 1, vec((0, 0.95), (1, 0.3122))),
    ("How can I install Python on Windows?", 0, vec((0, 0.97), (2, 0.2431))),
    ("What is the weather in Paris?", 2, vec((3, 1.0))),
    ("What is the weather in London?", 3, vec((3, 0.85), (4, 0.5268))),
]


@pytest.fixture
def replay() -> ModuleType:
    return load_replay()


def test_stream_rows_and_columns(
    replay: ModuleType, engine: LocalEngine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stream = tmp_path / "stream.jsonl"
    stream.write_text("".join(
        json.dumps({"t": t, "query": q, "class_id": c}) + "\n" for t, (q, c, _) in enumerate(STREAM)
    ))  # fmt: skip
    emb = TableEmbeddings({q: v for q, _, v in STREAM})
    plot = tmp_path / "replay.png"
    argv = [str(stream), "--url", engine.url, "--thresholds", "0.80", "0.90",
            "--configs", "static", "guards", "--plot", str(plot)]  # fmt: skip
    rows = replay.main(argv, embeddings=emb)
    out = capsys.readouterr().out
    header = next(line for line in out.splitlines() if line.startswith("| config"))
    assert [c.strip() for c in header.strip("|").split("|")] == list(replay.HEADERS)
    got = {(r.config, r.threshold): (r.hits, r.wrong, r.possible) for r in rows}
    assert got == {
        ("static", 0.80): (3, 2, 1),  # serves both traps
        ("static", 0.90): (2, 1, 1),  # serves the install/uninstall trap
        ("guards", 0.80): (1, 0, 1),  # only the paraphrase
        ("guards", 0.90): (1, 0, 1),
    }
    assert "| guards | 0.80      | 20.0%    | 0.0%        | 100.0% |" in out
    assert "baseline 4.35 s and $49.5/day" in out
    pytest.importorskip("matplotlib")
    assert plot.stat().st_size > 0


def test_limit_and_pairs_mode(
    replay: ModuleType, engine: LocalEngine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text(
        json.dumps({"q1": STREAM[0][0], "q2": STREAM[1][0], "duplicate": False}) + "\n"
        + json.dumps({"q1": STREAM[0][0], "q2": STREAM[2][0], "duplicate": True}) + "\n"
    )  # fmt: skip
    emb = TableEmbeddings({q: v for q, _, v in STREAM})
    argv = ["--pairs", str(pairs), "--url", engine.url, "--thresholds", "0.90",
            "--configs", "static", "guards", "--plot", str(tmp_path / "p.png")]  # fmt: skip
    rows = replay.main(argv, embeddings=emb)
    assert [(r.config, r.hits, r.wrong, r.possible) for r in rows] == [
        ("static", 2, 1, 1),
        ("guards", 1, 0, 1),
    ]
    out = capsys.readouterr().out
    assert "| config | threshold | served | served wrongly | wrong share | caught |" in out
    assert "served (WRONG)" in out  # the per-pair detail

    stream = tmp_path / "stream.jsonl"
    stream.write_text("".join(
        json.dumps({"t": t, "query": q, "class_id": c}) + "\n" for t, (q, c, _) in enumerate(STREAM)
    ))  # fmt: skip
    [row] = replay.main([str(stream), "--url", engine.url, "--limit", "3", "--thresholds",
                         "0.9", "--configs", "static"], embeddings=emb)  # fmt: skip
    assert row.queries == 3
