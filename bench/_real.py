"""Real question embeddings: all-MiniLM-L6-v2 vectors of the dev stream's questions."""

from __future__ import annotations

import hashlib
import json
import sys
import time
from pathlib import Path

import numpy as np

from langchain_valkey_semcache import normalize_prompt as normalize

ROOT = Path(__file__).resolve().parent.parent
DATA_CANDIDATES = (
    ROOT.parent / "shared" / "data" / "dev_stream.jsonl",
    Path("/work/shared/data/dev_stream.jsonl"),
)


def questions(limit: int = 100_000) -> list[str]:
    """Unique normalized questions of ``dev_stream.jsonl`` in stream order ([] without it)."""
    data = next((p for p in DATA_CANDIDATES if p.exists()), None)
    if data is None:
        return []
    lines = data.read_text().splitlines()
    texts = list(dict.fromkeys(normalize(json.loads(line)["query"]) for line in lines))
    return [t for t in texts if t][:limit]


def minilm_questions(out: Path, limit: int) -> np.ndarray | None:
    """:func:`questions`, embedded once and kept in ``out``."""
    texts = questions(limit)
    if not texts:
        return None
    key = hashlib.sha256("\n".join(texts).encode()).hexdigest()[:12]
    path = out / f"minilm_{len(texts)}_{key}.npy"
    if path.exists():
        return np.load(path)
    from langchain_valkey_semcache.embeddings import MiniLMEmbeddings

    print(f"embedding {len(texts):,} questions with MiniLM", file=sys.stderr, flush=True)
    start = time.perf_counter()
    vectors = np.asarray(MiniLMEmbeddings().embed_documents(texts), dtype=np.float32)
    print(f"  {time.perf_counter() - start:.0f}s", file=sys.stderr, flush=True)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    np.save(path, vectors)
    return vectors
