"""Integrity under load: mixed operations from threads and tasks, TTL, eviction."""

from __future__ import annotations

import asyncio
import base64
import json
import random
import threading
import time
from collections import Counter
from collections.abc import Iterator

import pytest
import valkey

from langchain_valkey_semcache import CacheHit, ValkeySemanticCache
from langchain_valkey_semcache import _protocol as proto
from langchain_valkey_semcache.engine import LocalEngine
from tests.support import TableEmbeddings, at_similarity, unit

TENANTS = ["acme", "glob|ex", "t*3", ""]
MODELS = ["haiku", "sonnet|t=0.7", "{x}"]
QUESTIONS = [f"question {i}" for i in range(40)]


def _answer(tenant: str, model: str, question: str) -> str:
    return json.dumps([tenant, model, question])


def _check_hit(hit: CacheHit | None, tenant: str, model: str, asked: str) -> bool:
    """A hit must decode to a complete entry written for this tenant and model."""
    if hit is None:
        return False
    t, m, q = json.loads(hit.answer)
    assert (t, m) == (tenant, model), f"cross-partition hit: {(t, m)} for {(tenant, model)}"
    assert q == asked and hit.matched_prompt == asked
    return True


def test_ten_thousand_mixed_operations(engine: LocalEngine, index_name: str) -> None:
    cache = ValkeySemanticCache(TableEmbeddings(), url=engine.url, index_name=index_name,
                                on_error="raise", socket_timeout_seconds=5)  # fmt: skip
    ops_per_worker, thread_workers, task_workers = 500, 8, 12
    counts: Counter[str] = Counter()
    lock = threading.Lock()
    errors: list[BaseException] = []

    def plan(seed: int) -> list[tuple[str, str, str, str]]:
        rng = random.Random(seed)
        kinds = ("lookup", "lookup", "store")
        return [(rng.choice(kinds), rng.choice(TENANTS), rng.choice(MODELS), rng.choice(QUESTIONS))
                for _ in range(ops_per_worker)]  # fmt: skip

    def thread_worker(seed: int) -> None:
        local: Counter[str] = Counter()
        try:
            for kind, tenant, model, question in plan(seed):
                if kind == "store":
                    answer = _answer(tenant, model, question)
                    key = cache.store(question, answer, namespace=tenant, llm_string=model)
                    local["stores"] += bool(key)
                else:
                    hit = cache.check(question, namespace=tenant, llm_string=model)
                    local["hits" if _check_hit(hit, tenant, model, question) else "misses"] += 1
        except BaseException as exc:  # collected for the assertion below
            errors.append(exc)
        with lock:
            counts.update(local)

    async def task_worker(seed: int) -> None:
        local: Counter[str] = Counter()
        for kind, tenant, model, question in plan(seed):
            if kind == "store":
                key = await cache.astore(question, _answer(tenant, model, question),
                                         namespace=tenant, llm_string=model)  # fmt: skip
                local["stores"] += bool(key)
            else:
                hit = await cache.acheck(question, namespace=tenant, llm_string=model)
                local["hits" if _check_hit(hit, tenant, model, question) else "misses"] += 1
        with lock:
            counts.update(local)

    async def all_tasks() -> None:
        await asyncio.gather(*(task_worker(1000 + i) for i in range(task_workers)))

    threads = [threading.Thread(target=thread_worker, args=(i,)) for i in range(thread_workers)]
    threads.append(threading.Thread(target=lambda: asyncio.run(all_tasks())))
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not errors, errors[:3]
    total = ops_per_worker * (thread_workers + task_workers)
    assert total == 10_000 and sum(counts.values()) == total
    stats = cache.stats()
    assert stats.lookups == counts["hits"] + counts["misses"] == stats.hits + stats.misses
    assert stats.hits == counts["hits"] > 0 and stats.stores == counts["stores"]
    assert stats.errors == stats.store_errors == 0


