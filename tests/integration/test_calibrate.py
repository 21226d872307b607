"""Threshold calibration: the picking rule as a unit, and the command on a small file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from langchain_valkey_semcache import calibrate
from langchain_valkey_semcache.calibrate import Pair, ThresholdRow, pick_threshold, sweep
from tests.support import TableEmbeddings, at_similarity


def rows(*spec: tuple[float, int, int]) -> list[ThresholdRow]:
    return [ThresholdRow(t, served, wrong, duplicates=10) for t, served, wrong in spec]


def test_pick_the_loosest_threshold_within_target() -> None:
    table = rows((0.80, 20, 8), (0.85, 12, 2), (0.90, 8, 0), (0.95, 4, 0))
    assert pick_threshold(table, 0.20).threshold == 0.85
    assert pick_threshold(table, 0.0).threshold == 0.90
    assert pick_threshold(table, 0.50).threshold == 0.80


def test_a_lucky_dip_below_a_bad_row_is_not_picked() -> None:
    table = rows((0.80, 20, 1), (0.85, 12, 6), (0.90, 8, 0))
    assert pick_threshold(table, 0.10).threshold == 0.90


def test_nothing_qualifies() -> None:
    assert pick_threshold(rows((0.90, 8, 4), (0.95, 4, 2)), 0.05) is None
    assert pick_threshold(rows((0.95, 0, 0)), 0.05) is None  # serves nothing at all


def test_sweep_counts_served_wrong_and_recall() -> None:
    pairs = [Pair("a", "b", True), Pair("c", "d", False), Pair("e", "f", True)]
    [low, high] = sweep(pairs, [0.95, 0.91, 0.85], [0.80, 0.90])
    assert (low.served, low.wrong, low.recall) == (3, 1, 1.0)
    assert (high.served, high.wrong, high.recall) == (2, 1, 0.5)
    [guarded] = sweep(pairs, [0.95, 0.91, 0.85], [0.80], accepted=[True, False, True])
    assert (guarded.served, guarded.wrong) == (2, 0)


def write_pairs(path: Path) -> TableEmbeddings:
    """Pairs at chosen similarities: duplicates high, one trap at 0.93, one at 0.87."""
    spec = [  # (q1, q2, duplicate, similarity)
        ("How do I reset my password?", "How can I reset my password?", True, 0.97),
        ("What is a cache?", "What does cache mean?", True, 0.95),
        ("How do I install Python?", "How do I uninstall Python?", False, 0.93),
        ("Where is Paris?", "Where is the city of Paris?", True, 0.91),
        ("What is Rust?", "Is Rust hard?", False, 0.87),
        ("How old is the sun?", "How old is the Sun exactly?", True, 0.85),
        ("What is tea?", "Where does tea grow?", False, 0.70),
    ]
    table: dict[str, list[float]] = {}
    with path.open("w") as f:
        for i, (q1, q2, dup, sim) in enumerate(spec):
            f.write(json.dumps({"q1": q1, "q2": q2, "duplicate": dup}) + "\n")
            base = [0.0] * 16
            base[i] = 1.0  # each pair on its own axis: pairs are unrelated to each other
            other = [0.0] * 16
            other[i], other[8 + i % 8] = at_similarity(sim)[:2]
            table[q1], table[q2] = base, other
    return TableEmbeddings(table, dims=16)


def test_command_prints_table_plot_and_configuration(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pairs = tmp_path / "pairs.jsonl"
    emb = write_pairs(pairs)
    plot = tmp_path / "calibration.png"
    argv = [str(pairs), "--max-wrong-share", "0.05", "--plot", str(plot)]
    assert calibrate.main(argv, embeddings=emb) == 0
    out = capsys.readouterr().out
    assert "| threshold | served | wrong | wrong share | recall |" in out
    assert "similarity_threshold=0.94" in out  # above the 0.93 trap
    assert "ValkeySemanticCache(embeddings, url=..., similarity_threshold=0.94)" in out
    pytest.importorskip("matplotlib")
    assert plot.stat().st_size > 0


def test_guards_allow_a_looser_threshold(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pairs = tmp_path / "pairs.jsonl"
    emb = write_pairs(pairs)
    argv = [str(pairs), "--max-wrong-share", "0.05", "--verifier", "guards",
            "--plot", str(tmp_path / "p.png")]  # fmt: skip
    assert calibrate.main(argv, embeddings=emb) == 0
    out = capsys.readouterr().out
    # the install/uninstall trap is rejected by the guards; "Is Rust hard?" is not
    assert "similarity_threshold=0.88, verifier=GuardVerifier()" in out


def test_unreachable_target_exits_non_zero(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text(json.dumps({"q1": "a b", "q2": "a c", "duplicate": False}) + "\n")
    emb = TableEmbeddings({"a b": at_similarity(1.0), "a c": at_similarity(0.99)})
    argv = [str(pairs), "--max-wrong-share", "0.05", "--plot", str(tmp_path / "p.png")]
    assert calibrate.main(argv, embeddings=emb) == 1
    assert "no threshold keeps the wrong share within 5.0%" in capsys.readouterr().out
