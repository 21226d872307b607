"""Synthetic workload through the LangChain path: prompts, fills, timed ``lookup`` calls.

Entry ``i`` is a lower-case prompt spelled from ``i`` (no digits, no capitals: the shipped
guards pass it, so they run as they ship), answered ``"answer {i}"``. A hit query is a
neighbour at cosine 0.97 of a stored vector under another prompt; recall@1 is read from the
answer ``lookup`` returns, against the exact nearest entry (numpy).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import valkey
from langchain_core.embeddings import Embeddings

from langchain_valkey_semcache import ValkeySemanticCache

LLM_STRING = "bench-model"
# 70 syllables; "no" would read as a negation to the guards, so it is spelled "nyo".
_OLD_SYLLABLES = [c + v for c in "bdfgklmnprstvz" for v in "aeiou"]
_SYLLABLES = ["nyo" if s == "no" else s for s in _OLD_SYLLABLES]


def spell(i: int, syllables: list[str] = _SYLLABLES) -> str:
    """A distinct lower-case word sequence for ``i``."""
    out = []
    while True:
        i, r = divmod(i, len(syllables))
        out.append(syllables[r])
        if i == 0:
            return " ".join(out)


def respell_kept(cache: ValkeySemanticCache, n: int) -> int:
    """Entries of an index kept from a run that spelled "no" (the guards read it as a
    negation): delete them and store them under the current spelling. Returns how many."""
    stale = [i for i in range(n) if spell(i, _OLD_SYLLABLES) != spell(i)]
    emb = cache.embeddings
    assert isinstance(emb, Replay)
    for i in stale:
        old = f"tell me about {spell(i, _OLD_SYLLABLES)}"
        emb.index[old] = i
        hit = cache.search(old, llm_string=LLM_STRING).hit
        if hit is not None and hit.exact:
            cache.forget(hit.key)
    for a in range(0, len(stale), 1000):
        items = [(stored_prompt(i), f"answer {i}") for i in stale[a : a + 1000]]
        cache.store_many(items, llm_string=LLM_STRING)
    return len(stale)


def stored_prompt(i: int) -> str:
    return f"tell me about {spell(i)}"


def query_prompt(kind: str, n: int, j: int) -> str:
    """Query ``j`` of a kind ("near", "far", "real") at size ``n``, digit-free."""
    return f"what about {kind} {spell(n)} then {spell(j)}"


class Replay(Embeddings):
    """Vectors by prompt: stored rows by index, queries from ``extra``; times itself."""

    def __init__(self, stored: np.ndarray) -> None:
        self.stored = stored
        self.extra: dict[str, np.ndarray] = {}
        self.index: dict[str, int] = {}
        self.inside = 0.0

    def row(self, text: str) -> int:
        """The stored row of a text that is not in ``extra``."""
        return self.index[text]

    def vector(self, text: str) -> list[float]:
        row = self.extra.get(text)
        if row is None:
            row = self.stored[self.row(text)]
        return row.tolist()  # type: ignore[no-any-return]

    def embed_query(self, text: str) -> list[float]:
        start = time.perf_counter()
        v = self.vector(text)
        self.inside += time.perf_counter() - start
        return v

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        start = time.perf_counter()
        vectors = [self.vector(t) for t in texts]
        self.inside += time.perf_counter() - start
        return vectors

    async def aembed_query(self, text: str) -> list[float]:  # no thread hop: time the cache
        return self.embed_query(text)


def make_cache(url: str, emb: Embeddings, name: str, dims: int, **kw: Any) -> ValkeySemanticCache:
    """The cache as shipped (guards on, default HNSW settings) unless ``kw`` says otherwise."""
    kw.setdefault("similarity_threshold", 0.9)
    return ValkeySemanticCache(
        emb,
        url=url,
        index_name=name,
        dims=dims,
        on_error="raise",
        socket_timeout_seconds=30.0,  # FT.INFO during a big fill can be slow
        **kw,
    )


def indexed_or_none(url: str, name: str) -> int | None:
    """FT.INFO ``num_docs``, or None when there is no such index."""
    try:
        return indexed(url, name)
    except valkey.ResponseError:
        return None


def indexed(url: str, name: str) -> int:
    """FT.INFO ``num_docs`` of index ``name``."""
    client = valkey.Valkey.from_url(url)
    try:
        reply = client.execute_command("FT.INFO", name)  # a flat name/value list on both engines
        return int(dict(zip(reply[::2], reply[1::2], strict=True))[b"num_docs"])
    finally:
        client.close()


def wait_indexed(url: str, name: str, n: int, timeout: float = 3600) -> None:
    """Until the index counts ``n`` documents (valkey-search indexes in background threads,
    so HSET returns before the vector is searchable)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if indexed(url, name) >= n:
            return
        time.sleep(0.05)
    raise RuntimeError(f"index {name} did not reach {n} documents in {timeout}s")


