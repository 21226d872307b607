"""Shared pieces of the benchmark scripts: vectors, embeddings that replay them, tables."""

from __future__ import annotations

import statistics
from collections.abc import Sequence

import numpy as np
from langchain_core.embeddings import Embeddings


class ReplayEmbeddings(Embeddings):
    """Returns vectors fixed in advance, so a benchmark times the cache, not a model."""

    def __init__(self, vectors: dict[str, np.ndarray]) -> None:
        self.vectors = vectors

    def embed_query(self, text: str) -> list[float]:
        return self.vectors[text].tolist()  # type: ignore[no-any-return]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self.embed_query(t) for t in texts]


def unit_rows(rng: np.random.Generator, n: int, dims: int) -> np.ndarray:
    rows = rng.standard_normal((n, dims)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def near(rng: np.random.Generator, rows: np.ndarray, cos: float) -> np.ndarray:
    """Vectors at cosine ``cos`` from each row (a paraphrase-like neighbour)."""
    noise = unit_rows(rng, len(rows), rows.shape[1])
    noise -= (noise * rows).sum(axis=1, keepdims=True) * rows
    noise /= np.linalg.norm(noise, axis=1, keepdims=True)
    return (cos * rows + np.sqrt(1 - cos * cos) * noise).astype(np.float32)


def pct(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def summary(values: Sequence[float]) -> tuple[float, float, float]:
    return pct(values, 50), pct(values, 99), statistics.fmean(values)


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    cells = [[str(h) for h in headers]] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    line = lambda r: "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |"  # noqa: E731
    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(cells[0]), sep, *(line(r) for r in cells[1:])])
