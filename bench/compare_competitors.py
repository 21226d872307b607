"""Lookup overhead of other semantic caches on the same vectors; run by ``bench/perf.py``.

Runs in the comparison virtualenv (``bench/requirements-compare.txt``: langchain-redis and
GPTCache), never in the package's own: it imports nothing from ``langchain_valkey_semcache``.
``perf.py`` writes the vectors to ``.npy`` files and a manifest, starts this script with the
URL of its engine, and prints the rows this script writes to ``--out`` beside its own.

Every cache gets the same precomputed vectors through a replaying embedding function that
times itself; the reported overhead is the wall time of a lookup minus the time spent inside
that function. Entry ``i`` of the stored matrix is the text ``s{i}``; hit and miss queries
are ``h{j}`` and ``m{j}``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
import traceback
from typing import Any

import numpy as np

LLM_STRING = "bench-model"
WARM = 20


class Clock:
    """Time spent inside the embedding function (subtracted from each lookup)."""

    def __init__(self) -> None:
        self.inside = 0.0


def replay_table(stored: np.ndarray, hits: np.ndarray, misses: np.ndarray) -> dict[str, Any]:
    table: dict[str, Any] = {f"s{i}": stored[i] for i in range(len(stored))}
    table |= {f"h{j}": v for j, v in enumerate(hits)}
    table |= {f"m{j}": v for j, v in enumerate(misses)}
    return table


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def timed_lookups(lookup: Any, texts: list[str], clock: Clock) -> tuple[list[float], float]:
    for text in texts[:WARM]:
        lookup(text)
    overhead, served = [], 0
    for text in texts:
        clock.inside = 0.0
        start = time.perf_counter()
        result = lookup(text)
        overhead.append((time.perf_counter() - start - clock.inside) * 1000.0)
        served += result is not None
    return overhead, served / len(texts)


def row(
    system: str,
    cfg: dict[str, Any],
    kind: str,
    overhead: list[float],
    served: float,
    fill: float | None,
    note: str = "",
) -> dict[str, Any]:
    return {
        "system": system,
        "n": cfg["n"],
        "dims": cfg["dims"],
        "kind": kind,
        "p50": percentile(overhead, 50),
        "p99": percentile(overhead, 99),
        "mean": sum(overhead) / len(overhead),
        "served": served,
        "fill_per_s": fill,
        "note": note,
    }


def langchain_redis(url: str, cfg: dict[str, Any], threshold: float) -> list[dict[str, Any]]:
    """langchain-redis ``RedisSemanticCache`` (RedisVL SemanticCache: FLAT index, range query)."""
    from langchain_core.embeddings import Embeddings
    from langchain_core.load import dumps
    from langchain_core.outputs import Generation
    from langchain_redis import RedisSemanticCache
    from redisvl.extensions.cache.llm.schema import CacheEntry
    from redisvl.redis.utils import hashify

    stored, hits, misses = load(cfg)
    table = replay_table(stored, hits, misses)
    clock = Clock()

    class Replay(Embeddings):
        def embed_query(self, text: str) -> list[float]:
            start = time.perf_counter()
            vector = table.get(text, stored[0]).tolist()
            clock.inside += time.perf_counter() - start
            return vector  # type: ignore[no-any-return]

        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            return [self.embed_query(t) for t in texts]

    name = f"lcr_{cfg['n']}_{cfg['dims']}"
    cache = RedisSemanticCache(
        embeddings=Replay(),
        redis_url=url,
        distance_threshold=1.0 - threshold,
        name=name,
    )
    cache.cache.clear()
    n = cfg["n"]
    # Their LangChain API has no bulk write: time update() on a sample, then fill the rest
    # through RedisVL's own pipelined loader (their fastest path) in the same entry format.
    sample = min(500, n)
    start = time.perf_counter()
    for i in range(sample):
        cache.update(f"s{i}", LLM_STRING, [Generation(text=f"answer {i}")])
    update_rate = sample / (time.perf_counter() - start)
    start = time.perf_counter()
    for lo in range(sample, n, 1000):
        records = [
            CacheEntry(
                entry_id=hashify(f"s{i}", None),
                prompt=f"s{i}",
                response=json.dumps([dumps(Generation(text=f"answer {i}"))]),
                prompt_vector=stored[i].tolist(),
                metadata={"llm_string": LLM_STRING},
            ).to_dict("float32")
            for i in range(lo, min(n, lo + 1000))
        ]
        cache.cache._index.load(records, id_field="entry_id", batch_size=1000)
    load_rate = (n - sample) / (time.perf_counter() - start) if n > sample else None
    rows = []
    for kind, prefix, count in (("hit", "h", len(hits)), ("miss", "m", len(misses))):
        texts = [f"{prefix}{j}" for j in range(count)]
        overhead, served = timed_lookups(lambda t: cache.lookup(t, LLM_STRING), texts, clock)
        note = f"update() {update_rate:,.0f}/s; RedisVL load() {load_rate or 0:,.0f}/s"
        rows.append(row("langchain-redis", cfg, kind, overhead, served, update_rate, note))
    cache.cache.delete()
    return rows


def gptcache(cfg: dict[str, Any], threshold: float) -> list[dict[str, Any]]:
    """GPTCache with its default local store: SQLite scalars + faiss (``IDMap,Flat``, exact)."""
    os.environ.setdefault("IS_CI", "1")  # its atexit flush would log into a removed folder
    from gptcache import Cache, Config
    from gptcache.adapter.api import get
    from gptcache.manager import CacheBase, VectorBase, get_data_manager
    from gptcache.processor.pre import get_prompt
    from gptcache.similarity_evaluation.distance import SearchDistanceEvaluation

    stored, hits, misses = load(cfg)
    table = replay_table(stored, hits, misses)
    clock = Clock()

    def embed(text: str, **_: Any) -> np.ndarray:
        start = time.perf_counter()
        vector = np.asarray(table.get(text, stored[0]), dtype=np.float32)
        clock.inside += time.perf_counter() - start
        return vector

    folder = tempfile.mkdtemp(prefix="gptcache-bench-")
    try:
        n, dims = cfg["n"], cfg["dims"]
        manager = get_data_manager(
            CacheBase("sqlite", sql_url=f"sqlite:///{folder}/cache.db"),
            VectorBase("faiss", dimension=dims, index_path=f"{folder}/faiss.index", top_k=1),
            max_size=n + 10_000,
        )
        # Unit vectors: squared L2 = 2 - 2 cos. SearchDistanceEvaluation scores 4 - d^2 and
        # GPTCache serves when score >= 4 * similarity_threshold.
        cos_to_gpt = (4.0 - (2.0 - 2.0 * threshold)) / 4.0
        cache = Cache()
        cache.init(
            pre_embedding_func=get_prompt,
            embedding_func=embed,
            data_manager=manager,
            similarity_evaluation=SearchDistanceEvaluation(),
            config=Config(similarity_threshold=cos_to_gpt),
        )
        start = time.perf_counter()
        for lo in range(0, n, 1000):
            ids = range(lo, min(n, lo + 1000))
            cache.import_data([f"s{i}" for i in ids], [f"answer {i}" for i in ids])
        fill = n / (time.perf_counter() - start)
        rows = []
        count = min(len(hits), cfg.get("gptcache_queries", len(hits)))  # ~12 ms per lookup
        for kind, prefix in (("hit", "h"), ("miss", "m")):
            texts = [f"{prefix}{j}" for j in range(count)]
            overhead, served = timed_lookups(lambda t: get(t, cache_obj=cache), texts, clock)
            rows.append(
                row(
                    "GPTCache sqlite+faiss",
                    cfg,
                    kind,
                    overhead,
                    served,
                    fill,
                    f"import_data() {fill:,.0f}/s; in-process exact search",
                )
            )
        return rows
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def load(cfg: dict[str, Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    stored = np.load(cfg["stored"], mmap_mode="r")[: cfg["n"]]
    return np.ascontiguousarray(stored), np.load(cfg["hit"]), np.load(cfg["miss"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True)
    parser.add_argument("--manifest", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    with open(args.manifest) as f:
        manifest = json.load(f)
    rows: list[dict[str, Any]] = []
    errors: list[str] = []
    for cfg in manifest["configs"]:
        for name, run in (
            ("langchain-redis", lambda c=cfg: langchain_redis(args.url, c, manifest["threshold"])),
            ("GPTCache", lambda c=cfg: gptcache(c, manifest["threshold"])),
        ):
            if name == "GPTCache" and not cfg.get("gptcache", True):
                continue
            started = time.perf_counter()
            try:
                rows.extend(run())
            except Exception:
                errors.append(f"{name} n={cfg['n']} dims={cfg['dims']}: {traceback.format_exc()}")
            print(
                f"  {name} n={cfg['n']} dims={cfg['dims']}: {time.perf_counter() - started:.0f}s",
                file=sys.stderr,
                flush=True,
            )
    with open(args.out, "w") as f:
        json.dump({"rows": rows, "errors": errors}, f)


if __name__ == "__main__":
    main()
