"""langchain-redis's side of ``bench/cost.py``: memory per entry and writes through update().

Runs in the comparison virtualenv (``bench/requirements-compare.txt``) and imports nothing
from ``langchain_valkey_semcache``. ``cost.py`` writes the workload (``.npy`` vectors and a
JSON of prompts, answers and the generation's metadata), starts a fresh engine, runs this
script with its URL and reads the JSON this script writes to ``--out``.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

import numpy as np
import redis
from _memory import breakdown
from langchain_core.embeddings import Embeddings
from langchain_core.messages import AIMessage
from langchain_core.outputs import ChatGeneration
from langchain_redis import RedisSemanticCache

# langchain-redis's hash fields, by part
PARTS = {"prompt_vector": "vector", "response": "answer", "prompt": "prompt"}


def generation(answer: str, meta: dict[str, Any], i: int) -> list[ChatGeneration]:
    message = AIMessage(content=answer, id=meta["id"].format(i=i), **meta["message"])
    return [ChatGeneration(message=message, generation_info=meta["generation_info"])]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True)
    parser.add_argument("--workload", required=True, help="JSON: prompts, answers, meta")
    parser.add_argument("--vectors", required=True, help=".npy, one row per prompt")
    parser.add_argument("--n", type=int, required=True)
    parser.add_argument("--llm-string", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    with open(args.workload) as f:
        work = json.load(f)
    vectors = np.load(args.vectors)
    table = {p: vectors[i] for i, p in enumerate(work["prompts"][: args.n])}

    class Replay(Embeddings):
        def embed_query(self, text: str) -> list[float]:
            return table.get(text, vectors[0]).tolist()  # type: ignore[no-any-return]

        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            return [self.embed_query(t) for t in texts]

    client = redis.Redis.from_url(args.url)
    cache = RedisSemanticCache(embeddings=Replay(), redis_url=args.url, name="lcr_cost")
    before = int(client.info("memory")["used_memory"])
    start = time.perf_counter()
    for i in range(args.n):
        gens = generation(work["answers"][i], work["meta"], i)
        cache.update(work["prompts"][i], args.llm_string, gens)
    seconds = time.perf_counter() - start
    after = int(client.info("memory")["used_memory"])
    info = client.execute_command("FT.INFO", cache.cache.index.name)
    if isinstance(info, dict):
        pairs = {k.decode() if isinstance(k, bytes) else str(k): v for k, v in info.items()}
    else:
        pairs = {info[i].decode(): info[i + 1] for i in range(0, len(info), 2)}
    docs = int(pairs["num_docs"])
    index_mb = {
        k: float(v)
        for k, v in pairs.items()
        if k.endswith("_mb") and isinstance(v, bytes | str | float)
    }
    result = {
        "docs": docs,
        "bytes_per_entry": (after - before) / docs,
        "update_per_s": args.n / seconds,
        "parts": breakdown(client, f"{cache.cache.index.prefix}*", PARTS),
        "ft_info_bytes_per_entry": {k: v * 1024 * 1024 / docs for k, v in index_mb.items()},
        "algorithm": "FLAT",
    }
    with open(args.out, "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main()
