"""Pick ``similarity_threshold`` from labelled question pairs of your own traffic.

``python -m langchain_valkey_semcache.calibrate PAIRS.jsonl --max-wrong-share 0.05``

Each line of PAIRS.jsonl is ``{"q1": ..., "q2": ..., "duplicate": true|false}``: would the
answer to q1 be right for q2? Include *related* non-duplicates (same topic, other intent):
they are what a cache gets wrong. The pairs are embedded with the embeddings the cache
will use (``--embeddings minilm`` offline, ``--embeddings bedrock --model-id
amazon.titan-embed-text-v2:0`` in production), and for each threshold the tool counts the
pairs a cache would serve (cosine similarity at or above it, and, with ``--verifier
guards``, accepted by :class:`~langchain_valkey_semcache.guards.GuardVerifier`). It picks
the loosest threshold at and above which the wrong share of served pairs (non-duplicates
served / all served) stays within the target, prints the table, saves a plot and prints
the configuration to use.

A live cache's wrong share is usually higher than the pairs': there every stored question
is a candidate, so a query meets more near neighbours than its one partner. Check the
choice with a replay of a labelled stream (``bench/replay.py``).
"""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from langchain_core.embeddings import Embeddings

from ._prompt import normalize
from .guards import GuardVerifier


@dataclass(frozen=True)
class Pair:
    q1: str
    q2: str
    duplicate: bool


@dataclass(frozen=True)
class ThresholdRow:
    """What a cache with this threshold would do on the pairs."""

    threshold: float
    served: int  # pairs served (q2 answered with q1's answer)
    wrong: int  # served pairs that are not duplicates
    duplicates: int  # duplicate pairs in the file

    @property
    def wrong_share(self) -> float:
        return self.wrong / self.served if self.served else 0.0

    @property
    def recall(self) -> float:
        """Share of the duplicate pairs that are served."""
        return (self.served - self.wrong) / self.duplicates if self.duplicates else 0.0


def load_pairs(path: Path) -> list[Pair]:
    pairs = []
    with path.open(encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            row = json.loads(line)
            try:
                pairs.append(Pair(str(row["q1"]), str(row["q2"]), bool(row["duplicate"])))
            except KeyError as exc:
                raise SystemExit(f"{path}:{n}: missing field {exc}") from exc
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
    duplicates = sum(p.duplicate for p in pairs)
    rows = []
    for t in thresholds:
        served = [p for p, s, a in zip(pairs, sims, ok, strict=True) if a and s >= t]
        rows.append(ThresholdRow(t, len(served), sum(not p.duplicate for p in served), duplicates))
    return rows


def pick_threshold(rows: Sequence[ThresholdRow], max_wrong_share: float) -> ThresholdRow | None:
    """The loosest threshold at and above which every row's wrong share is within target.

    Requiring every stricter threshold to qualify too keeps a lucky dip (one threshold
    with few wrong pairs between worse ones) from being picked. None when even the
    strictest row exceeds the target or nothing is served at the qualifying thresholds.
    """
    best = None
    for row in sorted(rows, key=lambda r: r.threshold, reverse=True):
        if row.wrong_share > max_wrong_share:
            break
        best = row
    if best is None or best.served == best.wrong:  # serves no duplicate at all
        return None
    return best


def grid(low: float = 0.5, high: float = 0.99, step: float = 0.01) -> list[float]:
    n = round((high - low) / step)
    return [round(low + i * step, 4) for i in range(n + 1)]


def make_embeddings(kind: str, model_id: str | None) -> Embeddings:
    if kind == "minilm":
        from .embeddings import MiniLMEmbeddings

        return MiniLMEmbeddings()
    from langchain_aws import BedrockEmbeddings

    return BedrockEmbeddings(model_id=model_id or "amazon.titan-embed-text-v2:0")


def plot(rows: Sequence[ThresholdRow], chosen: ThresholdRow | None, path: Path) -> bool:
    """Wrong share and recall against threshold; False when matplotlib is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    fig, ax = plt.subplots(figsize=(6.5, 4))
    xs = [r.threshold for r in rows]
    ax.plot(xs, [r.wrong_share for r in rows], "-", label="wrong share of served pairs")
    ax.plot(xs, [r.recall for r in rows], "-", label="duplicate pairs served (recall)")
    if chosen is not None:
        ax.axvline(chosen.threshold, color="grey", ls="--", label=f"chosen {chosen.threshold:.2f}")
    ax.set_xlabel("similarity_threshold (cosine)")
    ax.set_ylim(0, 1)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def render(rows: Sequence[ThresholdRow], every: float = 0.02) -> str:
    """A markdown table of the rows on a coarser grid (every ``every``)."""
    lines = ["| threshold | served | wrong | wrong share | recall |", "|---|---|---|---|---|"]
    step = max(1, round(every / 0.01))
    for i, r in enumerate(rows):
        if i % step == 0 or i == len(rows) - 1:
            lines.append(
                f"| {r.threshold:.2f} | {r.served} | {r.wrong} | {r.wrong_share:.1%} "
                f"| {r.recall:.1%} |"
            )
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m langchain_valkey_semcache.calibrate",
        description="Pick similarity_threshold from labelled question pairs.",
    )
    p.add_argument("pairs", type=Path, help='JSONL of {"q1", "q2", "duplicate"}')
    p.add_argument("--max-wrong-share", type=float, default=0.05)
    p.add_argument("--embeddings", choices=("minilm", "bedrock"), default="minilm")
    p.add_argument("--model-id", help="Bedrock model id (default amazon.titan-embed-text-v2:0)")
    p.add_argument("--verifier", choices=("none", "guards"), default="none")
    p.add_argument("--plot", type=Path, default=Path("calibration.png"))
    p.add_argument("--low", type=float, default=0.5)
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None, embeddings: Embeddings | None = None) -> int:
    """Run the calibration; ``embeddings`` replaces ``--embeddings`` (tests). Exit code."""
    args = parse_args(argv)
    if not 0.0 <= args.max_wrong_share < 1.0:
        raise SystemExit("--max-wrong-share must be in [0, 1)")
    pairs = load_pairs(args.pairs)
    emb = embeddings if embeddings is not None else make_embeddings(args.embeddings, args.model_id)
    sims = similarities(pairs, emb)
    accepted = None
    verifier_code = ""
    if args.verifier == "guards":
        guard = GuardVerifier()
        accepted = [guard.verify(p.q2, p.q1, s) for p, s in zip(pairs, sims, strict=True)]
        verifier_code = ", verifier=GuardVerifier()"
    rows = sweep(pairs, sims, grid(args.low), accepted)
    chosen = pick_threshold(rows, args.max_wrong_share)
    dups = sum(p.duplicate for p in pairs)
    print(f"{len(pairs)} pairs, {dups} duplicates; verifier: {args.verifier}")
    print(render(rows))
    if plot(rows, chosen, args.plot):
        print(f"plot: {args.plot}")
    else:
        print("matplotlib is not installed: no plot")
    if chosen is None:
        print(
            f"no threshold keeps the wrong share within {args.max_wrong_share:.1%}: "
            "add labelled pairs, use a stronger embedding model or a verifier"
        )
        return 1
    print(
        f"chosen: similarity_threshold={chosen.threshold:.2f} serves {chosen.recall:.1%} of "
        f"the duplicate pairs with {chosen.wrong_share:.1%} wrong "
        f"(target {args.max_wrong_share:.1%})"
    )
    print(
        f"ValkeySemanticCache(embeddings, url=..., "
        f"similarity_threshold={chosen.threshold:.2f}{verifier_code})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
