"""The cache's decisions, written once and free of I/O.

Each operation is a generator ("flow") that yields effects (:class:`Embed`,
:class:`Run`, :class:`Scan`) and receives their results; ``_io`` drives the same flow
with a sync or an async client. Errors from I/O are thrown back into the flow.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Generator, Sequence
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from . import _protocol as proto
from ._config import CacheConfig
from ._entry import CacheHit, CacheLookup, CacheStats, Timings, deserialize, serialize
from ._errors import (
    CacheUnavailableError,
    ConfigurationError,
    EmbeddingError,
    IndexMismatchError,
    InvalidInputError,
    NoSearchModuleError,
    ProtocolError,
    SemanticCacheError,
)
from ._prompt import PromptParts, digest, normalize

logger = logging.getLogger("langchain_valkey_semcache")

T = TypeVar("T")


@dataclass(frozen=True)
class Embed:
    """Effect: embed ``text``; the result is a sequence of floats."""

    text: str


@dataclass(frozen=True)
class Run:
    """Effect: run commands in one round trip (a pipeline, no MULTI: cluster clients
    refuse transactions); the result is the list of replies."""

    commands: tuple[tuple[Any, ...], ...]


@dataclass(frozen=True)
class Scan:
    """Effect: the keys matching ``pattern`` on every primary; the result is a list[str]."""

    pattern: str


@dataclass(frozen=True)
class EmbedMany:
    """Effect: embed ``texts`` in one batch; the result is a sequence of vectors."""

    texts: tuple[str, ...]


@dataclass(frozen=True)
class OnPrimaries:
    """Effect: run ``command`` on every primary of a cluster client, one by one; the result
    is a list with each node's reply or its :class:`SemanticCacheError`, or None for a
    client that is not a cluster client."""

    command: tuple[Any, ...]


@dataclass(frozen=True)
class Sleep:
    """Effect: wait ``seconds`` (a short, bounded wait; never on the lookup path)."""

    seconds: float


@dataclass(frozen=True)
class Verify:
    """Effect: ask the verifier whether ``cached``'s answer may answer ``query``."""

    query: str
    cached: str
    similarity: float


Effect = Embed | EmbedMany | Run | Scan | Verify | OnPrimaries | Sleep
Flow = Generator[Effect, Any, T]

_LOG_WINDOW_SECONDS = 30.0
_UNLINK_BATCH = 500
_PIPELINE_BATCH = 1000
# How long a new index may take to reach every primary of a cluster (the coordinator
# propagates FT.CREATE in the background; locally it takes a few milliseconds).
_SPREAD_WAIT_SECONDS = 2.0
_SPREAD_POLL_SECONDS = 0.05


# EF_RUNTIME fitted to the index size when ``hnsw_ef_runtime`` is None: (up to this many
# documents, EF_RUNTIME below 768 dimensions). HNSW misses more neighbours as the graph grows
# and as the dimension rises, so the beam widens with both; a small index gets a narrow beam,
# which is 1.3-2x faster there at the same recall. Measured by ``bench/speed.py`` (recall@1 of
# the served answer against exact search, M=16, EF_CONSTRUCTION=200, both engines): synthetic
# near-duplicates reach 0.999-1.000 at EF 40 at 10k x 384-d, 0.987-0.993 at EF 150 and
# 1.000 at EF 250 at 100k x 384-d, 0.990-0.997 at EF 250 and 1.000 at EF 400 at 100k x
# 1024-d; 10k x 1024-d gave 0.983-1.000 at EF 40 and 1.000 at 80; real MiniLM questions
# (4,911 stored) 0.991-0.996 at EF 40 and 0.998-0.999 at 80.
# Beyond 100k entries the last step is an extrapolation (not measured at 1M).
_EF_STEPS: tuple[tuple[float, int], ...] = (
    (10_000, 40),
    (100_000, 200),
    (math.inf, 400),
)
_EF_WIDE_DIM = 768  # from this dimension on (Titan v2's 1024), a large index's beam doubles
_EF_WIDE_FROM = 1_000  # documents


