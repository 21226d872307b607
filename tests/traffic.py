"""Steady cache traffic from threads and asyncio tasks at once, recorded call by call.

Each worker looks up paraphrases of known questions (the vector search), stores new
questions of its own, and now and then repeats one it stored (the exact path). Every
served answer is checked against the question asked: a wrong one is recorded, never
tolerated. Failover tests read the record to measure miss windows and lost entries.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from langchain_valkey_semcache import CacheLookup, ValkeySemanticCache
from tests.support import TableEmbeddings

DIMS = 64


def questions(n: int, seed: int = 20261206) -> tuple[TableEmbeddings, dict[str, str]]:
    """``n`` known questions in random directions, each with a paraphrase at cosine ~0.99;
    returns the embeddings and {paraphrase: the known question's answer}."""
    rng = np.random.default_rng(seed)
    table: dict[str, list[float]] = {}
    for i in range(n):
        v = rng.normal(size=DIMS)
        v /= np.linalg.norm(v)
        near = v + rng.normal(size=DIMS) * 0.012
        table[f"known {i}"] = v.tolist()
        table[f"like known {i}"] = (near / np.linalg.norm(near)).tolist()
    return TableEmbeddings(table, dims=DIMS), {f"like known {i}": f"answer {i}" for i in range(n)}


def known_items(n: int) -> list[tuple[str, str]]:
    return [(f"known {i}", f"answer {i}") for i in range(n)]


@dataclass(frozen=True)
class Call:
    """One call of a worker: when it started (``time.monotonic``), how long it took, what
    it was (``lookup`` of a known question's paraphrase, ``repeat`` of a question the
    worker stored three rounds before, ``store``) and how it ended: hit, miss, skipped,
    error:<kind>, stored, not stored."""

    started: float
    seconds: float
    op: str
    outcome: str

    @property
    def ended(self) -> float:
        return self.started + self.seconds


@dataclass(frozen=True)
class Ack:
    """A store the cache acknowledged (it returned a key)."""

    at: float
    key: str
    question: str


class Traffic:
    """``threads`` blocking workers and ``tasks`` asyncio tasks on one cache, until stopped."""

    def __init__(
        self,
        cache: ValkeySemanticCache,
        paraphrases: dict[str, str],
        *,
        threads: int = 3,
        tasks: int = 8,
        pause: float = 0.01,
    ) -> None:
        self.cache = cache
        self.paraphrases = sorted(paraphrases.items())
        self.threads, self.tasks, self.pause = threads, tasks, pause
        self.calls: list[Call] = []
        self.acks: list[Ack] = []
        self.wrong: list[str] = []
        self.raised: list[BaseException] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._workers: list[threading.Thread] = []

    # -- recording ------------------------------------------------------------------

    def _looked_up(
        self, started: float, result: CacheLookup, want: str, asked: str, op: str = "lookup"
    ) -> None:
        seconds = time.monotonic() - started
        if result.hit is not None and result.hit.answer != want:
            with self._lock:
                self.wrong.append(f"{asked!r} served {result.hit.answer!r}, not {want!r}")
        outcome = (
            "hit"
            if result.hit is not None
            else f"error:{result.error}"
            if result.error
            else "skipped"
            if result.skipped
            else "miss"
        )
        with self._lock:
            self.calls.append(Call(started, seconds, op, outcome))

    def _stored(self, started: float, key: str | None, question: str) -> None:
        now = time.monotonic()
        with self._lock:
            self.calls.append(
                Call(started, now - started, "store", "stored" if key else "not stored")
            )
            if key is not None:
                self.acks.append(Ack(now, key, question))

    def _plan(self, worker: str, i: int) -> tuple[str, str, str, str, str | None]:
        """(paraphrase, its answer, new question, its answer, an earlier new question)."""
        asked, want = self.paraphrases[(i * 7 + sum(map(ord, worker))) % len(self.paraphrases)]
        new = f"new {worker} {i}"
        repeat = f"new {worker} {i - 3}" if i >= 3 and i % 3 == 0 else None
        return asked, want, new, f"answer to {new}", repeat

    # -- workers --------------------------------------------------------------------

    def _thread(self, worker: str) -> None:
        i = 0
        while not self._stop.is_set():
            asked, want, new, answer, repeat = self._plan(worker, i)
            started = time.monotonic()
            self._looked_up(started, self.cache.search(asked), want, asked)
            started = time.monotonic()
            self._stored(started, self.cache.store(new, answer), new)
            if repeat is not None:
                started = time.monotonic()
                result = self.cache.search(repeat)
                self._looked_up(started, result, f"answer to {repeat}", repeat, "repeat")
            i += 1
            time.sleep(self.pause)

    async def _task(self, worker: str) -> None:
        i = 0
        while not self._stop.is_set():
            asked, want, new, answer, repeat = self._plan(worker, i)
            started = time.monotonic()
            self._looked_up(started, await self.cache.asearch(asked), want, asked)
            started = time.monotonic()
            self._stored(started, await self.cache.astore(new, answer), new)
            if repeat is not None:
                started = time.monotonic()
                result = await self.cache.asearch(repeat)
                self._looked_up(started, result, f"answer to {repeat}", repeat, "repeat")
            i += 1
            await asyncio.sleep(self.pause)

    def _guarded(self, target: Callable[[], object]) -> None:
        try:
            target()
        except BaseException as exc:  # an exception reaching a caller fails the test
            with self._lock:
                self.raised.append(exc)

    def start(self) -> Traffic:
        async def tasks() -> None:
            await asyncio.gather(*(self._task(f"t{n}") for n in range(self.tasks)))
            await self.cache.aclose()

        targets: list[Callable[[], object]] = [
            (lambda n=n: self._thread(f"s{n}")) for n in range(self.threads)
        ]
        targets.append(lambda: asyncio.run(tasks()))
        self._workers = [threading.Thread(target=self._guarded, args=(t,)) for t in targets]
        for worker in self._workers:
            worker.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        for worker in self._workers:
            worker.join(timeout=60)

    def __enter__(self) -> Traffic:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- reading the record ---------------------------------------------------------

    def snapshot(self) -> tuple[list[Call], list[Ack]]:
        with self._lock:
            return list(self.calls), list(self.acks)

    def wait_until(self, done: Callable[[list[Call], list[Ack]], bool], timeout: float) -> bool:
        """Let the traffic run until ``done(calls, acks)`` or ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.raised or done(*self.snapshot()):
                return True
            time.sleep(0.02)
        return False

    def serves_again(self, since: float, timeout: float) -> bool:
        """Let the traffic run until a lookup hits and 10 stores are acknowledged after
        ``since`` (the cache serves and stores again), or ``timeout`` seconds."""
        return self.wait_until(
            lambda calls, acks: (
                first(calls, "lookup", "hit", after=since) is not None
                and sum(x.at > since for x in acks) >= 10
            ),
            timeout,
        )

    def count(self, since: float = float("-inf"), until: float = float("inf")) -> Counter[str]:
        """Outcomes of the calls that started in [since, until)."""
        calls, _ = self.snapshot()
        return Counter(f"{c.op} {c.outcome}" for c in calls if since <= c.started < until)


def first(calls: list[Call], op: str, outcome: str, after: float) -> Call | None:
    """The first call of ``op`` that started after ``after`` and ended with ``outcome``."""
    found = [c for c in calls if c.op == op and c.outcome == outcome and c.started >= after]
    return min(found, key=lambda c: c.started) if found else None
