"""What a cached answer costs: memory per entry, write speed, and the lookup's floor ratio.

Each entry is stored as a LangChain chat model call stores it: ``update(prompt, llm_string,
[ChatGeneration(AIMessage)])`` with a real question of ``../shared/data`` (variants of them
past the 7,017 distinct ones) and 1,500 characters of real English (Python's own help
texts) with a chat model's usual metadata. Every cell starts a fresh engine and reads
``INFO memory``'s ``used_memory`` before and after the fill (the index already created, so
its fixed cost is apart), then splits the bytes per entry: the hash (``MEMORY USAGE`` of a
sample of entry keys: vector, answer, prompt, metadata fields and what the key and hash
cost around them) and the index (the rest: its own vector copy, the HNSW graph, TAGs).

Workloads: ``real`` (production-shaped) stores the all-MiniLM-L6-v2 vectors of the
questions (variants: the question's vector moved to cosine 0.88-0.97, a paraphrase), and at
512 or 1024 dimensions the same vectors through a fixed random orthogonal map (it keeps
every cosine, so recall behaves as on 384-d while memory is that of the larger vectors);
``random`` (stress) stores random unit vectors. Hit queries sit at cosine 0.97 from a
stored entry; recall@1 is the served answer against the exact nearest entry (numpy).

Rows, side by side in one run: ours through ``update()`` (answers compressed, the default,
and ``compress_answers=False``), ours through ``store_many``, and langchain-redis 0.2.6
through its ``update()`` on RediSearch (its own virtualenv: ``make bench`` creates it), and
the floor ratio: our hit p50 through ``lookup()`` over the p50 of the single raw
``FT.SEARCH`` the cache sent (captured from the client, replayed with each query vector).

    python bench/cost.py                  # 10k entries, 384/512/1024-d, both engines (~10 min)
    python bench/cost.py --quick          # 2k entries, a smoke run
    python bench/cost.py --sizes 100000 --dims 1024 --engines valkey-search
    python bench/cost.py --hnsw-sweep     # M x EF_CONSTRUCTION: memory, writes, recall
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import _engines
import _real
import numpy as np
import valkey
import zstandard
from _common import near, pct, table, unit_rows
from _memory import breakdown
from _report import COMPARE_PYTHON
from _workload import Replay, indexed, wait_indexed
from langchain_core.messages import AIMessage
from langchain_core.outputs import ChatGeneration

from langchain_valkey_semcache import ValkeySemanticCache

HERE = Path(__file__).resolve().parent
LLM_STRING = (
    '{"lc": 1, "type": "constructor", "id": ["langchain", "chat_models", "bedrock_converse", '
    '"ChatBedrockConverse"], "kwargs": {"model_id": "anthropic.claude-3-5-haiku-20241022-v1:0", '
    '"region_name": "us-east-1", "temperature": 0.0, "max_tokens": 1024}}---[(\'stop\', None)]'
)
# What ChatBedrockConverse puts beside the text of an answer (ids vary per entry).
META: dict[str, Any] = {
    "id": "run-{i:08x}-5f1c-4d2a-9b7e-0c3f2a1b4d5e-0",
    "message": {
        "response_metadata": {
            "ResponseMetadata": {"RequestId": "4b7c9d2e-1f3a-4c5b-8d6e-7f8a9b0c1d2e",
                                 "HTTPStatusCode": 200, "RetryAttempts": 0},
            "stopReason": "end_turn",
            "metrics": {"latencyMs": [2143]},
            "model_name": "anthropic.claude-3-5-haiku-20241022-v1:0",
        },
        "usage_metadata": {"input_tokens": 24, "output_tokens": 331, "total_tokens": 355},
    },
    "generation_info": None,
}  # fmt: skip
ANSWER_CHARS = 1500
QUESTION_CHARS = 80
LEADS = ["", "quick question: ", "can you tell me ", "i would like to know ", "please explain ",
         "help me understand ", "asking again: ", "one more: ", "in short, ", "briefly, ",
         "for my team: ", "simply put, ", "tell me ", "explain ", "i wonder ", "hey, "]  # fmt: skip
TAILS = ["", " thanks", " please", " in simple terms", " with an example", " for a beginner"]
THRESHOLD = 0.9
# our hash fields, by part (the rest is metadata)
PARTS = {"vec": "vector", "answer": "answer", "prompt": "prompt"}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# -- the workload ---------------------------------------------------------------------------


def english(n: int) -> list[str]:
    """``n`` distinct 1,500-character passages of real English (Python's help texts)."""
    from pydoc_data.topics import topics

    text = " ".join(" ".join(v.split()) for _, v in sorted(topics.items()))
    span = len(text) - ANSWER_CHARS
    out: list[str] = []
    seen: set[str] = set()
    for i in range(n):
        at = (i * 7919) % span
        while (passage := text[at : at + ANSWER_CHARS]) in seen:  # the help texts repeat some
            at = (at + 97) % span
        seen.add(passage)
        out.append(passage)
    return out


def orthogonal(src: int, dst: int, seed: int = 25) -> np.ndarray:
    """A fixed ``dst x src`` matrix with orthonormal columns: it keeps every cosine."""
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.standard_normal((dst, src)))
    return q.astype(np.float32)