def test_ttl_is_honoured_under_load(engine: LocalEngine, index_name: str) -> None:
    emb = TableEmbeddings({"short": at_similarity(1.0), "short-like": at_similarity(0.98)})
    cache = ValkeySemanticCache(emb, url=engine.url, index_name=index_name, on_error="raise")
    cache.store("short", "expires", ttl_seconds=1)
    stop = threading.Event()

    def background() -> None:
        i = 0
        while not stop.is_set():
            cache.store(f"filler {i % 300}", "f")
            cache.check(f"filler {(i * 7) % 300}")
            i += 1

    threads = [threading.Thread(target=background) for _ in range(3)]
    for t in threads:
        t.start()
    try:
        assert cache.check("short-like") is not None
        time.sleep(1.3)
        for _ in range(50):
            assert cache.check("short") is None and cache.check("short-like") is None
    finally:
        stop.set()
        for t in threads:
            t.join()


@pytest.fixture
def small_engine() -> Iterator[LocalEngine]:
    engine = LocalEngine(args=("--maxmemory", "12mb", "--maxmemory-policy", "allkeys-lru"))
    with engine:
        yield engine


class Paraphrases(TableEmbeddings):
    """ "paraphrase of X" embeds at cosine ~0.98 to X: a lookup that needs the vector search."""

    def vector(self, text: str) -> list[float]:
        if text.startswith("paraphrase of "):
            base = super().vector(text.removeprefix("paraphrase of "))
            return unit([b + 0.2 * n for b, n in zip(base, super().vector(text), strict=True)])
        return super().vector(text)


def test_evicted_entries_are_never_served(small_engine: LocalEngine) -> None:
    cache = ValkeySemanticCache(Paraphrases(dims=64), url=small_engine.url, verifier=None,
                                socket_timeout_seconds=5)  # fmt: skip
    raw = valkey.Valkey.from_url(small_engine.url)
    keys: dict[str, str] = {}
    # Incompressible answers (stored answers are zstd-compressed): about 3 KB each as stored.
    noise = [base64.b64encode(random.Random(i).randbytes(3000)).decode() for i in range(6_000)]
    batch = [(f"question number {i}", f"answer {noise[i]}") for i in range(6_000)]
    for i in range(0, len(batch), 1000):
        for (question, _), key in zip(batch[i : i + 1000], cache.store_many(batch[i : i + 1000]),
                                      strict=True):  # fmt: skip
            if key:
                keys[question] = key
    assert int(raw.info("stats")["evicted_keys"]) > 1000, "the test must cause evictions"
    live = {q for q, k in keys.items() if raw.exists(k)}
    core = cache._core
    part, ns = core.partition("", ""), core.namespace_tag(None)
    outcome: Counter[str] = Counter()
    for question in list(keys)[::5]:
        result = cache.search(f"paraphrase of {question}")  # a vector search, never exact
        state = "live" if question in live else "evicted"
        outcome[f"{state} {'hit' if result.hit else 'miss'}"] += 1
        if result.hit is not None:
            assert not result.hit.exact and result.hit.matched_prompt == question
            assert raw.exists(result.hit.key)
        if state == "evicted" and outcome["evicted miss"] <= 50:  # the index forgot it too
            vector = proto.encode_vector(cache.embeddings.embed_query(question), 64)
            reply = raw.execute_command(*proto.knn_search(
                cache.config.index_name, part, ns, vector, 3, 150))  # fmt: skip
            assert all(raw.exists(c.key) for c in proto.parse_search(reply))
    assert outcome["evicted hit"] == 0 and outcome["evicted miss"] > 100, outcome
    # RediSearch evicts entries and keeps serving the rest; valkey-search's index memory is not
    # evictable, so it refuses writes (OOM) and evicts nearly every entry: few or none are live.
    assert outcome["live hit"] >= 0.95 * (outcome["live hit"] + outcome["live miss"]), outcome
    assert cache.stats().errors == 0
    raw.config_set("maxmemory", "0")  # room again: the vector path still serves a fresh entry
    assert cache.store("a fresh question", "fresh") is not None
    deadline = time.monotonic() + 5  # valkey-search indexes in background threads
    while (fresh := cache.search("paraphrase of a fresh question").hit) is None:
        if time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert fresh is not None and not fresh.exact and fresh.answer == "fresh"
