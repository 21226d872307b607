"""Pick ``similarity_threshold`` from question pairs of your own traffic, read by people.

``python -m langchain_valkey_semcache.calibrate PAIRS.jsonl --max-wrong-share 0.03``

Each line of PAIRS.jsonl is one pair: a cached question and a later question, and whether
the answer to the first may be served for the second. Two formats:

- verdicts: ``{"cached": ..., "query": ..., "verdict": "R"|"B"|"D"}`` (``q1``/``q2`` also
  work for cached/query): **R** reusable (the answer fully serves the later question),
  **B** borderline (partly right, too broad or too narrow), **D** different (wrong for it);
- labels: ``{"q1": ..., "q2": ..., "duplicate": true|false}``: true counts as R, false as D.

Include *related* pairs (same topic, other intent): they are what a cache gets wrong. The
pairs are embedded with the embeddings the cache will use (``--embeddings minilm`` offline,
``--embeddings bedrock --model-id amazon.titan-embed-text-v2:0 --region ...`` in
production). For each threshold the tool counts the pairs a cache would serve: cosine
similarity at or above it, and accepted by the verifier (by default the cache's own,
:class:`~langchain_valkey_semcache.guards.GuardVerifier`). It reports *caught* (R pairs
served / all R pairs), the *wrong* share (D / served) and the *wrong+borderline* share
((D + B) / served); it picks the loosest threshold at and above which the shares stay within
the targets, prints the table (the chosen row in it) and the configuration to use, and with
``--plot PATH`` draws both wrong measures against caught.

A live cache's shares are usually higher than the pairs': there every stored question is a
candidate, so a query meets more near neighbours than its one partner. Check the choice
with a replay of a stream of your own traffic (``bench/replay.py``).
"""

from __future__ import annotations

import argparse
import json
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from langchain_core.embeddings import Embeddings

from ._prompt import normalize
from .guards import GuardVerifier

VERDICTS = ("R", "B", "D")
DEFAULT_BEDROCK_MODEL = "amazon.titan-embed-text-v2:0"
SWEEP_STEP = 0.01  # the thresholds tried
TABLE_STEP = 0.02  # the thresholds printed (and the chosen one)
PLOT_EXTRA = "pip install 'langchain-valkey-semcache[plot]'"


@dataclass(frozen=True)
class Pair:
    """A cached question ``q1``, a later question ``q2`` and a verdict: R, B or D."""

    q1: str
    q2: str
    verdict: str

    @property
    def duplicate(self) -> bool:
        return self.verdict == "R"


@dataclass(frozen=True)
class ThresholdRow:
    """What a cache with this threshold would do on the pairs."""

    threshold: float
    served: int  # pairs served (q2 answered with q1's answer)
    wrong: int  # served pairs judged D (or labelled not duplicate)
    reusable: int  # R pairs in the file
    borderline: int = 0  # served pairs judged B

    @property
    def correct(self) -> int:
        return self.served - self.wrong - self.borderline

    @property
    def wrong_share(self) -> float:
        return self.wrong / self.served if self.served else 0.0

    @property
    def wrong_borderline_share(self) -> float:
        return (self.wrong + self.borderline) / self.served if self.served else 0.0

    @property
    def caught(self) -> float:
        """Share of the reusable pairs that are served."""
        return self.correct / self.reusable if self.reusable else 0.0


def _pair(row: dict[str, object]) -> Pair:
    cached, query = row.get("cached", row.get("q1")), row.get("query", row.get("q2"))
    if cached is None or query is None:
        raise KeyError("cached/q1" if cached is None else "query/q2")
    if "verdict" in row:
        verdict = str(row["verdict"]).strip().upper()
        if verdict not in VERDICTS:
            raise ValueError(f"verdict {row['verdict']!r} is not R, B or D")
    elif "duplicate" in row:
        verdict = "R" if row["duplicate"] else "D"
    else:
        raise KeyError("verdict or duplicate")
    return Pair(str(cached), str(query), verdict)


