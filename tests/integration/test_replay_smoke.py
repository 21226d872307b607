"""bench/replay.py end to end on a tiny synthetic stream, with deterministic embeddings."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from langchain_valkey_semcache.engine import LocalEngine
from tests.support import TableEmbeddings

BENCH = Path(__file__).resolve().parents[2] / "bench"


def load_replay(name: str = "replay") -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[f"bench_{name}"] = module
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
    assert [c.strip() for c in header.strip("|").split("|")] == list(replay.headers(False))
    got = {(r.config, r.threshold): (r.hits, r.wrong, r.possible) for r in rows}
    assert got == {
        ("static", 0.80): (3, 2, 1),  # serves both traps
        ("static", 0.90): (2, 1, 1),  # serves the install/uninstall trap
        ("guards", 0.80): (1, 0, 1),  # only the paraphrase
        ("guards", 0.90): (1, 0, 1),
    }
    assert "| guards | 0.80      | 20.0%    | 100.0%         | 0.0%          |" in out
    assert "baseline 4.35 s and $49.5/day" in out
    pytest.importorskip("matplotlib")
    assert plot.stat().st_size > 0


def write_stream(path: Path) -> None:
    path.write_text("".join(
        json.dumps({"t": t, "query": q, "class_id": c}) + "\n" for t, (q, c, _) in enumerate(STREAM)
    ))  # fmt: skip


def verdict_line(query: int, cached: int, verdict: str) -> str:
    return json.dumps({"cached": STREAM[cached][0], "query": STREAM[query][0], "verdict": verdict})


def test_verdicts_judge_hits_beside_the_labels(
    replay: ModuleType, engine: LocalEngine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """static 0.80 serves t2 from t0 (same class), the uninstall trap t1 from t0 and the
    London question t4 from t3; the verdicts beside the stream judge the last two."""
    stream = tmp_path / "tiny_stream.jsonl"
    write_stream(stream)
    (tmp_path / "tiny_verdicts.jsonl").write_text(
        verdict_line(1, 0, "D") + "\n" + verdict_line(4, 3, "B") + "\n"
    )
    emb = TableEmbeddings({q: v for q, _, v in STREAM})
    base = [str(stream), "--url", engine.url, "--thresholds", "0.80", "--configs", "static"]
    row, guarded = replay.main([*base, "guards"], embeddings=emb)
    out = capsys.readouterr().out
    header = next(line for line in out.splitlines() if line.startswith("| config"))
    assert [c.strip() for c in header.strip("|").split("|")] == list(replay.headers(True))
    assert (row.judged, row.no_verdict, row.possible_judged) == ({"R": 1, "B": 1, "D": 1}, 0, 1)
    # caught, wrong (D), wrong+borderline, no verdict; then the labels' caught and wrong
    assert "| static | 0.80      | 60.0%    | 100.0% | 33.3%     | 66.7%            | 0          " \
        "| 100.0%         | 66.7%         |" in out  # fmt: skip
    assert guarded.judged == {"R": 1, "B": 0, "D": 0}  # both traps rejected
    assert guarded.judged_rates() == (1.0, 0.0, 0.0)
    # an R verdict makes t4 a possible hit; a served pair with no verdict counts as wrong
    other = tmp_path / "other.jsonl"
    other.write_text(verdict_line(4, 3, "R") + "\n")
    [row] = replay.main([*base, "--verdicts", str(other)], embeddings=emb)
    assert (row.judged, row.no_verdict, row.possible_judged) == ({"R": 2, "B": 0, "D": 1}, 1, 2)
    assert "possible hits: 2 by verdicts, 1 by labels" in capsys.readouterr().out


def test_missing_data_is_one_line(replay: ModuleType, tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match=r"nope.jsonl: no such stream file \(the evaluation"):
        replay.main([str(tmp_path / "nope.jsonl")])
    with pytest.raises(SystemExit, match="2"):  # argparse: a stream or --pairs is required
        replay.main([])


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


def test_audit_sample_and_adjusted_wrong_share(
    replay: ModuleType, engine: LocalEngine, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    stream = tmp_path / "stream.jsonl"
    stream.write_text("".join(
        json.dumps({"t": t, "query": q, "class_id": c}) + "\n" for t, (q, c, _) in enumerate(STREAM)
    ))  # fmt: skip
    emb = TableEmbeddings({q: v for q, _, v in STREAM})
    monkeypatch.setattr(replay, "OUT", tmp_path)
    base = [str(stream), "--url", engine.url, "--thresholds", "0.80", "--configs", "static",
            "--plot", str(tmp_path / "p.png")]  # fmt: skip
    replay.main([*base, "--audit-sample", "5"], embeddings=emb)
    sample = (tmp_path / "audit-stream-static-0.80.tsv").read_text().splitlines()
    assert sample[0] == "# stream=stream.jsonl config=static threshold=0.80 wrong=2 seed=7"
    rows = sorted(line.split("\t") for line in sample[2:])
    assert sorted((r[3], r[4]) for r in rows) == sorted([(STREAM[1][0], STREAM[0][0]),
                                                         (STREAM[4][0], STREAM[3][0])])  # fmt: skip
    verdicts = tmp_path / "verdicts.tsv"
    verdicts.write_text("\n".join([
        sample[0], "pair_id\tverdict",
        *(f"{r[0]}\t{'D' if 'uninstall' in r[3] else 'R'}" for r in rows),
    ]) + "\n")  # fmt: skip
    capsys.readouterr()
    replay.main([*base, "--audit", str(verdicts)], embeddings=emb)
    out = capsys.readouterr().out
    assert "| static | 0.80      | 2              | 2       | 1 / 0 / 1 | 66.7%" in out
    assert out.rstrip().endswith("| 33.3%         | 33.3%        |")
    replay.main([*base[:4], "0.90", *base[5:], "--audit", str(verdicts)], embeddings=emb)
    assert "no row of static @ 0.80" in capsys.readouterr().out


def test_learned_verifier_simulation_matches_the_cache_and_learns_from_feedback() -> None:
    lv = load_replay("learned_verifier")
    # The STREAM plus a second uninstall question (class 4) close to the first install one.
    texts = [q for q, _, _ in STREAM] + ["How to uninstall Python on Windows?"]
    vectors = np.array([v for _, _, v in STREAM] + [vec((0, 0.95), (1, 0.3122))])
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    half = lv.Half(texts, [0, 1, 0, 2, 3, 4], vectors, vectors @ vectors.T)
    always = lambda i, j: True  # noqa: E731
    install, uninstall, paris, london = (STREAM[i][0] for i in (0, 1, 3, 4))
    verdicts = {(uninstall, install): "D", (london, paris): "B", (texts[5], install): "R"}
    # by labels: possible, hits, correct, like the engine replay's static 0.80 row plus one
    # more trap; by verdicts: possible (one more: the R pair), correct, D, B, no verdict
    assert list(lv.simulate(half, 0.80, always, verdicts)) == [1, 4, 1, 2, 2, 1, 1, 0]
    # unread cross-class hits count as D and as "no verdict"
    assert list(lv.simulate(half, 0.80, always, {})) == [1, 4, 1, 1, 1, 3, 0, 3]
    # feedback: the entry served wrongly once is not served again at that similarity
    assert list(lv.simulate(half, 0.80, always, verdicts, feedback=True)) == [
        1,
        3,
        1,
        2,
        1,
        1,
        1,
        0,
    ]


def test_config_names(replay: ModuleType) -> None:
    from langchain_valkey_semcache.guards import GuardVerifier
    from langchain_valkey_semcache.judge import JudgeVerifier
    from langchain_valkey_semcache.verification import AllOf

    assert replay.make_verifier("static") is None
    assert replay.make_verifier("guards:numbers+negation@0.97").checks == ("numbers", "negation")
    judged = replay.make_verifier("guards,judge=anthropic.claude-3-haiku-20240307-v1:0")
    assert isinstance(judged, AllOf)
    assert [type(v) for v in judged.verifiers] == [GuardVerifier, JudgeVerifier]
    assert judged.verifiers[1].llm.model_id == "anthropic.claude-3-haiku-20240307-v1:0"
    assert isinstance(replay.make_verifier("static,judge=m"), JudgeVerifier)
    with pytest.raises(SystemExit, match="unknown config"):
        replay.make_verifier("cosine")