@dataclass
class Workload:
    kind: str
    prompts: list[str]
    vectors: np.ndarray  # n x dims, unit rows
    answers: list[str]
    queries: list[str]
    query_vectors: np.ndarray

    def generations(self, i: int) -> list[ChatGeneration]:
        message = AIMessage(content=self.answers[i], id=META["id"].format(i=i), **META["message"])
        return [ChatGeneration(message=message, generation_info=META["generation_info"])]


def build(kind: str, n: int, dims: int, n_queries: int, out: Path) -> Workload:
    rng = np.random.default_rng(n * 31 + dims)
    questions = _real.questions()
    base = _real.minilm_questions(out, 100_000)
    if not questions or base is None or len(base) != len(questions):
        raise SystemExit("no dev_stream.jsonl: see ../shared/data")
    q = len(questions)
    prompts, rows = [], np.empty((n, 384), dtype=np.float32)
    for i in range(n):
        k, j = divmod(i, q)
        lead, tail = LEADS[k % len(LEADS)], TAILS[(k // len(LEADS)) % len(TAILS)]
        prompts.append(f"{lead}{questions[j]}{tail}")
        rows[i] = base[j]
    if n > q:  # variants: each moved to its own cosine from its question (a paraphrase)
        base_rows = rows[q:]
        noise = unit_rows(rng, n - q, 384)
        noise -= (noise * base_rows).sum(axis=1, keepdims=True) * base_rows
        noise /= np.linalg.norm(noise, axis=1, keepdims=True)
        cos = rng.uniform(0.88, 0.97, size=(n - q, 1)).astype(np.float32)
        rows[q:] = cos * base_rows + np.sqrt(1 - cos * cos) * noise
    if kind == "random":
        rows = unit_rows(rng, n, dims)
    elif dims != 384:
        rows = rows @ orthogonal(384, dims).T
        rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    picks = rng.choice(n, size=n_queries, replace=False)
    query_vectors = near(rng, rows[picks], 0.97)
    queries = [f"so, {prompts[i]}" for i in picks]
    return Workload(kind, prompts, rows, english(n), queries, query_vectors)


# -- measuring ------------------------------------------------------------------------------


class Recording(valkey.Valkey):
    """A client that keeps the last command of each kind it sent (the floor's commands)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.last: dict[str, tuple[Any, ...]] = {}

    def execute_command(self, *args: Any, **options: Any) -> Any:
        self.last[str(args[0]).upper()] = args
        return super().execute_command(*args, **options)


def used_memory(client: valkey.Valkey) -> int:
    return int(client.info("memory")["used_memory"])


def settled_memory(client: valkey.Valkey) -> int:
    """``used_memory`` once it stops moving (valkey-search indexes in background threads)."""
    last = used_memory(client)
    for _ in range(50):
        time.sleep(0.2)
        now = used_memory(client)
        if now == last:
            return now
        last = now
    return last


def ft_info_memory(client: valkey.Valkey, index: str, docs: int) -> dict[str, float]:
    """The memory fields FT.INFO reports, per entry: RediSearch's ``*_sz_mb``/``*_size_mb``,
    valkey-search's per-attribute ``user_indexed_memory``."""
    reply = client.execute_command("FT.INFO", index)
    pairs = {reply[i].decode(): reply[i + 1] for i in range(0, len(reply), 2)}
    out = {}
    for name, value in pairs.items():
        if name.endswith("_mb") and isinstance(value, bytes):
            out[name] = float(value) * 1024 * 1024 / max(1, docs)
    for attr in pairs.get("attributes", []):
        a = {attr[i].decode(): attr[i + 1] for i in range(0, len(attr) - 1, 2)}
        if "user_indexed_memory" in a:
            name = f"{a['attribute'].decode()}.user_indexed_memory"
            out[name] = int(a["user_indexed_memory"]) / max(1, docs)
    return out


@dataclass
class Cell:
    system: str
    engine: str
    kind: str
    n: int
    dims: int
    write: str  # update() | store_many
    answers: str  # zstd | json
    docs: int
    per_entry: float
    rate: float
    parts: dict[str, float]
    ft_info: dict[str, float]
    empty_index: float = 0.0
    m: int = 16
    ef_construction: int = 200
    server_cpu_ms: float = 0.0  # per entry, all the server's threads (INFO cpu)
    client_cpu_ms: float = 0.0  # per entry, this process


def make_cache(url: str, emb: Replay, name: str, dims: int, **kw: Any) -> ValkeySemanticCache:
    return ValkeySemanticCache(
        emb, client=Recording.from_url(url, socket_timeout=30.0), index_name=name, dims=dims,
        on_error="raise", similarity_threshold=THRESHOLD, **kw,
    )  # fmt: skip


def fill_ours(
    url: str, label: str, wl: Workload, n: int, dims: int, write: str, compress: bool, **kw: Any
) -> tuple[Cell, ValkeySemanticCache, Replay]:
    """A fresh index filled with ``n`` entries; memory from ``used_memory`` around the fill."""
    client = valkey.Valkey.from_url(url)
    emb = Replay(wl.vectors)
    emb.index = {p: i for i, p in enumerate(wl.prompts[:n])}
    name = f"cost_{uuid.uuid4().hex[:8]}"
    before_index = settled_memory(client)
    cache = make_cache(url, emb, name, dims, compress_answers=compress, **kw)
    before = settled_memory(client)
    cpu_server, cpu_client = _engines.cpu_seconds(url), time.process_time()
    start = time.perf_counter()
    if write == "update()":
        for i in range(n):
            cache.update(wl.prompts[i], LLM_STRING, wl.generations(i))
    else:
        for lo in range(0, n, 500):
            items = [(wl.prompts[i], wl.generations(i)) for i in range(lo, min(n, lo + 500))]
            if any(k is None for k in cache.store_many(items, llm_string=LLM_STRING)):
                raise RuntimeError("store_many dropped entries")
    wait_indexed(url, name, n)
    rate = n / (time.perf_counter() - start)
    cpu_server = (_engines.cpu_seconds(url) - cpu_server) * 1000 / n
    cpu_client = (time.process_time() - cpu_client) * 1000 / n
    after = settled_memory(client)
    docs = indexed(url, name)
    cell = Cell(
        "ours", label, wl.kind, n, dims, write, "zstd" if compress else "json", docs,
        (after - before) / docs, rate, breakdown(client, f"{name}:*", PARTS),
        ft_info_memory(client, name, docs), before - before_index,
        kw.get("hnsw_m", 16), kw.get("hnsw_ef_construction", 200), cpu_server, cpu_client,
    )  # fmt: skip
    client.close()
    return cell, cache, emb


def fill_theirs(url: str, wl: Workload, n: int, dims: int, out: Path) -> Cell | None:
    python = Path(COMPARE_PYTHON)
    if not python.exists():
        log(f"langchain-redis: no {python} (make bench creates it); skipped")
        return None
    vectors, work, result = out / "cost_vectors.npy", out / "cost_work.json", out / "cost_lcr.json"
    np.save(vectors, wl.vectors[:n])
    work.write_text(
        json.dumps({"prompts": wl.prompts[:n], "answers": wl.answers[:n], "meta": META})
    )
    url = "redis://" + url.split("://", 1)[1]  # redis-py knows no valkey:// scheme
    cmd = [str(python), str(HERE / "_cost_theirs.py"), "--url", url, "--workload", str(work),
           "--vectors", str(vectors), "--n", str(n), "--llm-string", LLM_STRING,
           "--out", str(result)]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode:
        log(f"langchain-redis failed:\n{proc.stderr[-3000:]}")
        return None
    r = json.loads(result.read_text())
    return Cell(
        "langchain-redis", "RediSearch 2.10", wl.kind, n, dims, "update()", "json", r["docs"],
        r["bytes_per_entry"], r["update_per_s"], r["parts"], r["ft_info_bytes_per_entry"],
    )  # fmt: skip


@dataclass
class Floor:
    engine: str
    kind: str
    n: int
    dims: int
    ef: int
    lookup_p50: float
    lookup_p99: float
    raw_p50: float
    raw_p99: float
    served: float
    recall: float
    hmget_p50: float = 0.0
    bare_p50: float = 0.0  # lookup() with verifier=None
    bare_recall: float = 0.0  # recall@1 with verifier=None: the vector search's own


def timed_lookups(
    cache: ValkeySemanticCache, emb: Replay, wl: Workload, n: int
) -> tuple[list[float], list[int | None]]:
    """ms per ``lookup()`` (embedding time excluded) and the entry each one served."""
    answer_of = {a: i for i, a in enumerate(wl.answers[:n])}
    for text in wl.queries[:20]:
        cache.lookup(text, LLM_STRING)
    ms, got = [], []
    for text in wl.queries:
        emb.inside = 0.0
        start = time.perf_counter()
        gens = cache.lookup(text, LLM_STRING)
        ms.append((time.perf_counter() - start - emb.inside) * 1000.0)
        got.append(answer_of.get(gens[0].text) if gens else None)
    return ms, got


def timed_raw(
    client: valkey.Valkey, command: list[Any], at: int | None, wl: Workload
) -> list[float]:
    """ms per raw command, with each query's vector at ``command[at]`` (None: as is)."""
    ms = []
    for j, vector in enumerate([*wl.query_vectors[:20], *wl.query_vectors]):
        if at is not None:
            command[at] = vector.astype("<f4").tobytes()
        start = time.perf_counter()
        client.execute_command(*command)
        if j >= 20:
            ms.append((time.perf_counter() - start) * 1000.0)
    return ms


def floor(
    url: str, cache: ValkeySemanticCache, emb: Replay, wl: Workload, label: str, n: int
) -> Floor:
    """Hit p50 through ``lookup()`` (embedding time excluded) and the raw FT.SEARCH's p50,
    with the exact-repeat HMGET a semantic hit also sends and a lookup without the guards."""
    for text, vector in zip(wl.queries, wl.query_vectors, strict=True):
        emb.extra[text] = vector
    truth = (wl.query_vectors @ wl.vectors[:n].T).argmax(axis=1)
    ms, got = timed_lookups(cache, emb, wl, n)
    client = cache._client  # the Recording client given at construction
    search = list(client.last["FT.SEARCH"])
    raw = timed_raw(client, search, search.index("vec") + 1, wl)  # PARAMS 2 vec <blob>
    hmget = timed_raw(client, list(client.last["HMGET"]), None, wl)
    dims = wl.vectors.shape[1]
    bare = make_cache(url, emb, cache.config.index_name, dims, verifier=None)
    bare_ms, bare_got = timed_lookups(bare, emb, wl, n)
    bare.close()
    served = sum(g is not None for g in got) / len(got)
    recall = sum(g == t for g, t in zip(got, truth, strict=True)) / len(got)
    bare_recall = sum(g == t for g, t in zip(bare_got, truth, strict=True)) / len(got)
    return Floor(label, wl.kind, n, dims, cache.hnsw_ef_runtime, pct(ms, 50), pct(ms, 99),
                 pct(raw, 50), pct(raw, 99), served, recall, pct(hmget, 50),
                 pct(bare_ms, 50), bare_recall)  # fmt: skip


# -- tables ---------------------------------------------------------------------------------


def memory_table(cells: list[Cell]) -> str:
    theirs = {(c.kind, c.n, c.dims): c for c in cells if c.system == "langchain-redis"}
    rows = []
    for c in cells:
        t = theirs.get((c.kind, c.n, c.dims))
        p = c.parts
        hash_other = p["key_total"] - p["vector"] - p["answer"] - p["prompt"] - p["metadata"]
        index = c.per_entry - p["key_total"]
        rows.append((
            c.system, c.engine, c.kind, f"{c.n:,}", c.dims, c.write, c.answers,
            f"{c.per_entry:,.0f}", f"{p['vector']:,.0f}", f"{p['answer']:,.0f}",
            f"{p['prompt']:,.0f}", f"{p['metadata']:,.0f}", f"{hash_other:,.0f}",
            f"{index:,.0f}", f"{c.per_entry / t.per_entry:.2f}x" if t else "-",
            f"{c.rate:,.0f}", f"{c.rate / t.rate:.2f}x" if t else "-",
            f"{c.server_cpu_ms:.2f}" if c.system == "ours" else "-",
            f"{c.client_cpu_ms:.2f}" if c.system == "ours" else "-",
        ))  # fmt: skip
    return table(
        ["system", "engine", "vectors", "entries", "dims", "write", "answer", "B/entry",
         "vector", "answer", "prompt", "metadata", "key+hash", "index", "vs lcr",
         "writes/s", "vs lcr", "server CPU ms", "client CPU ms"], rows)  # fmt: skip


def ft_info_table(cells: list[Cell]) -> str:
    rows = []
    for c in cells:
        fields = ", ".join(f"{k} {v:,.0f}" for k, v in c.ft_info.items() if v >= 0.5)
        rows.append((c.system, c.engine, c.kind, c.dims, c.write, c.answers,
                     f"{c.empty_index / 1024:,.0f}", fields))  # fmt: skip
    return table(["system", "engine", "vectors", "dims", "write", "answer",
                  "empty index KiB", "FT.INFO memory per entry (B)"], rows)  # fmt: skip


def floor_table(floors: list[Floor]) -> str:
    rows = [(f.engine, f.kind, f"{f.n:,}", f.dims, f.ef, f"{f.lookup_p50:.2f}",
             f"{f.lookup_p99:.2f}", f"{f.raw_p50:.2f}", f"{f.raw_p99:.2f}",
             f"{f.lookup_p50 / f.raw_p50:.2f}x", f"{f.hmget_p50:.2f}",
             f"{f.lookup_p50 / (f.raw_p50 + f.hmget_p50):.2f}x", f"{f.bare_p50:.2f}",
             f"{f.served:.3f}", f"{f.recall:.3f}", f"{f.bare_recall:.3f}")
            for f in floors]  # fmt: skip
    return table(["engine", "vectors", "entries", "dims", "EF", "lookup() p50 ms", "p99",
                  "raw FT.SEARCH p50 ms", "p99", "floor ratio", "raw HMGET p50",
                  "vs both", "no guards p50", "served", "recall@1",
                  "recall@1 no guards"], rows)  # fmt: skip


def codec_table() -> str:
    """zstd level and size threshold on real English answers, no server."""
    from langchain_valkey_semcache._entry import serialize

    texts = english(400)
    wl = Workload("", [], np.zeros((0, 1)), texts, [], np.zeros((0, 1)))
    rows = []
    plain = [len(serialize(wl.generations(i), 10**9, False).encode()) for i in range(len(texts))]  # type: ignore[union-attr]
    from langchain_core.load import dumps

    old = [len(dumps(wl.generations(i)).encode()) for i in range(len(texts))]
    lean = [serialize(wl.generations(i), 10**9, False) for i in range(len(texts))]
    for level in (1, 3, 6, 9, 19):
        comp = zstandard.ZstdCompressor(level=level)
        start = time.perf_counter()
        frames = [comp.compress(str(s).encode()) for s in lean]
        enc = (time.perf_counter() - start) / len(lean) * 1e6
        dec = zstandard.ZstdDecompressor()
        start = time.perf_counter()
        for f in frames:
            dec.decompress(f)
        dec_us = (time.perf_counter() - start) / len(frames) * 1e6
        size = float(np.mean([len(f) for f in frames]))
        rows.append((f"zstd {level}", f"{np.mean(old):,.0f}", f"{np.mean(plain):,.0f}",
                     f"{size:,.0f}", f"{np.mean(old) / size:.2f}x", f"{enc:.0f}",
                     f"{dec_us:.0f}"))  # fmt: skip
    sizes = []
    comp = zstandard.ZstdCompressor(level=3)
    long = " ".join(texts)
    for chars in (20, 60, 120, 250, 500, 1500, 6000):
        gens = [ChatGeneration(message=AIMessage(content=long[:chars]))]
        j = serialize(gens, 10**9, False)
        assert isinstance(j, str)
        sizes.append((chars, len(j.encode()), len(comp.compress(j.encode()))))
    head = ["codec", "LangChain JSON B", "lean JSON B", "stored B", "vs JSON", "encode us",
            "decode us"]  # fmt: skip
    by_size = table(["answer chars (bare AIMessage)", "lean JSON B", "zstd 3 B"], sizes)
    return table(head, rows) + "\n\n" + by_size


# -- main -----------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> None:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    cells: list[Cell] = []
    floors: list[Floor] = []
    engines = _engines.choices(args.engines, args.valkey_search)
    for n in args.sizes:
        for dims in args.dims:
            for kind in args.vectors:
                wl = build(kind, n, dims, args.queries, out)
                if args.compare and kind == args.vectors[0]:
                    eng = _engines.start(_engines.EngineChoice("RediSearch 2.10", "redisearch"))
                    try:
                        log(f"langchain-redis {kind} {n:,} x {dims}")
                        if (theirs := fill_theirs(eng.url, wl, n, dims, out)) is not None:
                            cells.append(theirs)
                    finally:
                        eng.stop()
                for choice in engines:
                    eng = _engines.start(choice)
                    try:
                        forms = args.answers if kind == args.vectors[0] else ["zstd"]
                        for form in forms:
                            log(f"{choice.label} {kind} {n:,} x {dims} update() {form}")
                            cell, cache, emb = fill_ours(
                                eng.url, choice.label, wl, n, dims, "update()", form == "zstd"
                            )
                            cells.append(cell)
                            if form == "zstd" and args.floor:
                                floors.append(floor(eng.url, cache, emb, wl, choice.label, n))
                            cache.drop_index()
                            cache.close()
                        if args.store_many and kind == args.vectors[0]:
                            log(f"{choice.label} {kind} {n:,} x {dims} store_many")
                            cell, cache, _ = fill_ours(
                                eng.url, choice.label, wl, n, dims, "store_many", True
                            )
                            cells.append(cell)
                            cache.drop_index()
                            cache.close()
                    finally:
                        eng.stop()
    print(f"\n## Memory per entry and writes ({' '.join(sys.argv[1:]) or 'defaults'})\n")
    print(memory_table(cells))
    print("\nB/entry: used_memory delta / entries (index created before). vector, answer,")
    print("prompt, metadata: bytes of those hash fields; key+hash: the rest of MEMORY USAGE of an")
    print(
        "entry key; index: B/entry - MEMORY USAGE (the index's vector copy, graph, tags, doc ids)."
    )
    print(
        "vs lcr: against langchain-redis (RediSearch 2.10, FLAT) on the same workload and dims.\n"
    )
    print(ft_info_table(cells))
    if floors:
        print("\n## Floor: hit p50 through lookup() / p50 of the raw FT.SEARCH it sends\n")
        print(floor_table(floors))
    (out / "cost.json").write_text(
        json.dumps([c.__dict__ for c in cells] + [f.__dict__ for f in floors])
    )


def sweep(args: argparse.Namespace) -> None:
    """M x EF_CONSTRUCTION at one size and dimension: memory, store_many rate, recall@1."""
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for choice in _engines.choices(args.engines, args.valkey_search):
        for n in args.sizes:
            for dims in args.dims:
                wl = build(args.vectors[0], n, dims, args.queries, out)
                for m in args.m:
                    for efc in args.ef_construction:
                        eng = _engines.start(choice)
                        try:
                            log(f"{choice.label} {n:,} x {dims} M {m} EF_CONSTRUCTION {efc}")
                            cell, cache, emb = fill_ours(
                                eng.url, choice.label, wl, n, dims, "store_many", True,
                                hnsw_m=m, hnsw_ef_construction=efc,
                            )  # fmt: skip
                            f = floor(eng.url, cache, emb, wl, choice.label, n)
                            index = cell.per_entry - cell.parts["key_total"]
                            rows.append((choice.label, wl.kind, f"{n:,}", dims, m, efc,
                                         f"{cell.per_entry:,.0f}", f"{index:,.0f}",
                                         f"{cell.rate:,.0f}", f"{cell.server_cpu_ms:.2f}",
                                         f.ef, f"{f.recall:.3f}", f"{f.bare_recall:.3f}",
                                         f"{f.lookup_p50:.2f}", f"{f.raw_p50:.2f}"))  # fmt: skip
                            cache.close()
                        finally:
                            eng.stop()
    print("\n## HNSW M x EF_CONSTRUCTION (store_many fill, answers zstd)\n")
    print(table(["engine", "vectors", "entries", "dims", "M", "EF_CONSTRUCTION", "B/entry",
                 "index B", "writes/s", "server CPU ms", "EF_RUNTIME", "recall@1", "no guards",
                 "lookup() p50",
                 "raw p50"], rows))  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="2k entries, 384-d: a smoke run")
    parser.add_argument("--engines", nargs="+", default=["redisearch", "valkey-search"])
    parser.add_argument("--valkey-search", help="path to valkey-search's libsearch.so")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000])
    parser.add_argument("--dims", type=int, nargs="+", default=[384, 1024, 512])
    parser.add_argument("--vectors", nargs="+", default=["real", "random"],
                        help="workloads: the first gets every row, the others ours")  # fmt: skip
    parser.add_argument("--answers", nargs="+", default=["zstd", "json"],
                        help="answer forms: zstd, json (compress_answers=False)")  # fmt: skip
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--no-compare", dest="compare", action="store_false")
    parser.add_argument("--no-floor", dest="floor", action="store_false")
    parser.add_argument("--no-store-many", dest="store_many", action="store_false")
    parser.add_argument("--no-codec", dest="codec", action="store_false")
    parser.add_argument("--hnsw-sweep", action="store_true")
    parser.add_argument("--m", type=int, nargs="+", default=[8, 16, 32])
    parser.add_argument("--ef-construction", type=int, nargs="+", default=[100, 200])
    parser.add_argument("--out", default=str(HERE / "out"))
    args = parser.parse_args()
    if args.quick:
        args.sizes, args.dims, args.queries = [2_000], [384], 200
    if args.codec and not args.hnsw_sweep:
        print("## Answer encoding: real English answers of 1,500 characters, chat metadata\n")
        print(codec_table())
    if args.hnsw_sweep:
        sweep(args)
    else:
        run(args)


if __name__ == "__main__":
    main()