def load_pairs(path: Path) -> list[Pair]:
    """The pairs of a JSONL file; one-line errors (SystemExit) for a missing or bad file."""
    if not path.is_file():
        raise SystemExit(f"{path}: no such pairs file")
    pairs = []
    with path.open(encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                pairs.append(_pair(json.loads(line)))
            except KeyError as exc:
                raise SystemExit(f"{path}:{n}: missing field {exc.args[0]}") from exc
            except (ValueError, AttributeError) as exc:
                raise SystemExit(f"{path}:{n}: {exc}") from exc
    if not pairs:
        raise SystemExit(f"{path}: no pairs")
    return pairs


def similarities(pairs: Sequence[Pair], embeddings: Embeddings) -> list[float]:
    """Cosine similarity of each pair, with one batch embedding call for all texts."""
    texts = sorted({normalize(t) for p in pairs for t in (p.q1, p.q2)})
    vectors = dict(zip(texts, embeddings.embed_documents(texts), strict=True))
    return [_cosine(vectors[normalize(p.q1)], vectors[normalize(p.q2)]) for p in pairs]


def _cosine(a: Sequence[float], b: Sequence[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return dot / norm if norm else 0.0


def sweep(
    pairs: Sequence[Pair],
    sims: Sequence[float],
    thresholds: Sequence[float],
    accepted: Sequence[bool] | None = None,
) -> list[ThresholdRow]:
    """One row per threshold; ``accepted[i]`` False means a verifier rejects pair i."""
    ok = accepted if accepted is not None else [True] * len(pairs)
    reusable = sum(p.verdict == "R" for p in pairs)
    rows = []
    for t in thresholds:
        served = [p.verdict for p, s, a in zip(pairs, sims, ok, strict=True) if a and s >= t]
        rows.append(ThresholdRow(t, len(served), served.count("D"), reusable, served.count("B")))
    return rows


def pick_threshold(
    rows: Sequence[ThresholdRow],
    max_wrong_share: float,
    max_wrong_borderline_share: float = 1.0,
) -> ThresholdRow | None:
    """The loosest threshold at and above which every row is within both targets.

    Requiring every stricter threshold to qualify too keeps a lucky dip (one threshold
    with few wrong pairs between worse ones) from being picked. None when even the
    strictest row exceeds a target or nothing reusable is served at the qualifying ones.
    """
    best = None
    for row in sorted(rows, key=lambda r: r.threshold, reverse=True):
        if (
            row.wrong_share > max_wrong_share
            or row.wrong_borderline_share > max_wrong_borderline_share
        ):
            break
        best = row
    if best is None or best.correct == 0:
        return None
    return best


def grid(low: float = 0.5, high: float = 0.99, step: float = SWEEP_STEP) -> list[float]:
    """The thresholds tried: ``low`` to ``high`` in steps of ``step`` (cosine similarity)."""
    n = round((high - low) / step)
    return [round(low + i * step, 4) for i in range(n + 1)]


def make_embeddings(kind: str, model_id: str, region: str | None) -> Embeddings:
    """``minilm`` (offline, the ``local`` extra) or ``bedrock`` (needs AWS credentials).

    Raises SystemExit with one line when Bedrock has no credentials or no region to use.
    """
    if kind == "minilm":
        from .embeddings import MiniLMEmbeddings

        return MiniLMEmbeddings()
    import boto3  # type: ignore[import-untyped]
    from langchain_aws import BedrockEmbeddings

    session = boto3.Session(region_name=region)
    if session.get_credentials() is None:
        raise SystemExit(
            "calibrate: --embeddings bedrock needs AWS credentials and none were found "
            "(environment, ~/.aws, instance role); configure them, or use --embeddings minilm"
        )
    if session.region_name is None:
        raise SystemExit("calibrate: --embeddings bedrock needs a region: --region or AWS_REGION")
    try:
        return BedrockEmbeddings(model_id=model_id, region_name=session.region_name)
    except Exception as exc:  # langchain-aws validates the client at construction
        raise SystemExit(f"calibrate: Bedrock embeddings: {_one_line(exc)}") from exc


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")


def _have_matplotlib() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def plot(rows: Sequence[ThresholdRow], chosen: ThresholdRow | None, path: Path) -> bool:
    """Caught against both wrong measures, one point per threshold; False without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    caught = [r.caught for r in rows]
    ax.plot([r.wrong_share for r in rows], caught, "-o", ms=3, label="wrong (D)")
    ax.plot([r.wrong_borderline_share for r in rows], caught, ":^", ms=3,
            label="wrong + borderline (D + B)")  # fmt: skip
    for r in rows[:: max(1, len(rows) // 10)]:
        ax.annotate(f"{r.threshold:.2f}", (r.wrong_share, r.caught), fontsize=7,
                    xytext=(3, -9), textcoords="offset points")  # fmt: skip
    if chosen is not None:
        ax.plot([chosen.wrong_share, chosen.wrong_borderline_share], [chosen.caught] * 2, "ks",
                label=f"chosen {chosen.threshold:.2f}")  # fmt: skip
    ax.set_xlabel("share of served pairs")
    ax.set_ylabel("reusable pairs served (caught)")
    ax.set_title("up and to the left is better", fontsize=9)
    ax.set_xlim(left=0)
    ax.set_ylim(0, 1)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def render(
    rows: Sequence[ThresholdRow], chosen: ThresholdRow | None, every: float = TABLE_STEP
) -> str:
    """A markdown table on a coarser grid (every ``every``), always with the chosen row."""
    lines = [
        "| threshold | served | R / B / D | caught | wrong (D) | wrong+borderline |",
        "|---|---|---|---|---|---|",
    ]
    step = max(1, round(every / SWEEP_STEP))
    for i, r in enumerate(rows):
        mark = r is chosen
        if i % step == 0 or i == len(rows) - 1 or mark:
            t = f"**{r.threshold:.2f} (chosen)**" if mark else f"{r.threshold:.2f}"
            lines.append(
                f"| {t} | {r.served} | {r.correct} / {r.borderline} / {r.wrong} "
                f"| {r.caught:.1%} | {r.wrong_share:.1%} | {r.wrong_borderline_share:.1%} |"
            )
    return "\n".join(lines)


def _share(text: str) -> float:
    value = float(text)
    if not 0.0 <= value < 1.0:
        raise argparse.ArgumentTypeError(f"{text} is not a share in [0, 1)")
    return value


class _Help(argparse.ArgumentDefaultsHelpFormatter):
    """Shows each option's default, except where there is none (the help says what then)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        return action.help if action.default is None else super()._get_help_string(action)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m langchain_valkey_semcache.calibrate",
        description="Pick similarity_threshold from question pairs with verdicts (R/B/D) "
        "or duplicate labels.",
        formatter_class=_Help,
    )
    p.add_argument("pairs", type=Path,
                   help='JSONL: {"cached", "query", "verdict": R|B|D} or '
                   '{"q1", "q2", "duplicate": true|false}')  # fmt: skip
    p.add_argument("--max-wrong-share", type=_share, default=0.03, metavar="SHARE",
                   help="highest share of served pairs that are wrong (D)")  # fmt: skip
    p.add_argument("--max-wrong-borderline-share", type=_share, default=None, metavar="SHARE",
                   help="highest share of served pairs that are wrong or borderline (D + B); "
                   "no limit when unset")  # fmt: skip
    p.add_argument("--embeddings", choices=("minilm", "bedrock"), default="minilm",
                   help="minilm: offline all-MiniLM-L6-v2; bedrock: Bedrock")  # fmt: skip
    p.add_argument("--model-id", default=DEFAULT_BEDROCK_MODEL, metavar="ID",
                   help="Bedrock embedding model (with --embeddings bedrock)")  # fmt: skip
    p.add_argument("--region", default=os.environ.get("AWS_REGION") or None,
                   help="AWS region of Bedrock (with --embeddings bedrock); default: "
                   "$AWS_REGION, else your AWS configuration's")  # fmt: skip
    p.add_argument("--verifier", choices=("guards", "none"), default="guards",
                   help="the cache's verifier: guards (GuardVerifier, the cache's default) or "
                   "none (similarity only)")  # fmt: skip
    p.add_argument("--plot", type=Path, default=None, metavar="PATH",
                   help="write a PNG of caught against both wrong shares there (needs "
                   f"matplotlib: {PLOT_EXTRA}); no file unless given")  # fmt: skip
    p.add_argument("--low", type=float, default=0.5, metavar="COSINE",
                   help=f"lowest threshold of the sweep: every {SWEEP_STEP} up to 0.99 is tried; "
                   f"the table shows every {TABLE_STEP} and the chosen one")  # fmt: skip
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None, embeddings: Embeddings | None = None) -> int:
    """Run the calibration; ``embeddings`` replaces ``--embeddings`` (tests). Exit code."""
    args = parse_args(argv)
    if args.plot is not None and not _have_matplotlib():  # before any embedding call is paid
        raise SystemExit(f"calibrate: --plot needs matplotlib: {PLOT_EXTRA}")
    pairs = load_pairs(args.pairs)
    if embeddings is None:
        embeddings = make_embeddings(args.embeddings, args.model_id, args.region)
    try:
        sims = similarities(pairs, embeddings)
    except Exception as exc:  # throttling, access denied, no network: one line, no traceback
        raise SystemExit(f"calibrate: embedding the pairs failed: {_one_line(exc)}") from exc
    accepted = None
    verifier_code = ", verifier=None"
    if args.verifier == "guards":
        guard = GuardVerifier()
        accepted = [guard.verify(p.q2, p.q1, s) for p, s in zip(pairs, sims, strict=True)]
        verifier_code = ""  # the cache's default
    rows = sweep(pairs, sims, grid(args.low), accepted)
    limit_both = 1.0 if args.max_wrong_borderline_share is None else args.max_wrong_borderline_share
    chosen = pick_threshold(rows, args.max_wrong_share, limit_both)
    counts = " / ".join(str(sum(p.verdict == v for p in pairs)) for v in VERDICTS)
    print(f"{len(pairs)} pairs, R / B / D: {counts}; verifier: {args.verifier}")
    print(render(rows, chosen))
    if args.plot is not None and plot(rows, chosen, args.plot):
        print(f"plot: {args.plot}")
    targets = f"wrong <= {args.max_wrong_share:.1%}"
    if args.max_wrong_borderline_share is not None:
        targets += f", wrong+borderline <= {args.max_wrong_borderline_share:.1%}"
    if chosen is None:
        print(
            f"no threshold keeps {targets}: add pairs, use a stronger embedding model or a verifier"
        )
        return 1
    print(
        f"chosen: similarity_threshold={chosen.threshold:.2f} catches {chosen.caught:.1%} of "
        f"the reusable pairs, {chosen.wrong_share:.1%} wrong, "
        f"{chosen.wrong_borderline_share:.1%} wrong+borderline (target: {targets})"
    )
    print(
        f"ValkeySemanticCache(embeddings, url=..., "
        f"similarity_threshold={chosen.threshold:.2f}{verifier_code})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
