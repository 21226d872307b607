"""Threshold calibration: the picking rule as a unit, and the command on a small file."""

from __future__ import annotations

import itertools
import json
import os
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from langchain_valkey_semcache import calibrate
from langchain_valkey_semcache.calibrate import Pair, ThresholdRow, pick_threshold, sweep
from tests.support import TableEmbeddings, at_similarity


def rows(*spec: tuple[float, int, int]) -> list[ThresholdRow]:
    return [ThresholdRow(t, served, wrong, reusable=10) for t, served, wrong in spec]


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


def test_borderline_target_is_a_second_limit() -> None:
    table = [ThresholdRow(0.85, 20, 1, 10, borderline=4), ThresholdRow(0.90, 10, 0, 10, 1)]
    assert pick_threshold(table, 0.05).threshold == 0.85
    assert pick_threshold(table, 0.05, 0.20).threshold == 0.90  # 25% D+B at 0.85
    assert pick_threshold(table, 0.05, 0.05) is None


def test_sweep_counts_served_wrong_borderline_and_caught() -> None:
    pairs = [Pair("a", "b", "R"), Pair("c", "d", "D"), Pair("e", "f", "R"), Pair("g", "h", "B")]
    sims = [0.95, 0.91, 0.85, 0.93]
    [low, high] = sweep(pairs, sims, [0.80, 0.90])
    assert (low.served, low.wrong, low.borderline, low.caught) == (4, 1, 1, 1.0)
    assert (low.wrong_share, low.wrong_borderline_share) == (0.25, 0.5)
    assert (high.served, high.wrong, high.borderline, high.caught) == (3, 1, 1, 0.5)
    [guarded] = sweep(pairs, sims, [0.80], accepted=[True, False, True, True])
    assert (guarded.served, guarded.wrong) == (3, 0)


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
    argv = [str(pairs), "--max-wrong-share", "0.05", "--plot", str(plot), "--verifier", "none"]
    assert calibrate.main(argv, embeddings=emb) == 0
    out = capsys.readouterr().out
    assert "| threshold | served | R / B / D | caught | wrong (D) | wrong+borderline |" in out
    # the chosen threshold is a row of the table, above the 0.93 trap
    assert "| **0.94 (chosen)** | 2 | 2 / 0 / 0 | 50.0% | 0.0% | 0.0% |" in out
    assert (
        "ValkeySemanticCache(embeddings, url=..., similarity_threshold=0.94, verifier=None)" in out
    )
    pytest.importorskip("matplotlib")
    assert plot.stat().st_size > 0


def test_no_file_unless_asked_and_one_line_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    pairs = tmp_path / "pairs.jsonl"
    emb = write_pairs(pairs)
    monkeypatch.chdir(tmp_path)
    assert calibrate.main([str(pairs)], embeddings=emb) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pairs.jsonl"]
    assert "plot" not in capsys.readouterr().out
    with pytest.raises(SystemExit, match=r"^missing.jsonl: no such pairs file$"):
        calibrate.main(["missing.jsonl"], embeddings=emb)
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"q1": "a", "q2": "b", "verdict": "maybe"}) + "\n")
    with pytest.raises(SystemExit, match=r"bad\.jsonl:1: verdict 'maybe' is not R, B or D"):
        calibrate.main([str(bad)], embeddings=emb)


