"""The cache's decisions, written once and free of I/O: lookup, store, clear, drop.

Each operation is a generator ("flow") that yields effects (``_effects``) and receives
their results; ``_io`` drives the same flow with a sync or an async client, and a test
can drive it with scripted replies. The index's life is ``_index``'s, the accounting
``_stats``'s.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from . import _failover
from . import _protocol as proto
from ._config import CacheConfig, check_threshold, check_ttl
from ._effects import (
    SYSTEM_CLOCK,
    Clock,
    Embed,
    EmbedMany,
    Flow,
    Run,
    Scan,
    VerifierFailed,
    Verify,
)
from ._entry import CacheHit, CacheLookup, CacheStats, Timings, deserialize, serialize
from ._errors import EmbeddingError, InvalidInputError, ProtocolError
from ._index import IndexState
from ._memo import VectorMemo
from ._prompt import PromptParts, digest, normalize
from ._stats import Counters, ErrorLog

logger = logging.getLogger("langchain_valkey_semcache")

_UNLINK_BATCH = 500
_PIPELINE_BATCH = 1000  # commands per round trip: an even number, whole entries


class CacheCore:
    """State and decisions shared by the sync and async paths of one cache.

    ``clock`` is where every flow reads the time (a test passes one that jumps).
    """

    def __init__(self, config: CacheConfig, *, clock: Clock = SYSTEM_CLOCK) -> None:
        self.config = config
        self.index = IndexState(config, clock)
        self.counters = Counters()
        self.errors = ErrorLog(clock)
        self.clock = clock
        self._memo = VectorMemo(config.embedding_memo_size)
        self._down_until = float("-inf")

    @property
    def clock(self) -> Clock:
        return self._clock

    @clock.setter
    def clock(self, clock: Clock) -> None:
        """Every part of the core reads this one clock."""
        self._clock = self.index.clock = self.errors.clock = clock

    def engine_info(self) -> tuple[str | None, int | None]:
        """(engine name, MODULE LIST version) as this core learned them: the name from
        FT.INFO's shape once the index was checked, the version from :meth:`probe`; None
        for what is not known yet (or hidden: MODULE LIST may be disabled)."""
        return self.index.engine.name, self.index.engine.version

    def ef_runtime(self) -> int:
        return self.index.ef_runtime()

    def stats(self) -> CacheStats:
        return self.counters.snapshot()

    # -- keys and partitions -----------------------------------------------------------

    def partition(self, llm_string: str, context: str) -> str:
        return digest("part", llm_string, context)

    def namespace_tag(self, namespace: str | None) -> str:
        return digest("ns", self.config.namespace if namespace is None else namespace)

    def key(self, ns: str, part: str, text: str) -> str:
        return f"{self.config.prefix}{ns}:{digest(part, text)}"

    def _prompt_text(self, parts: PromptParts) -> tuple[str | None, str]:
        """The normalized text to embed, or None and why it is not cacheable."""
        text = normalize(parts.text) if isinstance(parts.text, str) else ""
        if not text:
            return None, "empty prompt"
        if len(text) > self.config.max_prompt_chars:
            return None, f"prompt over max_prompt_chars={self.config.max_prompt_chars}"
        return text, ""

    # -- failures at the fail-open boundary ---------------------------------------------

    def failed(self, err: BaseException, what: str) -> None:
        """An operation failed open: log (throttled); after an outage, back off (not after
        READONLY: the driver dropped the connections to the demoted primary already)."""
        if _failover.backs_off(err):
            self._down_until = self.clock.monotonic() + self.config.retry_after_seconds
            self.index.ready = False
        self.errors.report(err, what)

    def backing_off(self) -> bool:
        return self.clock.monotonic() < self._down_until

    # -- flows -------------------------------------------------------------------------

    def probe(self) -> Flow[None]:
        """Check that a search module runs (MODULE LIST, else an FT.INFO that would fail)."""
        return self.index.probe()

    def ensure_index(self, dim: int) -> Flow[None]:
        """Create the index if missing; verify it if present (idempotent)."""
        return self.index.ensure(dim)

    def embed(self, text: str) -> Flow[bytes]:
        """The FLOAT32 vector of ``text`` (normalized), remembered for the next store."""
        vector = yield Embed(text)
        blob = proto.encode_vector(vector, self.index.dim)
        self._memo.put(text, blob)
        return blob

    def search(self, part: str | None, ns: str, blob: bytes) -> Flow[list[proto.Candidate]]:
        """The nearest entries of one partition (every one of ``ns`` if None), nearest first.

        On RediSearch the query asks for ``HYBRID_POLICY BATCHES`` (fast when the partition
        is large), but batches can skip matches of a small partition whose vectors also
        sit, many times over, in other partitions (one popular question in many tenants).
        Fewer than ``candidates`` results means a small partition: the query is repeated
        with the engine's own plan, which filters first and is exact there.
        """
        dim = len(blob) // 4
        k, index = self.config.candidates, self.index
        yield from index.ensure(dim)
        refreshed = index.due()
        if refreshed:
            yield from index.refresh(dim)

        def command(batches: bool) -> tuple[Any, ...]:
            return proto.knn_search(
                self.config.index_name, part, ns, blob, k, index.ef_runtime(), batches
            )

        batches = index.engine.hybrid_policy
        try:
            [reply] = yield Run((command(batches),))
        except (proto.IndexMissingError, ProtocolError):
            # Dropped (re-create it) or re-created by someone else (verify it: a different
            # DIM raises IndexMismatchError), then try once more.
            index.ready = False
            yield from index.ensure(dim)
            [reply] = yield Run((command(batches),))
        found = proto.parse_search(reply)
        if batches and len(found) < k:
            [reply] = yield Run((command(False),))
            found = proto.parse_search(reply)
        if not refreshed and index.due(len(found)):
            yield from index.refresh(dim)
        return found

    def verdict(self, query: str, cand: proto.Candidate) -> Flow[bool | None]:
        """The verifier's word on ``cand`` (None: the cache has no verifier); a verifier
        that fails rejects: the safe side."""
        try:
            verdict = yield Verify(query, cand.prompt or "", cand.similarity)
        except VerifierFailed as exc:
            logger.warning("verifier failed, rejecting the candidate: %s", exc)
            return False
        return None if verdict is None else bool(verdict)

    def lookup(
        self,
        parts: PromptParts,
        llm_string: str,
        namespace: str | None = None,
        threshold: float | None = None,
    ) -> Flow[CacheLookup]:
        clock = self.clock
        start = clock.monotonic()

        def ms(since: float) -> float:
            return (clock.monotonic() - since) * 1000.0

        threshold = check_threshold(
            self.config.similarity_threshold if threshold is None else threshold
        )
        text, why = self._prompt_text(parts)
        if text is None or self.backing_off():
            reason = why or "cache unavailable, retrying later"
            timings = Timings(total_ms=ms(start))
            return CacheLookup(None, None, timings, skipped=reason, threshold=threshold)
        part, ns = self.partition(llm_string, parts.context), self.namespace_tag(namespace)
        key = self.key(ns, part, text)

        # Exact repeat: one HMGET, no embedding call.
        [reply] = yield Run((proto.get_entry(key),))
        entry = proto.parse_entry(reply)
        if (
            entry is not None
            and (entry.prompt, entry.part, entry.ns) == (text, part, ns)
            and entry.expires_at > clock.wall()
        ):
            gens = deserialize(entry.answer)
            timings = Timings(search_ms=ms(start), total_ms=ms(start))
            hit = CacheHit(gens, 1.0, text, key, True, timings)
            return CacheLookup(hit, 1.0, timings, threshold=threshold)

        t_embed = clock.monotonic()
        blob = self._memo.get(text)
        if blob is None:
            blob = yield from self.embed(text)
        embedding_ms = ms(t_embed)
        t_search = clock.monotonic()
        candidates = yield from self.search(part, ns, blob)
        now = clock.wall()
        live = [c for c in candidates if c.expires_at > now]
        search_ms = ms(t_search)
        chosen = None
        rejected = 0
        t_verify = clock.monotonic()
        for cand in live:
            if cand.similarity < threshold:
                break
            if cand.answer is None:  # an incomplete entry: never served, never silent
                raise ProtocolError(f"entry {cand.key!r} has no {proto.ANSWER} field")
            if (yield from self.verdict(text, cand)) is not False:
                chosen = cand
                break
            rejected += 1
        timings = Timings(embedding_ms, search_ms, ms(start), ms(t_verify))
        best = live[0].similarity if live else None
        miss = CacheLookup(
            None, best, timings, threshold=threshold, candidates=len(live), rejected=rejected
        )
        if chosen is None or chosen.answer is None:
            return miss
        gens = deserialize(chosen.answer)
        hit = CacheHit(gens, chosen.similarity, chosen.prompt or "", chosen.key, False, timings)
        return replace(miss, hit=hit)

    def _prepare(
        self, parts: PromptParts, generations: Sequence[Any], ttl_seconds: int | None
    ) -> tuple[str, str | bytes] | None:
        """(normalized text, serialized answer), or None when it is not to be stored."""
        check_ttl(ttl_seconds)
        text, why = self._prompt_text(parts)
        if text is None:
            logger.debug("not caching: %s", why)
            return None
        try:
            payload = serialize(
                generations, self.config.max_answer_bytes, self.config.compress_answers
            )
        except InvalidInputError as exc:
            reason = "too large" if "max_answer_bytes" in str(exc) else "not serializable"
            logger.warning("not caching an answer: %s", reason)
            return None
        return text, payload

    def _write(
        self,
        text: str,
        context: str,
        payload: str | bytes,
        blob: bytes,
        llm_string: str,
        namespace: str | None,
        ttl_seconds: int | None,
    ) -> tuple[str, tuple[tuple[Any, ...], ...]]:
        """The key of an entry and the commands that write it."""
        part, ns = self.partition(llm_string, context), self.namespace_tag(namespace)
        key = self.key(ns, part, text)
        ttl = ttl_seconds if ttl_seconds is not None else self.config.ttl_seconds
        expires_at = self.clock.wall() + ttl if ttl else None
        commands = proto.write_entry(
            key, prompt=text, answer=payload, part=part, ns=ns, vector=blob,
            expires_at=expires_at, ttl_seconds=ttl,
        )  # fmt: skip
        return key, commands

    def store(
        self,
        parts: PromptParts,
        llm_string: str,
        generations: Sequence[Any],
        namespace: str | None = None,
        ttl_seconds: int | None = None,
    ) -> Flow[str | None]:
        """Store one answer; its key, or None when it is not stored (see ``_prepare``)."""
        prepared = self._prepare(parts, generations, ttl_seconds)
        if prepared is None or self.backing_off():
            return None
        text, payload = prepared
        blob = self._memo.get(text)
        if blob is None:
            blob = yield from self.embed(text)
        yield from self.index.ensure(len(blob) // 4)
        key, commands = self._write(
            text, parts.context, payload, blob, llm_string, namespace, ttl_seconds
        )
        replies = yield Run(commands)
        self.index.grown(proto.new_entries(replies))
        return key

    def store_many(
        self,
        items: Sequence[tuple[PromptParts, Sequence[Any]]],
        llm_string: str,
        namespace: str | None = None,
        ttl_seconds: int | None = None,
    ) -> Flow[list[str | None]]:
        """Store many entries: one batch embedding call, pipelined writes."""
        prepared = [self._prepare(parts, gens, ttl_seconds) for parts, gens in items]
        wanted = {p[0] for p in prepared if p is not None and self._memo.get(p[0]) is None}
        blobs = {p[0]: b for p in prepared if p is not None and (b := self._memo.get(p[0]))}
        if wanted:
            texts = tuple(sorted(wanted))
            vectors = yield EmbedMany(texts)
            if len(vectors) != len(texts):
                raise EmbeddingError(f"{len(texts)} texts embedded into {len(vectors)} vectors")
            dim = self.index.dim
            for t, vector in zip(texts, vectors, strict=True):
                blobs[t] = proto.encode_vector(vector, dim)
                dim = len(blobs[t]) // 4
        if not blobs:
            return [None] * len(items)
        yield from self.index.ensure(len(next(iter(blobs.values()))) // 4)
        keys: list[str | None] = []
        commands: list[tuple[Any, ...]] = []
        for (parts, _), prep in zip(items, prepared, strict=True):
            if prep is None:
                keys.append(None)
                continue
            key, cmds = self._write(
                prep[0], parts.context, prep[1], blobs[prep[0]], llm_string, namespace, ttl_seconds
            )
            keys.append(key)
            commands.extend(cmds)
        added = 0
        for i in range(0, len(commands), _PIPELINE_BATCH):
            added += proto.new_entries((yield Run(tuple(commands[i : i + _PIPELINE_BATCH]))))
        self.index.grown(added)
        return keys

    def entry_keys(
        self, namespace: str | None = None, *, all_namespaces: bool = False
    ) -> Flow[list[str]]:
        """The keys of this cache's entries in a namespace (or all), on every primary."""
        pattern = (
            f"{self.config.prefix}*"
            if all_namespaces
            else f"{self.config.prefix}{self.namespace_tag(namespace)}:*"
        )
        keys = yield Scan(pattern)
        return list(keys)

    def clear(self, namespace: str | None = None, *, all_namespaces: bool = False) -> Flow[int]:
        """Delete this cache's entries (SCAN + UNLINK, never KEYS); keep the index."""
        keys = yield from self.entry_keys(namespace, all_namespaces=all_namespaces)
        for i in range(0, len(keys), _UNLINK_BATCH):
            yield Run(tuple(proto.unlink(k) for k in keys[i : i + _UNLINK_BATCH]))
        self.index.forget_size()  # re-read the size at the next lookup
        return len(keys)

    def forget(self, key: str) -> Flow[bool]:
        """Delete one entry (a hit's ``key``), e.g. after a user flagged its answer wrong."""
        if not isinstance(key, str) or not key.startswith(self.config.prefix):
            raise InvalidInputError(f"not a key of this cache (prefix {self.config.prefix!r})")
        (deleted,) = yield Run((proto.unlink(key),))
        self.index.grown(-int(bool(deleted)))
        return bool(deleted)

    def drop(self) -> Flow[int]:
        """Drop the index and delete its entries."""
        deleted = yield from self.clear(all_namespaces=True)
        try:
            yield Run((proto.drop_index(self.config.index_name),))
        except proto.IndexMissingError:
            pass
        self.index.reset()
        return int(deleted)
