"""Hit correctness of ValkeySemanticCache on a labelled question stream.

Replays a stream of ``{"t", "query", "class_id"}`` lines (e.g. ``dev_stream.jsonl`` of the
evaluation data, see the README's "Hit correctness") through the public API, as an
application would: ``search()``, and ``store()`` on a miss. One row per (configuration,
threshold), each on a fresh index of the real local engine. Embeddings are computed once
(one batch call, cached under ``bench/out/embeddings/``) and replayed from memory, so a row
takes seconds.

Two yardsticks, side by side:

- **verdicts** (``--verdicts``, default ``<name>_verdicts.jsonl`` beside ``<name>_stream.jsonl``
  when it exists): pairs read by people, ``{"cached", "query", "verdict"}`` with R reusable,
  B borderline, D different. A served pair of the same ``class_id`` is correct; one of
  another class is judged by its verdict, else counted wrong (and as "no verdict"). *caught* =
  correct hits / possible hits (queries with an earlier same-class question or an earlier
  question judged R); *wrong* = D / hits; *wrong+borderline* = (D + B) / hits.
- **labels**: a hit is correct when the served entry has the same ``class_id``; possible
  hits are queries with an earlier question of their class. Quora's labels over-count
  wrong hits (many label-wrong pairs are reusable), so the verdicts come first.

``--pairs FILE`` (``{"q1", "q2", "duplicate"}`` lines, e.g. ``probes.jsonl``) stores each q1
and looks its q2 up instead, in a namespace of its own, and reports served/not served
against the label.

Economics (defaults from the seed blog, see ``Economics``): average latency and daily cost
without the cache and with it, and wrong answers served per day.

    python bench/replay.py DATA/dev_stream.jsonl --thresholds 0.86 0.90 --configs static guards
    python bench/replay.py DATA/dev_stream.jsonl --half 0 --thresholds 0.90
    python bench/replay.py --pairs DATA/probes.jsonl --configs static guards
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings

sys.path.insert(0, str(Path(__file__).parent))
from _common import ReplayEmbeddings, table

from langchain_valkey_semcache import ValkeySemanticCache
from langchain_valkey_semcache import normalize_prompt as normalize
from langchain_valkey_semcache.engine import LocalEngine
from langchain_valkey_semcache.guards import CHECKS, GuardVerifier
from langchain_valkey_semcache.judge import JudgeVerifier, bedrock_judge_model
from langchain_valkey_semcache.verification import AllOf

HERE = Path(__file__).parent
OUT = HERE / "out"
VERDICTS = {"R": "reusable", "B": "borderline", "D": "different"}


@dataclass(frozen=True)
class Economics:
    """Cost model of the seed blog's table (baseline 4.35 s and $49.5 per day).

    The blog gives neither the traffic nor the prices; these defaults reproduce its baseline:
    10,000 questions a day at $0.00495 per model call (e.g. Claude Haiku 4.5 at $1/$5 per
    million input/output tokens with ~500 tokens in and ~890 out) is $49.5 a day. An
    embedding costs $0.0000004 (Titan Text Embeddings V2 at $0.02 per million tokens, ~20
    tokens a question) and 0.14 s (the blog's measured Bedrock call, 124-142 ms). The
    blog's $6.8 a day at a 90.3% hit rate leaves 6.8 - 0.097 * 49.5 = $2.0 a day that is not
    model calls: taken as the cache's fixed cost (node and embeddings).
    """

    queries_per_day: int = 10_000
    llm_latency_s: float = 4.35
    llm_price: float = 0.00495
    embedding_latency_s: float = 0.14
    embedding_price: float = 0.0000004
    cache_cost_per_day: float = 2.0

    @property
    def baseline_cost(self) -> float:
        return self.queries_per_day * self.llm_price


@dataclass
class Row:
    """Counters of one replay."""

    config: str
    threshold: float
    queries: int = 0
    possible: int = 0
    hits: int = 0
    exact: int = 0
    wrong: int = 0  # by labels: another class_id
    latency_s: list[float] = field(default_factory=list)
    wrong_pairs: list[tuple[str, str, float]] = field(default_factory=list)
    # by verdicts (where a pair has one, else by class_id)
    judged: dict[str, int] = field(default_factory=lambda: dict.fromkeys("RBD", 0))
    no_verdict: int = 0  # served pairs of different classes without a verdict (count as D)
    possible_judged: int = 0

    @property
    def correct(self) -> int:
        return self.hits - self.wrong

    def rates(self) -> tuple[float, float, float]:
        """Hit rate, wrong share of hits, share of possible hits caught (by labels)."""
        return (
            self.hits / max(1, self.queries),
            self.wrong / max(1, self.hits),
            self.correct / max(1, self.possible),
        )

    def judged_rates(self) -> tuple[float, float, float]:
        """By verdicts: caught, wrong (D) share of hits, wrong+borderline (D + B) share."""
        j, hits = self.judged, max(1, self.hits)
        return j["R"] / max(1, self.possible_judged), j["D"] / hits, (j["D"] + j["B"]) / hits

    def cells(self, econ: Economics, verdicts: bool) -> list[str]:
        hit, wrong, caught = self.rates()
        embedded = (self.queries - self.exact) / max(1, self.queries)
        cost = econ.queries_per_day * ((1 - hit) * econ.llm_price + embedded * econ.embedding_price)
        cost += econ.cache_cost_per_day
        latency = float(np.mean(self.latency_s)) if self.latency_s else 0.0
        day = econ.queries_per_day * hit
        head = [self.config, f"{self.threshold:.2f}", f"{hit:.1%}"]
        labels = [f"{caught:.1%}", f"{wrong:.1%}"]
        tail = [f"{self.hits}/{self.queries}", f"{latency:.2f}", f"{cost:.1f}"]
        if not verdicts:
            return [*head, *labels, *tail, f"{day * wrong:,.0f}"]
        v_caught, v_wrong, v_both = self.judged_rates()
        return [
            *head, f"{v_caught:.1%}", f"{v_wrong:.1%}", f"{v_both:.1%}", str(self.no_verdict),
            *labels, *tail, f"{day * v_wrong:,.0f}", f"{day * (v_both - v_wrong):,.0f}",
        ]  # fmt: skip


def headers(verdicts: bool) -> tuple[str, ...]:
    head, tail = ("config", "threshold", "hit rate"), ("hits", "avg latency s", "cost $/day")
    labels = ("labels: caught", "labels: wrong")
    if not verdicts:
        return (*head, *labels, *tail, "wrong answers/day")
    return (
        *head, "caught", "wrong (D)", "wrong+borderline", "no verdict", *labels, *tail,
        "wrong/day", "borderline/day",
    )  # fmt: skip


def make_verifier(name: str) -> Any:
    """``static`` (no verifier), ``guards`` (the default checks), ``guards:a+b`` (only
    those), ``guards+a`` (the defaults and more), ``guards@0.95`` (no checks at or above
    that similarity); any of them followed by ``,judge=MODEL_ID``: then a Bedrock chat model
    judges what passed (needs AWS credentials; no budget limit in a replay)."""
    name, _, judge_model = name.partition(",judge=")
    base, _, trust = name.partition("@")
    if base == "static":
        checks: tuple[str, ...] | None = None
    elif base == "guards":
        checks = CHECKS
    elif base.startswith("guards:"):
        checks = tuple(base.removeprefix("guards:").split("+"))
    elif base.startswith("guards+"):
        checks = CHECKS + tuple(base.removeprefix("guards+").split("+"))
    else:
        raise SystemExit(
            f"unknown config {name!r}: static, guards, guards:a+b, guards+a, guards@0.95, "
            "each optionally followed by ,judge=MODEL_ID"
        )
    trust_above = float(trust) if trust else None
    guards = None if checks is None else GuardVerifier(checks, trust_above=trust_above)
    if not judge_model:
        return guards
    llm = bedrock_judge_model(judge_model, os.environ.get("AWS_REGION", "us-west-2"))
    judge = JudgeVerifier(llm, max_calls=10**9)
    return judge if guards is None else AllOf(guards, judge)


# -- data ------------------------------------------------------------------------------


def read_jsonl(path: Path, limit: int | None = None) -> list[dict[str, Any]]:
    rows = []
    with path.open(encoding="utf-8") as f:
        for line in f:
            if line.strip():
                rows.append(json.loads(line))
                if limit is not None and len(rows) >= limit:
                    break
    return rows


def require(path: Path, what: str) -> Path:
    """``path`` if it exists, else exit with one line (the data is not in the repository)."""
    if not path.is_file():
        raise SystemExit(
            f"{path}: no such {what} file (the evaluation data is not shipped with the "
            "project; see the README's 'Hit correctness' for where it comes from)"
        )
    return path


Verdicts = dict[tuple[str, str], str]


def read_verdicts(path: Path) -> Verdicts:
    """``{"cached", "query", "verdict"}`` lines -> {(query, cached) normalized: R/B/D}."""
    out: Verdicts = {}
    for n, row in enumerate(read_jsonl(require(path, "verdicts")), 1):
        verdict = str(row.get("verdict", "")).upper()
        if verdict not in VERDICTS or "cached" not in row or "query" not in row:
            raise SystemExit(f"{path}:{n}: need cached, query and verdict (R, B or D)")
        out[normalize(row["query"]), normalize(row["cached"])] = verdict
    return out


def sibling(stream: Path, name: str) -> Path:
    """``dev_stream.jsonl`` -> ``dev_<name>`` (``dev.jsonl`` for an empty name)."""
    stem = stream.name.removesuffix(".jsonl").removesuffix("_stream")
    return stream.with_name(f"{stem}_{name}" if name else f"{stem}.jsonl")


def split_half(stream: list[dict[str, Any]], pairs: Path, half: int) -> list[dict[str, Any]]:
    """Questions whose connected component in the pair graph (duplicate and non-duplicate
    edges) hashes to ``half``: a question and its hard negatives stay in the same half."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for pair in read_jsonl(pairs):
        a, b = find(normalize(pair["q1"])), find(normalize(pair["q2"]))
        if a != b:
            parent[a] = b

    def side(text: str) -> int:
        return int(hashlib.sha256(find(normalize(text)).encode()).hexdigest(), 16) % 2

    return [r for r in stream if side(r["query"]) == half]


def embed_all(
    texts: Sequence[str], embeddings: Embeddings, cache_name: str | None
) -> ReplayEmbeddings:
    """One batch embedding call for every distinct normalized text (cached on disk by name)."""
    distinct = sorted({normalize(t) for t in texts})
    path = None
    if cache_name:
        digest = hashlib.sha256("\n".join(distinct).encode()).hexdigest()[:16]
        path = OUT / "embeddings" / f"{cache_name}-{digest}.npy"
    if path is not None and path.exists():
        matrix = np.load(path)
    else:
        started = time.perf_counter()
        matrix = np.asarray(embeddings.embed_documents(distinct), dtype=np.float32)
        print(f"embedded {len(distinct)} texts in {time.perf_counter() - started:.1f}s",
              file=sys.stderr)  # fmt: skip
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            np.save(path, matrix)
    return ReplayEmbeddings(dict(zip(distinct, matrix, strict=True)))


# -- replays ---------------------------------------------------------------------------


def new_cache(emb: Embeddings, url: str, threshold: float, config: str) -> ValkeySemanticCache:
    dims = len(emb.embed_query(next(iter(emb.vectors))))  # type: ignore[attr-defined]
    return ValkeySemanticCache(
        emb, url=url, index_name=f"replay_{uuid.uuid4().hex[:12]}", dims=dims,
        similarity_threshold=threshold, verifier=make_verifier(config), on_error="raise",
        socket_timeout_seconds=30.0,  # a loaded machine must not turn into an error
    )  # fmt: skip


def judge(verdicts: Verdicts, query: str, cached: str, same_class: bool) -> str:
    """R for the same class, else the pair's verdict (R, B or D), else "" (none)."""
    if same_class:
        return "R"
    return verdicts.get((normalize(query), normalize(cached)), "")


def possible_by_verdicts(stream: list[dict[str, Any]], verdicts: Verdicts) -> list[bool]:
    """Per query: an earlier question of its class, or one judged reusable for it."""
    reusable: dict[str, set[str]] = {}
    for (query, cached), verdict in verdicts.items():
        if verdict == "R":
            reusable.setdefault(query, set()).add(cached)
    seen_class: set[Any] = set()
    seen_text: set[str] = set()
    out = []
    for item in stream:
        text = normalize(item["query"])
        out.append(item["class_id"] in seen_class or bool(reusable.get(text, set()) & seen_text))
        seen_class.add(item["class_id"])
        seen_text.add(text)
    return out


def replay_stream(
    stream: list[dict[str, Any]], emb: Embeddings, url: str, threshold: float, config: str,
    econ: Economics, verdicts: Verdicts | None = None,
) -> Row:  # fmt: skip
    row = Row(config, threshold)
    cache = new_cache(emb, url, threshold, config)
    key_class: dict[str, Any] = {}
    key_text: dict[str, str] = {}
    seen: set[Any] = set()
    if verdicts is not None:
        row.possible_judged = sum(possible_by_verdicts(stream, verdicts))
    try:
        for item in stream:
            cls = item["class_id"]
            row.queries += 1
            row.possible += cls in seen
            seen.add(cls)
            result = cache.search(item["query"])
            t = result.timings
            cache_s = (t.total_ms - t.embedding_ms) / 1000
            if result.hit is not None:
                row.hits += 1
                row.exact += result.hit.exact
                cached = key_text.get(result.hit.key, "")
                same = key_class.get(result.hit.key) == cls
                if not same:
                    row.wrong += 1
                    row.wrong_pairs.append((item["query"], cached, result.hit.similarity))
                if verdicts is not None:
                    verdict = judge(verdicts, item["query"], cached, same)
                    row.no_verdict += not verdict
                    row.judged[verdict or "D"] += 1
                embed_s = 0.0 if result.hit.exact else econ.embedding_latency_s
                row.latency_s.append(embed_s + cache_s)
                continue
            started = time.perf_counter()
            key = cache.store(item["query"], f"answer {item.get('t', row.queries)}")
            store_s = time.perf_counter() - started
            if key is not None:
                key_class[key], key_text[key] = cls, item["query"]
            row.latency_s.append(econ.embedding_latency_s + cache_s + econ.llm_latency_s + store_s)
    finally:
        cache.drop_index()
        cache.close()
    return row


def replay_pairs(
    pairs: list[dict[str, Any]], emb: Embeddings, url: str, threshold: float, config: str
) -> tuple[Row, list[tuple[bool, float | None]]]:
    """Store q1, look q2 up, each pair in its own namespace; (served, similarity) per pair."""
    row = Row(config, threshold)
    cache = new_cache(emb, url, threshold, config)
    outcomes = []
    try:
        for i, pair in enumerate(pairs):
            ns = f"pair-{i}"
            cache.store(pair["q1"], "answer", namespace=ns)
            result = cache.search(pair["q2"], namespace=ns)
            served = result.hit is not None
            row.queries += 1
            row.possible += bool(pair["duplicate"])
            row.hits += served
            row.wrong += served and not pair["duplicate"]
            outcomes.append((served, result.best_similarity))
    finally:
        cache.drop_index()
        cache.close()
    return row, outcomes


# -- output ----------------------------------------------------------------------------


def plot(rows: list[Row], path: Path, title: str, verdicts: bool = False) -> None:
    """Left: hit rate and wrong share against the threshold. Right: caught against the
    wrong share (and, with verdicts, against the wrong+borderline share too)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print(f"matplotlib is not installed: no plot at {path}", file=sys.stderr)
        return
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5))
    basis = "verdicts" if verdicts else "labels"
    for i, config in enumerate(dict.fromkeys(r.config for r in rows)):
        mine = sorted((r for r in rows if r.config == config), key=lambda r: r.threshold)
        xs = [r.threshold for r in mine]
        hit = [r.rates()[0] for r in mine]
        if verdicts:
            caught, wrong, both = zip(*(r.judged_rates() for r in mine), strict=True)
        else:
            _, wrong, caught = zip(*(r.rates() for r in mine), strict=True)
        color = f"C{i}"
        left.plot(xs, hit, "-o", color=color, label=f"{config}: hit rate")
        left.plot(xs, wrong, "--s", color=color, label=f"{config}: wrong share of hits")
        right.plot(wrong, caught, "-o", color=color, label=f"{config}: wrong (D)")
        if verdicts:
            right.plot(both, caught, ":^", color=color, label=f"{config}: wrong+borderline")
        for x, y, t in zip(wrong, caught, xs, strict=True):
            right.annotate(f"{t:.2f}", (x, y), fontsize=7, xytext=(3, 3),
                           textcoords="offset points")  # fmt: skip
    left.set_xlabel("similarity_threshold (cosine)")
    left.set_ylabel("share of queries / of hits")
    right.set_xlabel(f"share of hits that are wrong ({basis})")
    right.set_ylabel(f"share of possible hits caught ({basis})")
    right.set_title("trade-off: up and to the left is better", fontsize=9)
    for ax in (left, right):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    left.yaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    right.xaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    right.yaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    print(f"plot: {path}", file=sys.stderr)


def pair_detail(
    pairs: list[dict[str, Any]], results: list[tuple[Row, list[tuple[bool, float | None]]]]
) -> str:
    heads = ["q1", "q2", "duplicate", "similarity"]
    heads += [f"{r.config}@{r.threshold:.2f}" for r, _ in results]
    lines = []
    for i, pair in enumerate(pairs):
        sim = results[0][1][i][1] if results else None
        cells = [pair["q1"][:48], pair["q2"][:48], "yes" if pair["duplicate"] else "no",
                 "-" if sim is None else f"{sim:.3f}"]  # fmt: skip
        for _, outcomes in results:
            served = outcomes[i][0]
            cells.append(("served" + ("" if pair["duplicate"] else " (WRONG)")) if served else "-")
        lines.append(cells)
    return table(heads, lines)


# -- label audit ----------------------------------------------------------------------


def pair_id(query: str, cached: str) -> str:
    """A stable id for a (new question, cached question) pair, without the text."""
    return hashlib.sha256(f"{normalize(query)}\x1f{normalize(cached)}".encode()).hexdigest()[:12]


def write_audit_sample(row: Row, n: int, path: Path, stream: str, seed: int = 7) -> None:
    """A seeded sample of the row's label-wrong hits, to be read and given a verdict."""
    sample = random.Random(seed).sample(row.wrong_pairs, min(n, len(row.wrong_pairs)))
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as f:
        f.write(f"# stream={stream} config={row.config} threshold={row.threshold:.2f} "
                f"wrong={row.wrong} seed={seed}\n")  # fmt: skip
        f.write("pair_id\tverdict\tsimilarity\tnew question\tcached question\n")
        for query, cached, sim in sample:
            f.write(f"{pair_id(query, cached)}\t?\t{sim:.3f}\t{query}\t{cached}\n")
    print(f"audit sample of {len(sample)} wrong hits: {path} (verdicts: R, B or D)",
          file=sys.stderr)  # fmt: skip


def audit_table(rows: list[Row], path: Path) -> str:
    """Label-wrong hits re-read by a person: how many of those audited were reusable,
    borderline or different, and the wrong share if only those found different (or
    different and borderline) are counted, extrapolated from the audited share. Only the
    row the sample was drawn from (same config and threshold) is reported: another row's
    wrong hits are a different population."""
    lines_in = path.read_text(encoding="utf-8").splitlines()
    frame = dict(kv.split("=", 1) for kv in lines_in[0].lstrip("# ").split())
    verdicts: dict[str, str] = {}
    for line in lines_in[2:]:
        cells = line.split("\t")
        if len(cells) >= 2 and cells[1] in VERDICTS:
            verdicts[cells[0]] = cells[1]
    heads = ("config", "threshold", "wrong (labels)", "audited", "R / B / D",
             "wrong share: labels", "audit: D only", "audit: D + B")  # fmt: skip
    lines = []
    for r in rows:
        if (r.config, f"{r.threshold:.2f}") != (frame["config"], frame["threshold"]):
            continue
        found = [verdicts[i] for i in (pair_id(q, c) for q, c, _ in r.wrong_pairs) if i in verdicts]
        if not found:
            continue
        d, b = found.count("D") / len(found), found.count("B") / len(found)
        lines.append((
            r.config, f"{r.threshold:.2f}", r.wrong, len(found),
            " / ".join(str(found.count(v)) for v in "RBD"), f"{r.rates()[1]:.1%}",
            f"{r.wrong * d / max(1, r.hits):.1%}", f"{r.wrong * (d + b) / max(1, r.hits):.1%}",
        ))  # fmt: skip
    if not lines:
        return f"no row of {frame['config']} @ {frame['threshold']} to apply {path} to"
    return table(heads, lines)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("stream", nargs="?", type=Path,
                   help="stream to replay, e.g. DATA/dev_stream.jsonl (or --pairs)")  # fmt: skip
    p.add_argument("--pairs", type=Path, help="pairs file: store q1, look q2 up")
    p.add_argument("--thresholds", type=float, nargs="+", default=[0.80, 0.86, 0.90, 0.94])
    p.add_argument("--configs", nargs="+", default=["static", "guards"],
                   help="static, guards, guards:A+B, guards+C, guards@T [,judge=ID]")  # fmt: skip
    p.add_argument("--limit", type=int, help="replay only the first N queries (smoke run)")
    p.add_argument("--half", type=int, choices=(0, 1),
                   help="keep one half of the stream, split by pair-graph component")  # fmt: skip
    p.add_argument("--split-pairs", type=Path,
                   help="pairs whose graph defines the halves (default: dev.jsonl beside "
                   "dev_stream.jsonl)")  # fmt: skip
    p.add_argument("--verdicts", type=Path,
                   help="read pairs {cached, query, verdict R/B/D} (default: dev_verdicts.jsonl "
                   "beside dev_stream.jsonl, when it exists)")  # fmt: skip
    p.add_argument("--embeddings", choices=("minilm",), default="minilm")
    p.add_argument("--url", help="an existing valkey + search server (default: start one)")
    p.add_argument("--plot", type=Path, help="write a PNG of the rows there (default: none)")
    p.add_argument("--audit", type=Path,
                   help="verdicts TSV (pair_id, R/B/D): audit-adjusted wrong shares")  # fmt: skip
    p.add_argument("--audit-sample", type=int, metavar="N",
                   help="write N seeded wrong hits of the last row to bench/out/")  # fmt: skip
    for f in Economics.__dataclass_fields__.values():
        p.add_argument("--" + f.name.replace("_", "-"), type=type(f.default), default=f.default)
    args = p.parse_args(argv)
    if (args.stream is None) == (args.pairs is None):
        p.error("give a stream file (e.g. DATA/dev_stream.jsonl) or --pairs FILE")
    return args


def main(argv: Sequence[str] | None = None, embeddings: Embeddings | None = None) -> list[Row]:
    """Run the benchmark; ``embeddings`` replaces ``--embeddings`` (tests)."""
    args = parse_args(argv)
    econ = Economics(**{k: getattr(args, k) for k in Economics.__dataclass_fields__})
    source = require(args.pairs or args.stream, "pairs" if args.pairs else "stream")
    verdicts = None
    if args.pairs is None:
        path = args.verdicts or sibling(source, "verdicts.jsonl")
        if args.verdicts is not None or path.is_file():
            verdicts = read_verdicts(path)
            print(f"verdicts: {path} ({len(verdicts)} pairs)", file=sys.stderr)
    for config in args.configs:
        make_verifier(config)  # fail fast on a bad name
    items = read_jsonl(source, None if args.half is not None else args.limit)
    if args.pairs is None and args.half is not None:
        split = require(args.split_pairs or sibling(source, ""), "split pairs")
        items = split_half(items, split, args.half)[: args.limit]
    if embeddings is None:
        from langchain_valkey_semcache.embeddings import MiniLMEmbeddings

        embeddings, cache_name = MiniLMEmbeddings(), "minilm"
    else:
        cache_name = None
    texts = [t for it in items for t in ((it["q1"], it["q2"]) if args.pairs else (it["query"],))]
    emb = embed_all(texts, embeddings, cache_name)
    engine = None if args.url else LocalEngine().start()
    url = args.url or engine.url  # type: ignore[union-attr]
    try:
        rows: list[Row] = []
        pair_results = []
        for config in args.configs:
            for threshold in args.thresholds:
                started = time.perf_counter()
                if args.pairs:
                    row, outcomes = replay_pairs(items, emb, url, threshold, config)
                    pair_results.append((row, outcomes))
                else:
                    row = replay_stream(items, emb, url, threshold, config, econ, verdicts)
                rows.append(row)
                print(f"{config} @ {threshold:.2f}: {time.perf_counter() - started:.1f}s",
                      file=sys.stderr)  # fmt: skip
    finally:
        if engine is not None:
            engine.stop()
    what = f"{source.name}" + (f" half {args.half}" if args.half is not None else "")
    print(f"{what}: {len(items)} {'pairs' if args.pairs else 'queries'}; economics: "
          f"{econ.queries_per_day:,} queries/day, baseline {econ.llm_latency_s:.2f} s and "
          f"${econ.baseline_cost:.1f}/day")  # fmt: skip
    if args.pairs:
        heads = ("config", "threshold", "served", "served wrongly", "wrong share", "caught")
        print(table(heads, [
            (r.config, f"{r.threshold:.2f}", f"{r.hits}/{r.queries}", r.wrong,
             f"{r.rates()[1]:.1%}", f"{r.correct}/{r.possible}") for r in rows
        ]))  # fmt: skip
        if len(items) <= 50:
            print(pair_detail(items, pair_results))
    else:
        if verdicts is not None:
            print(f"possible hits: {rows[0].possible_judged} by verdicts, "
                  f"{rows[0].possible} by labels")  # fmt: skip
        print(
            table(
                headers(verdicts is not None), [r.cells(econ, verdicts is not None) for r in rows]
            )
        )
        if args.audit:
            print(audit_table(rows, args.audit))
        if args.audit_sample:
            last = rows[-1]
            name = f"audit-{source.stem}-{last.config}-{last.threshold:.2f}.tsv"
            write_audit_sample(last, args.audit_sample, OUT / name, source.name)
    if args.plot and len(args.thresholds) > 1:
        plot(rows, args.plot, f"{what} ({len(items)})", verdicts is not None)
    return rows


if __name__ == "__main__":
    main()