def test_verdict_pairs_and_the_borderline_target(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The verdict format (cached/query/verdict): a B pair at 0.92 counts toward the
    wrong+borderline share only, so only that target moves the choice above it."""
    spec = [("Where is Paris?", "Where is the city of Paris?", "R", 0.96),
            ("How do I learn Python?", "How do I learn Python for data science?", "B", 0.92),
            ("What is a cache?", "What does cache mean?", "R", 0.90)]  # fmt: skip
    table: dict[str, list[float]] = {}
    lines = []
    for i, (cached, query, verdict, sim) in enumerate(spec):
        lines.append(json.dumps({"cached": cached, "query": query, "verdict": verdict}))
        table[cached] = [1.0 if k == i else 0.0 for k in range(8)]
        table[query] = [0.0] * 8
        table[query][i], table[query][4 + i] = at_similarity(sim)[:2]
    pairs = tmp_path / "verdicts.jsonl"
    pairs.write_text("\n".join(lines) + "\n")
    emb = TableEmbeddings(table, dims=8)
    assert calibrate.main([str(pairs), "--low", "0.85"], embeddings=emb) == 0
    out = capsys.readouterr().out
    assert "3 pairs, R / B / D: 2 / 1 / 0; verifier: guards" in out
    assert "| **0.85 (chosen)** | 3 | 2 / 1 / 0 | 100.0% | 0.0% | 33.3% |" in out
    argv = [str(pairs), "--low", "0.85", "--max-wrong-borderline-share", "0.10"]
    assert calibrate.main(argv, embeddings=emb) == 0
    assert "similarity_threshold=0.93)" in capsys.readouterr().out


def test_guards_allow_a_looser_threshold(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pairs = tmp_path / "pairs.jsonl"
    emb = write_pairs(pairs)
    argv = [str(pairs), "--max-wrong-share", "0.05"]  # the guards are the default verifier
    assert calibrate.main(argv, embeddings=emb) == 0
    out = capsys.readouterr().out
    # every trap is rejected by the guards: install/uninstall (opposites), "What is Rust?" /
    # "Is Rust hard?" and "What is tea?" / "Where does tea grow?" (question_type)
    assert "| **0.50 (chosen)** | 4 | 4 / 0 / 0 | 100.0% | 0.0% | 0.0% |" in out
    assert "ValkeySemanticCache(embeddings, url=..., similarity_threshold=0.50)" in out


def test_unreachable_target_exits_non_zero(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text(json.dumps({"q1": "a b", "q2": "a c", "duplicate": False}) + "\n")
    emb = TableEmbeddings({"a b": at_similarity(1.0), "a c": at_similarity(0.99)})
    argv = [str(pairs), "--max-wrong-share", "0.05", "--plot", str(tmp_path / "p.png")]
    assert calibrate.main(argv, embeddings=emb) == 1
    assert "no threshold keeps wrong <= 5.0%" in capsys.readouterr().out


def test_help_shows_every_option_and_bedrock_takes_a_region(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(SystemExit):
        calibrate.parse_args(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    for option, default in [("--max-wrong-share", "0.03"), ("--verifier", "guards"),
                            ("--embeddings", "minilm"), ("--low", "0.5"),
                            ("--model-id", "amazon.titan-embed-text-v2:0")]:  # fmt: skip
        assert option in text and f"(default: {default})" in text
    assert "--plot PATH write a PNG" in text and "no file unless given" in text
    assert "(default: None)" not in text
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")  # found, never used: no call is made
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "example")
    emb = calibrate.make_embeddings("bedrock", "amazon.titan-embed-text-v2:0", "eu-west-3")
    assert emb.client.meta.region_name == "eu-west-3"  # type: ignore[attr-defined]


ROOT = Path(__file__).resolve().parents[2]


def _documented_command() -> str:
    """The calibrate command exactly as docs/calibration.md shows it (the Bedrock one)."""
    text = (ROOT / "docs" / "calibration.md").read_text()
    command = r"```bash\n(python -m langchain_valkey_semcache\.calibrate .*?)```"
    block = re.search(command, text, re.S)
    assert block, "docs/calibration.md shows no calibrate command"
    return block.group(1).replace("\\\n", " ")


class _Unpaid(TableEmbeddings):
    """Embeddings that fail the test if called: a refusal must come before any cost."""

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        raise AssertionError("embedded before refusing")


def test_documented_bedrock_command_without_aws_fails_in_one_line(tmp_path: Path) -> None:
    write_pairs(tmp_path / "pairs.jsonl")
    argv = shlex.split(_documented_command())
    assert argv[:3] == ["python", "-m", "langchain_valkey_semcache.calibrate"]
    assert "--embeddings" in argv and "bedrock" in argv and "--plot" in argv
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env |= {"AWS_CONFIG_FILE": "/nonexistent", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
            "AWS_EC2_METADATA_DISABLED": "true", "PYTHONPATH": str(ROOT)}  # fmt: skip
    proc = subprocess.run([sys.executable, *argv[1:]], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert "needs AWS credentials" in proc.stderr and "--embeddings minilm" in proc.stderr
    assert not (tmp_path / "calibration.png").exists()


def test_plot_without_matplotlib_is_refused_before_any_embedding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pairs = tmp_path / "pairs.jsonl"
    emb = write_pairs(pairs)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    unpaid = _Unpaid(emb.table, dims=16)
    argv = [str(pairs), "--plot", str(tmp_path / "c.png")]
    with pytest.raises(SystemExit, match=r"^calibrate: --plot needs matplotlib: .*\[plot\]'$"):
        calibrate.main(argv, embeddings=unpaid)
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    assert any(dep.startswith("matplotlib") for dep in extras["plot"])


def test_an_embedding_failure_is_one_line(tmp_path: Path) -> None:
    pairs = tmp_path / "pairs.jsonl"
    write_pairs(pairs)

    class Throttled(TableEmbeddings):
        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            raise RuntimeError("ThrottlingException: slow down\nrequest id 123")

    with pytest.raises(SystemExit) as info:
        calibrate.main([str(pairs)], embeddings=Throttled({}, dims=16))
    assert str(info.value) == (
        "calibrate: embedding the pairs failed: RuntimeError: ThrottlingException: slow down"
    )


def test_help_says_the_steps_the_table_prints(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        calibrate.parse_args(["--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "every 0.01 up to 0.99 is tried" in help_text
    assert "the table shows every 0.02" in help_text
    rows = sweep([Pair("a", "b", "R")], [0.9], calibrate.grid(0.5))
    shown = re.findall(r"^\| (0\.\d\d) \|", calibrate.render(rows, None), flags=re.M)
    steps = {round(float(b) - float(a), 4) for a, b in itertools.pairwise(shown[:-1])}
    assert steps == {0.02}, shown