def ef_for(size: int | None, dim: int | None, k: int) -> int:
    """EF_RUNTIME for an index of ``size`` documents of ``dim`` dimensions (None: unknown,
    the widest beam), never below ``k``."""
    n = math.inf if size is None else size
    ef = next(e for limit, e in _EF_STEPS if n <= limit)
    if dim is not None and dim >= _EF_WIDE_DIM and n > _EF_WIDE_FROM:
        ef *= 2
    return max(k, min(ef, 4096))


def _new_entries(replies: Sequence[Any]) -> int:
    """Entries a write created, from its (HSET, EXPIRE|PERSIST) replies: HSET counts the
    fields it added, none when it overwrote an entry."""
    return sum(1 for r in replies[::2] if isinstance(r, int) and r > 0)


def _ms(start: float) -> float:
    return (time.perf_counter() - start) * 1000.0


class _Memo:
    """Vectors computed by lookups, reused by the update of the same prompt (LRU)."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._data: OrderedDict[str, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, text: str, vector: bytes) -> None:
        if not self._size:
            return
        with self._lock:
            self._data[text] = vector
            self._data.move_to_end(text)
            while len(self._data) > self._size:
                self._data.popitem(last=False)

    def get(self, text: str) -> bytes | None:
        with self._lock:
            return self._data.get(text)


class CacheCore:
    """State and decisions shared by the sync and async paths of one cache."""

    def __init__(self, config: CacheConfig, *, verify: bool = False) -> None:
        self.config = config
        self.verify = verify
        self.dim: int | None = config.dims
        self.engine = proto.Engine()
        self._engine_known = False
        self._index_ready = False
        self._index_checked = 0.0
        self._memo = _Memo(config.embedding_memo_size)
        self._size: int | None = None  # documents in the index (FT.INFO) plus our stores since
        self._size_checked = -math.inf
        self._lock = threading.Lock()
        self._stats = CacheStats()
        self._down_until = 0.0
        self._log_state: dict[str, tuple[float, int]] = {}

    def engine_info(self) -> tuple[str | None, int | None]:
        """(engine name, MODULE LIST version) as this core learned them: the name from
        FT.INFO's shape once the index was checked, the version from :meth:`probe`; None
        for what is not known yet (or hidden: MODULE LIST may be disabled)."""
        return self.engine.name, self.engine.version

    # -- keys and partitions -----------------------------------------------------------

    def partition(self, llm_string: str, context: str) -> str:
        return digest("part", llm_string, context)

    def namespace_tag(self, namespace: str | None) -> str:
        return digest("ns", self.config.namespace if namespace is None else namespace)

    def key(self, ns: str, part: str, text: str) -> str:
        return f"{self.config.prefix}{ns}:{digest(part, text)}"

    def _spec(self, dim: int) -> proto.IndexSpec:
        c = self.config
        return proto.IndexSpec(c.index_name, c.prefix, dim, c.hnsw_m, c.hnsw_ef_construction)

    def _prompt_text(self, parts: PromptParts) -> tuple[str | None, str]:
        """The normalized text to embed, or None and why it is not cacheable."""
        text = normalize(parts.text) if isinstance(parts.text, str) else ""
        if not text:
            return None, "empty prompt"
        if len(text) > self.config.max_prompt_chars:
            return None, f"prompt over max_prompt_chars={self.config.max_prompt_chars}"
        return text, ""

    # -- counters and logging ----------------------------------------------------------

    def count(self, **increments: int) -> None:
        with self._lock:
            values = {k: getattr(self._stats, k) + v for k, v in increments.items()}
            self._stats = replace(self._stats, **values)

    def stats(self) -> CacheStats:
        with self._lock:
            return replace(self._stats, by_error=dict(self._stats.by_error))

    def reset_stats(self) -> None:
        with self._lock:
            self._stats = CacheStats()

    def _log_burst(self, err: BaseException, what: str) -> None:
        """Log the first error of a kind, then at most one summary per window."""
        kind = type(err).__name__
        now = time.monotonic()
        with self._lock:
            since, suppressed = self._log_state.get(kind, (-math.inf, 0))
            if now - since < _LOG_WINDOW_SECONDS:
                self._log_state[kind] = (since, suppressed + 1)
                return
            self._log_state[kind] = (now, 0)
        more = f" ({suppressed} more since the last report)" if suppressed else ""
        level = logging.ERROR if isinstance(err, _MISCONFIGURED) else logging.WARNING
        # Only messages we wrote ourselves: provider and reply texts may quote user prompts.
        cause = f" ({type(err.__cause__).__name__})" if err.__cause__ is not None else ""
        detail = f": {err}" if isinstance(err, _SAFE_TO_LOG) else cause
        logger.log(level, "semantic cache %s failed, continuing without it: %s%s%s",
                   what, kind, detail, more)  # fmt: skip
        logger.debug("semantic cache %s error detail: %r", what, err)

    def failed(self, err: BaseException, what: str) -> None:
        """Account for an error at the LangChain/LangGraph boundary (fail-open path)."""
        kind = type(err).__name__
        with self._lock:
            by_error = dict(self._stats.by_error)
            by_error[kind] = by_error.get(kind, 0) + 1
            field = "errors" if what == "lookup" else "store_errors"
            self._stats = replace(
                self._stats, by_error=by_error, **{field: getattr(self._stats, field) + 1}
            )
            if what == "lookup":
                self._stats = replace(self._stats, misses=self._stats.misses + 1)
            if isinstance(err, CacheUnavailableError):
                self._down_until = time.monotonic() + self.config.retry_after_seconds
                self._index_ready = False
        self._log_burst(err, what)

    def backing_off(self) -> bool:
        return time.monotonic() < self._down_until

    # -- flows -------------------------------------------------------------------------

    def probe(self) -> Flow[None]:
        """Check that a search module runs (MODULE LIST, else an FT.INFO that would fail)."""
        try:
            [reply] = yield Run((proto.module_list(),))
            self.engine = proto.parse_modules(reply)
        except CacheUnavailableError:
            raise
        except SemanticCacheError:  # MODULE LIST may be disabled (managed services)
            self.engine = proto.Engine()
        self._engine_known = True
        if self.engine.listed is not True:
            try:
                yield Run((proto.info_index(self.config.index_name),))
            except proto.IndexMissingError:
                pass

    def ensure_index(self, dim: int) -> Flow[None]:
        """Create the index if missing; verify it if present (idempotent)."""
        if self.dim is not None and dim != self.dim:
            raise IndexMismatchError(
                f"the embedding model returned {dim}-d vectors but this cache is set to "
                f"{self.dim}; fix dims= or use another index_name"
            )
        if self._index_ready:
            return
        if not self._engine_known:
            yield from self.probe()
        spec = self._spec(dim)
        created = False
        try:
            [reply] = yield Run((proto.info_index(spec.name),))
        except proto.IndexMissingError:
            try:
                yield Run((proto.create_index(spec),))
                created = True
            except proto.IndexExistsError:  # created concurrently by another process
                pass
            [reply] = yield Run((proto.info_index(spec.name),))
        info = proto.parse_info(reply)
        if not created:
            proto.check_index(info, spec)
        self._learn_size(info)
        yield from self._learn_engine(info, spec)
        yield from self._check_spread(spec.name, wait=created)
        self.dim = dim
        self._index_ready = True
        self._index_checked = time.monotonic()

    def _learn_size(self, info: proto.IndexInfo) -> None:
        # In a cluster FT.INFO counts the local shard: the size of the graph each shard walks.
        self._size, self._size_checked = info.num_docs, time.monotonic()

    def _grown(self, added: int) -> None:
        with self._lock:
            if self._size is not None:
                self._size = max(0, self._size + added)

    def ef_runtime(self) -> int:
        """The EF_RUNTIME of the next query: the configured one, else fitted to the size."""
        if self.config.hnsw_ef_runtime is not None:
            return self.config.hnsw_ef_runtime
        return ef_for(self._size, self.dim, self.config.candidates)

    def _refresh_size(self) -> Flow[None]:
        """Re-read the index size (FT.INFO) at most once per ``index_check_interval_seconds``
        when EF_RUNTIME follows it; other processes add entries too."""
        if self.config.hnsw_ef_runtime is not None or (
            time.monotonic() - self._size_checked < self.config.index_check_interval_seconds
        ):
            return
        self._size_checked = time.monotonic()
        try:
            [reply] = yield Run((proto.info_index(self.config.index_name),))
            info = proto.parse_info(reply)
        except (proto.IndexMissingError, ProtocolError):
            return  # the KNN that follows finds out and re-creates or verifies the index
        self._learn_size(info)
        if self.dim is not None:
            # The same reply verifies the index: an empty lookup need not ask again.
            proto.check_index(info, self._spec(self.dim))
            self._index_checked = self._size_checked

    def _learn_engine(self, info: proto.IndexInfo, spec: proto.IndexSpec) -> Flow[None]:
        """Name the engine by FT.INFO's shape; send RediSearch's ``HYBRID_POLICY BATCHES``
        only after the server accepted it in a probe query (valkey-search rejects it)."""
        if self.engine.name is not None and self.engine.name == info.engine:
            return
        accepted = False
        if info.engine == proto.REDISEARCH:
            try:
                [reply] = yield Run((proto.knn_probe(spec.name, spec.dim),))
                proto.parse_search(reply)
                accepted = True
            except ProtocolError:  # the server refused the clause
                pass
        self.engine = replace(self.engine, name=info.engine, hybrid_policy=accepted)

    def _check_spread(self, name: str, *, wait: bool) -> Flow[None]:
        """In cluster mode the index must exist on every primary: only then does the engine
        search across shards (valkey-search with its coordinator). A module without one
        answers a KNN from one shard: partial results, silently. Refuse that."""
        deadline = time.monotonic() + (_SPREAD_WAIT_SECONDS if wait else 0.0)
        while True:
            replies = yield OnPrimaries(proto.info_index(name))
            if replies is None:  # not a cluster client
                return
            for reply in replies:
                if isinstance(reply, SemanticCacheError) and not isinstance(
                    reply, proto.IndexMissingError
                ):
                    raise reply
            missing = sum(isinstance(r, proto.IndexMissingError) for r in replies)
            if not missing:
                return
            if time.monotonic() >= deadline:
                raise ConfigurationError(
                    f"cluster mode without cross-shard search: index {name!r} exists on "
                    f"{len(replies) - missing} of {len(replies)} primaries, so a search would "
                    "see one shard. valkey-search needs its coordinator (loadmodule ... "
                    "--use-coordinator; ElastiCache for Valkey runs it in cluster mode)"
                )
            yield Sleep(_SPREAD_POLL_SECONDS)

    def _embed(self, text: str) -> Flow[bytes]:
        vector = yield Embed(text)
        blob = proto.encode_vector(vector, self.dim)
        self._memo.put(text, blob)
        return blob

    def _knn(self, part: str | None, ns: str, blob: bytes) -> Flow[list[proto.Candidate]]:
        """The nearest entries of one partition (every one of ``ns`` if None), nearest first.

        On RediSearch the query asks for ``HYBRID_POLICY BATCHES`` (fast when the partition
        is large), but batches can skip matches of a small partition whose vectors also
        sit, many times over, in other partitions (one popular question in many tenants).
        Fewer than ``candidates`` results means a small partition: the query is repeated
        with the engine's own plan, which filters first and is exact there.
        """
        k = self.config.candidates
        yield from self._refresh_size()

        def command(batches: bool) -> tuple[Any, ...]:
            return proto.knn_search(
                self.config.index_name, part, ns, blob, k, self.ef_runtime(), batches
            )

        batches = self.engine.hybrid_policy
        try:
            [reply] = yield Run((command(batches),))
        except (proto.IndexMissingError, ProtocolError):
            # Dropped (re-create it) or re-created by someone else (verify it: a different
            # DIM raises IndexMismatchError), then try once more.
            self._index_ready = False
            yield from self.ensure_index(len(blob) // 4)
            [reply] = yield Run((command(batches),))
        found = proto.parse_search(reply)
        if batches and len(found) < k:
            [reply] = yield Run((command(False),))
            found = proto.parse_search(reply)
        if not found and (
            time.monotonic() - self._index_checked >= self.config.index_check_interval_seconds
        ):
            # Nothing found: also what an index re-created by someone else with another
            # schema answers (no error). Verify it, at most once per interval.
            self._index_ready = False
            yield from self.ensure_index(len(blob) // 4)
        return found

    def lookup(
        self,
        parts: PromptParts,
        llm_string: str,
        namespace: str | None = None,
        threshold: float | None = None,
    ) -> Flow[CacheLookup]:
        start = time.perf_counter()
        self.count(lookups=1)
        threshold = self.config.similarity_threshold if threshold is None else threshold
        if (
            isinstance(threshold, bool)
            or not isinstance(threshold, (int, float))
            or not (0.0 <= threshold <= 1.0)
        ):
            raise ConfigurationError(f"similarity_threshold must be in [0, 1], got {threshold!r}")
        text, why = self._prompt_text(parts)
        if text is None or self.backing_off():
            self.count(skipped=1, misses=1)
            reason = why or "cache unavailable, retrying later"
            timings = Timings(total_ms=_ms(start))
            return CacheLookup(None, None, timings, skipped=reason, threshold=threshold)
        part, ns = self.partition(llm_string, parts.context), self.namespace_tag(namespace)
        key = self.key(ns, part, text)

        # Exact repeat: one HMGET, no embedding call.
        [reply] = yield Run((proto.get_entry(key),))
        entry = proto.parse_entry(reply)
        if (
            entry is not None
            and (entry.prompt, entry.part, entry.ns) == (text, part, ns)
            and entry.expires_at > time.time()
        ):
            gens = deserialize(entry.answer)
            timings = Timings(search_ms=_ms(start), total_ms=_ms(start))
            hit = CacheHit(gens, 1.0, text, key, True, timings)
            self.count(hits=1, exact_hits=1)
            return CacheLookup(hit, 1.0, timings, threshold=threshold)

        t_embed = time.perf_counter()
        blob = self._memo.get(text)
        if blob is None:
            blob = yield from self._embed(text)
        embedding_ms = _ms(t_embed)
        t_search = time.perf_counter()
        yield from self.ensure_index(len(blob) // 4)
        candidates = yield from self._knn(part, ns, blob)
        now = time.time()
        live = [c for c in candidates if c.expires_at > now]
        search_ms = _ms(t_search)
        best = live[0].similarity if live else None
        chosen = None
        rejected = 0
        t_verify = time.perf_counter()
        for cand in live:
            if cand.similarity < threshold:
                break
            if cand.answer is None:  # an incomplete entry: never served, never silent
                raise ProtocolError(f"entry {cand.key!r} has no {proto.ANSWER} field")
            if not self.verify or (yield Verify(text, cand.prompt or "", cand.similarity)):
                chosen = cand
                break
            rejected += 1
        self.count(rejected=rejected)
        timings = Timings(embedding_ms, search_ms, _ms(start), _ms(t_verify))
        miss = CacheLookup(
            None, best, timings, threshold=threshold, candidates=len(live), rejected=rejected
        )
        if chosen is None or chosen.answer is None:
            self.count(misses=1)
            return miss
        gens = deserialize(chosen.answer)
        hit = CacheHit(gens, chosen.similarity, chosen.prompt or "", chosen.key, False, timings)
        self.count(hits=1)
        return replace(miss, hit=hit)

    def _prepare(
        self, parts: PromptParts, generations: Sequence[Any], ttl_seconds: int | None
    ) -> tuple[str, str | bytes] | None:
        """(normalized text, serialized answer), or None when it is not to be stored."""
        if ttl_seconds is not None and (
            isinstance(ttl_seconds, bool) or not isinstance(ttl_seconds, int) or ttl_seconds <= 0
        ):
            raise ConfigurationError(f"ttl_seconds must be a positive int, got {ttl_seconds!r}")
        text, why = self._prompt_text(parts)
        if text is None:
            logger.debug("not caching: %s", why)
            self.count(skipped=1)
            return None
        try:
            payload = serialize(
                generations, self.config.max_answer_bytes, self.config.compress_answers
            )
        except InvalidInputError as exc:
            reason = "too large" if "max_answer_bytes" in str(exc) else "not serializable"
            logger.warning("not caching an answer: %s", reason)
            self.count(skipped=1)
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
        expires_at = time.time() + ttl if ttl else None
        mapping = proto.entry_mapping(
            prompt=text, answer=payload, part=part, ns=ns, vector=blob, expires_at=expires_at
        )
        flat = [item for pair in mapping.items() for item in pair]
        ttl_command = ("EXPIRE", key, str(ttl)) if ttl else ("PERSIST", key)
        return key, (("HSET", key, *flat), ttl_command)

    def store(
        self,
        parts: PromptParts,
        llm_string: str,
        generations: Sequence[Any],
        namespace: str | None = None,
        ttl_seconds: int | None = None,
    ) -> Flow[str | None]:
        prepared = self._prepare(parts, generations, ttl_seconds)
        if prepared is None:
            return None
        if self.backing_off():
            self.count(skipped=1)
            return None
        text, payload = prepared
        blob = self._memo.get(text)
        if blob is None:
            blob = yield from self._embed(text)
        yield from self.ensure_index(len(blob) // 4)
        key, commands = self._write(
            text, parts.context, payload, blob, llm_string, namespace, ttl_seconds
        )
        replies = yield Run(commands)
        self.count(stores=1)
        self._grown(_new_entries(replies))
        return key

    def store_many(
        self,
        items: Sequence[tuple[PromptParts, Sequence[Any]]],
        llm_string: str,
        namespace: str | None = None,
        ttl_seconds: int | None = None,
    ) -> Flow[list[str | None]]:
        """Store many entries: one batch embedding call, pipelined writes.

        Each entry's HSET and EXPIRE are sent together; an entry whose EXPIRE was lost
        still carries its expiry time and is never served after it.
        """
        prepared = [self._prepare(parts, gens, ttl_seconds) for parts, gens in items]
        wanted = {p[0] for p in prepared if p is not None and self._memo.get(p[0]) is None}
        blobs = {p[0]: b for p in prepared if p is not None and (b := self._memo.get(p[0]))}
        if wanted:
            texts = tuple(sorted(wanted))
            vectors = yield EmbedMany(texts)
            if len(vectors) != len(texts):
                raise EmbeddingError(f"{len(texts)} texts embedded into {len(vectors)} vectors")
            dim = self.dim
            for t, vector in zip(texts, vectors, strict=True):
                blobs[t] = proto.encode_vector(vector, dim)
                dim = len(blobs[t]) // 4
        if not blobs:
            return [None] * len(items)
        yield from self.ensure_index(len(next(iter(blobs.values()))) // 4)
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
        for i in range(0, len(commands), _PIPELINE_BATCH):  # an even batch: whole entries
            added += _new_entries((yield Run(tuple(commands[i : i + _PIPELINE_BATCH]))))
        self.count(stores=sum(k is not None for k in keys))
        self._grown(added)
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
            yield Run(tuple(("UNLINK", k) for k in keys[i : i + _UNLINK_BATCH]))
        self._size_checked = -math.inf  # re-read the size at the next lookup
        return len(keys)

    def forget(self, key: str) -> Flow[bool]:
        """Delete one entry (a hit's ``key``), e.g. after a user flagged its answer wrong."""
        if not isinstance(key, str) or not key.startswith(self.config.prefix):
            raise InvalidInputError(f"not a key of this cache (prefix {self.config.prefix!r})")
        (deleted,) = yield Run((("UNLINK", key),))
        self._grown(-int(bool(deleted)))
        return bool(deleted)

    def drop(self) -> Flow[int]:
        """Drop the index and delete its entries."""
        deleted = yield from self.clear(all_namespaces=True)
        try:
            yield Run((proto.drop_index(self.config.index_name),))
        except proto.IndexMissingError:
            pass
        self._index_ready = False
        self.dim = self.config.dims
        return int(deleted)


_MISCONFIGURED = (NoSearchModuleError, IndexMismatchError, ConfigurationError)
_SAFE_TO_LOG = (*_MISCONFIGURED, CacheUnavailableError)