def fill(
    url: str, cache: ValkeySemanticCache, emb: Replay, lo: int, hi: int, batch: int = 1000
) -> float:
    """store_many entries lo..hi-1 until searchable; returns the seconds taken."""
    for i in range(lo, hi):
        emb.index[stored_prompt(i)] = i
    start = time.perf_counter()
    for a in range(lo, hi, batch):
        items = [(stored_prompt(i), f"answer {i}") for i in range(a, min(hi, a + batch))]
        if any(k is None for k in cache.store_many(items, llm_string=LLM_STRING)):
            raise RuntimeError("store_many dropped entries")
    wait_indexed(url, cache.config.index_name, hi)
    return time.perf_counter() - start


def answer_index(generations: Sequence[Any] | None) -> int | None:
    if not generations:
        return None
    return int(generations[0].text.split()[-1])


@dataclass
class Timed:
    ms: list[float]  # per lookup, embedding time excluded
    got: list[int | None]  # entry index served (None: miss)


def time_lookups(lookup: Callable[[str], Any], emb: Replay, texts: Sequence[str]) -> Timed:
    for text in texts[:20]:
        lookup(text)
    ms: list[float] = []
    got: list[int | None] = []
    for text in texts:
        emb.inside = 0.0
        start = time.perf_counter()
        result = lookup(text)
        ms.append((time.perf_counter() - start - emb.inside) * 1000.0)
        got.append(answer_index(result))
    return Timed(ms, got)


def time_cache(cache: ValkeySemanticCache, emb: Replay, texts: Sequence[str]) -> Timed:
    """``time_lookups`` through ``cache.lookup(prompt, llm_string)``."""
    return time_lookups(lambda t: cache.lookup(t, LLM_STRING), emb, texts)


def exact_nearest(stored: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """Index of each query's exact nearest stored row (unit rows: max dot product)."""
    best = np.full(len(queries), -2.0, dtype=np.float32)
    arg = np.zeros(len(queries), dtype=np.int64)
    for lo in range(0, len(stored), 50_000):
        block = queries @ stored[lo : lo + 50_000].T
        i = block.argmax(axis=1)
        v = block[np.arange(len(queries)), i]
        better = v > best
        best[better], arg[better] = v[better], i[better] + lo
    return arg


def recall(
    got: Sequence[int | None], exact: np.ndarray, stored: np.ndarray, q: np.ndarray
) -> float:
    """recall@1: served an entry as near as the exact nearest one (ties count)."""
    ok = 0
    for g, e, v in zip(got, exact, q, strict=True):
        if g is not None and float(stored[g] @ v) >= float(stored[e] @ v) - 1e-5:
            ok += 1
    return ok / len(got)


def tasks_rate(
    cache: ValkeySemanticCache,
    call: Callable[[str], Awaitable[Any]],
    work: Sequence[str],
    tasks: int,
) -> float:
    """Calls per second of ``call`` over ``work`` shared by ``tasks`` asyncio tasks on one event
    loop (after one warm-up call), then closes the cache's async client of that loop."""

    async def run() -> float:
        await call(work[0])
        queue = iter(work)

        async def worker() -> None:
            for text in queue:
                await call(text)

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(tasks)))
        rate = len(work) / (time.perf_counter() - began)
        await cache.aclose()
        return rate

    return asyncio.run(run())
