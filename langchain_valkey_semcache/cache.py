"""``ValkeySemanticCache``: a LangChain ``BaseCache`` on a Valkey vector index."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, Literal, TypedDict, TypeVar

from langchain_core.caches import RETURN_VAL_TYPE, BaseCache
from langchain_core.embeddings import Embeddings
from typing_extensions import Unpack

from . import _clients
from ._config import CacheConfig
from ._core import CacheCore, Flow
from ._entry import Answer, CacheHit, CacheLookup, CacheStats, Timings, to_generations
from ._errors import CacheUnavailableError, ConfigurationError, SemanticCacheError
from ._io import run_async, run_sync
from ._prompt import PromptParts, PromptSplitter, split_langchain_prompt
from ._telemetry import ENTRIES, Operation, Telemetry, default_telemetry
from .guards import GuardVerifier
from .verification import Verifier, as_verifier

if TYPE_CHECKING:
    from opentelemetry.metrics import MeterProvider
    from opentelemetry.trace import TracerProvider

logger = logging.getLogger("langchain_valkey_semcache")
T = TypeVar("T")


class CacheSettings(TypedDict, total=False):
    """Keyword settings of :class:`ValkeySemanticCache` (see :class:`CacheConfig`)."""

    index_name: str
    key_prefix: str | None
    similarity_threshold: float
    ttl_seconds: int | None
    namespace: str
    dims: int | None
    candidates: int
    hnsw_m: int
    hnsw_ef_construction: int
    hnsw_ef_runtime: int | None
    on_error: Literal["miss", "raise"]
    socket_timeout_seconds: float
    retry_after_seconds: float
    index_check_interval_seconds: float
    max_prompt_chars: int
    max_answer_bytes: int
    compress_answers: bool
    embedding_memo_size: int


class ValkeySemanticCache(BaseCache):
    """Serve an LLM answer when a semantically equivalent prompt was answered before.

    Give ``url`` (``valkey://``, ``valkeys://`` for TLS, ``redis://``...) or a ``client``
    (``valkey.Valkey`` or ``valkey.cluster.ValkeyCluster``) and optionally an
    ``async_client``. Entries are partitioned by model (``llm_string``) and by the
    non-question part of a chat prompt; only the last human message is embedded.
    Errors fail open by default (``on_error="miss"``): a lookup becomes a miss.
    ``verifier`` double-checks candidates above the threshold; the default ``"guards"``
    rejects the classic near-misses (other numbers, names, negation, opposite or swapped
    words); ``None`` serves on similarity alone.

    Each lookup, store, clear and forget is an OpenTelemetry span and feeds the
    ``semcache.*`` metrics (no-ops without an OpenTelemetry SDK); ``tracer_provider`` and
    ``meter_provider`` replace the global providers.
    """

    def __init__(
        self,
        embeddings: Embeddings,
        *,
        url: str | None = None,
        client: Any = None,
        async_client: Any = None,
        client_kwargs: dict[str, Any] | None = None,
        prompt_splitter: PromptSplitter | None = None,
        verifier: Verifier
        | Callable[[str, str, float], bool]
        | Literal["guards"]
        | None = "guards",
        tracer_provider: TracerProvider | None = None,
        meter_provider: MeterProvider | None = None,
        **settings: Unpack[CacheSettings],
    ) -> None:
        known = {f.name for f in dataclasses.fields(CacheConfig)}
        unknown = sorted(set(settings) - known)
        if unknown:
            raise ConfigurationError(f"unknown settings {unknown}; valid: {sorted(known)}")
        self.config = CacheConfig(**settings)
        if not isinstance(embeddings, Embeddings):
            raise ConfigurationError("embeddings must be a langchain_core Embeddings instance")
        if url is None and client is None and async_client is None:
            raise ConfigurationError("give url=, client= or async_client=")
        self.embeddings = embeddings
        self._split = prompt_splitter or split_langchain_prompt
        if isinstance(verifier, str) and verifier != "guards":
            raise ConfigurationError("verifier must be 'guards', None, a Verifier or a callable")
        self.verifier = GuardVerifier() if verifier == "guards" else as_verifier(verifier)
        self._core = CacheCore(self.config, verify=self.verifier is not None)
        self._telemetry = (
            default_telemetry()
            if tracer_provider is None and meter_provider is None
            else Telemetry(tracer_provider, meter_provider)
        )
        timeout = self.config.socket_timeout_seconds
        extra = dict(client_kwargs or {})
        self._client = client
        self._aclients: _clients.LoopBound | None
        if client is None and url is not None:
            self._client = _clients.sync_from_url(url, timeout, extra)
        if async_client is not None:
            self._aclients = _clients.LoopBound(lambda: async_client)
        elif url is not None:
            self._aclients = _clients.LoopBound(
                lambda: _clients.async_from_url(url, timeout, extra)
            )
        elif _clients.async_like(client) is not None:
            self._aclients = _clients.LoopBound(lambda: _clients.async_like(client))
        else:  # e.g. a cluster client: the async path runs the sync path in a thread
            self._aclients = None
        if self._client is not None:
            self._startup_checks()

    def _startup_checks(self) -> None:
        """Cheap checks, no embedding call: module present, existing index compatible."""
        try:
            run_sync(self._core.probe(), self._client, self.embeddings)
            if self.config.dims is not None:
                run_sync(self._core.ensure_index(self.config.dims), self._client, self.embeddings)
        except SemanticCacheError as exc:
            if self.config.on_error == "raise" or not isinstance(exc, CacheUnavailableError):
                raise
            logger.warning("semantic cache not reachable at start, will retry: %s", exc)

    # -- running flows with the fail-open policy --------------------------------------

    def _sync(self, flow: Flow[T]) -> T:
        if self._client is None:
            raise ConfigurationError("this cache has only an async client; use the a* methods")
        return run_sync(flow, self._client, self.embeddings, self.verifier)

    async def _async(self, flow: Flow[T]) -> T:
        if self._aclients is None:
            return await asyncio.to_thread(self._sync, flow)
        return await run_async(flow, self._aclients.get(), self.embeddings, self.verifier)

    def _lookup_failed(self, exc: Exception) -> CacheLookup:
        self._core.failed(exc, "lookup")
        if self.config.on_error == "raise":
            raise exc
        return CacheLookup(None, None, Timings(), error=type(exc).__name__)

    def _store_failed(self, exc: Exception, op: Operation, entries: int = 1) -> None:
        self._core.failed(exc, "store")
        if self.config.on_error == "raise":
            raise exc
        op.store_failed(exc, entries)

    # -- telemetry: one span per operation, attributes from the returned values ----------

    @property
    def engine(self) -> tuple[str | None, int | None]:
        """(engine, MODULE LIST version) as the cache learned them: ``("redisearch", 21005)``,
        ``("valkey-search", 66049)``; None for what is not known yet (the name is learned
        when the index is first checked)."""
        return self._core.engine_info()

    def _observe(
        self, name: str, kind: str, namespace: str | None, *, scoped: bool = True
    ) -> AbstractContextManager[Operation]:
        """The span of one operation; ``scoped=False``: it spans no single namespace (a bad
        namespace is left to the flow, which rejects it inside the fail-open boundary)."""
        valid = namespace is None or isinstance(namespace, str)
        ns = self._core.namespace_tag(namespace) if scoped and valid else None
        return self._telemetry.operation(name, kind, self._core.engine_info()[0], ns)

    def _lookup(self, parts: Callable[[], PromptParts], llm_string: str, namespace: str | None,
                threshold: float | None) -> CacheLookup:  # fmt: skip
        with self._observe("lookup", "lookup", namespace) as op:
            try:
                flow = self._core.lookup(parts(), llm_string, namespace, threshold)
                result = self._sync(flow)
            except Exception as exc:
                result = self._lookup_failed(exc)
            op.looked_up(result)
            return result

    async def _alookup(self, parts: Callable[[], PromptParts], llm_string: str,
                       namespace: str | None, threshold: float | None) -> CacheLookup:  # fmt: skip
        with self._observe("lookup", "lookup", namespace) as op:
            try:
                flow = self._core.lookup(parts(), llm_string, namespace, threshold)
                result = await self._async(flow)
            except Exception as exc:
                result = self._lookup_failed(exc)
            op.looked_up(result)
            return result

    def _store(self, flow: Callable[[], Flow[str | None]], namespace: str | None) -> str | None:
        with self._observe("store", "store", namespace) as op:
            try:
                key = self._sync(flow())
            except Exception as exc:
                self._store_failed(exc, op)
                return None
            op.stored(key is not None, key is None)
            return key

    async def _astore(
        self, flow: Callable[[], Flow[str | None]], namespace: str | None
    ) -> str | None:
        with self._observe("store", "store", namespace) as op:
            try:
                key = await self._async(flow())
            except Exception as exc:
                self._store_failed(exc, op)
                return None
            op.stored(key is not None, key is None)
            return key

    def _stored_many(self, op: Operation, keys: list[str | None]) -> list[str | None]:
        written = sum(k is not None for k in keys)
        op.stored(written, len(keys) - written)
        return keys

    # -- direct API -------------------------------------------------------------------

    def search(
        self,
        text: str,
        *,
        llm_string: str = "",
        context: str = "",
        namespace: str | None = None,
        similarity_threshold: float | None = None,
    ) -> CacheLookup:
        """Look ``text`` up; the result tells hit or miss, similarity and timings."""
        parts = PromptParts(text, context)
        return self._lookup(lambda: parts, llm_string, namespace, similarity_threshold)

    async def asearch(
        self,
        text: str,
        *,
        llm_string: str = "",
        context: str = "",
        namespace: str | None = None,
        similarity_threshold: float | None = None,
    ) -> CacheLookup:
        """Async :meth:`search`."""
        parts = PromptParts(text, context)
        return await self._alookup(lambda: parts, llm_string, namespace, similarity_threshold)

    def check(self, text: str, **kwargs: Any) -> CacheHit | None:
        """The hit for ``text``, or None (same keywords as :meth:`search`)."""
        return self.search(text, **kwargs).hit

    async def acheck(self, text: str, **kwargs: Any) -> CacheHit | None:
        """Async :meth:`check`."""
        return (await self.asearch(text, **kwargs)).hit

    def store(
        self,
        text: str,
        answer: Answer,
        *,
        llm_string: str = "",
        context: str = "",
        namespace: str | None = None,
        ttl_seconds: int | None = None,
    ) -> str | None:
        """Store ``answer`` for ``text``; returns the entry key, or None if not stored."""
        return self._store(
            lambda: self._core.store(
                PromptParts(text, context), llm_string, to_generations(answer),
                namespace, ttl_seconds,
            ),
            namespace,
        )  # fmt: skip

    async def astore(
        self,
        text: str,
        answer: Answer,
        *,
        llm_string: str = "",
        context: str = "",
        namespace: str | None = None,
        ttl_seconds: int | None = None,
    ) -> str | None:
        """Async :meth:`store`."""
        return await self._astore(
            lambda: self._core.store(
                PromptParts(text, context), llm_string, to_generations(answer),
                namespace, ttl_seconds,
            ),
            namespace,
        )  # fmt: skip

    def store_many(
        self,
        items: Iterable[tuple[str, Answer]],
        *,
        llm_string: str = "",
        context: str = "",
        namespace: str | None = None,
        ttl_seconds: int | None = None,
    ) -> list[str | None]:
        """Bulk warm-up: one batch embedding call and pipelined writes; keys in order."""
        batch = list(items)
        with self._observe("store_many", "store", namespace) as op:
            try:
                flow = self._core.store_many(
                    _batch(batch, context), llm_string, namespace, ttl_seconds
                )
                return self._stored_many(op, self._sync(flow))
            except Exception as exc:
                self._store_failed(exc, op, len(batch))
                return [None] * len(batch)

    async def astore_many(
        self,
        items: Iterable[tuple[str, Answer]],
        *,
        llm_string: str = "",
        context: str = "",
        namespace: str | None = None,
        ttl_seconds: int | None = None,
    ) -> list[str | None]:
        """Async :meth:`store_many`."""
        batch = list(items)
        with self._observe("store_many", "store", namespace) as op:
            try:
                flow = self._core.store_many(
                    _batch(batch, context), llm_string, namespace, ttl_seconds
                )
                return self._stored_many(op, await self._async(flow))
            except Exception as exc:
                self._store_failed(exc, op, len(batch))
                return [None] * len(batch)

    @property
    def hnsw_ef_runtime(self) -> int:
        """The EF_RUNTIME of the next semantic lookup: ``hnsw_ef_runtime`` if set, else
        fitted to the index size this cache last read (FT.INFO ``num_docs``)."""
        return self._core.ef_runtime()

    def stats(self) -> CacheStats:
        """Counters: lookups, hits (exact ones too), misses, errors, skipped, stores."""
        return self._core.stats()

    def reset_stats(self) -> None:
        self._core.reset_stats()

    # -- LangChain BaseCache ----------------------------------------------------------

    def lookup(self, prompt: str, llm_string: str) -> RETURN_VAL_TYPE | None:
        result = self._lookup(lambda: self._split(prompt), llm_string, None, None)
        return result.hit.generations if result.hit else None

    async def alookup(self, prompt: str, llm_string: str) -> RETURN_VAL_TYPE | None:
        result = await self._alookup(lambda: self._split(prompt), llm_string, None, None)
        return result.hit.generations if result.hit else None

    def update(self, prompt: str, llm_string: str, return_val: RETURN_VAL_TYPE) -> None:
        self._store(
            lambda: self._core.store(self._split(prompt), llm_string, list(return_val)), None
        )

    async def aupdate(self, prompt: str, llm_string: str, return_val: RETURN_VAL_TYPE) -> None:
        await self._astore(
            lambda: self._core.store(self._split(prompt), llm_string, list(return_val)), None
        )

    def clear(self, **kwargs: Any) -> None:
        """Delete this cache's entries in its namespace (``namespace=`` another one,
        ``all_namespaces=True`` every one); the index stays. Errors propagate."""
        scoped = not kwargs.get("all_namespaces")
        with self._observe("clear", "admin", kwargs.get("namespace"), scoped=scoped) as op:
            op.set(ENTRIES, self._sync(self._core.clear(**kwargs)))

    async def aclear(self, **kwargs: Any) -> None:
        """Async :meth:`clear`."""
        scoped = not kwargs.get("all_namespaces")
        with self._observe("clear", "admin", kwargs.get("namespace"), scoped=scoped) as op:
            op.set(ENTRIES, await self._async(self._core.clear(**kwargs)))

    def forget(self, key: str) -> bool:
        """Delete one entry by its key (``CacheHit.key``), e.g. when a user reports the served
        answer as wrong: the next such question misses and stores a fresh answer. Returns
        whether it existed; a key outside this cache's prefix is an InvalidInputError."""
        with self._observe("forget", "admin", None, scoped=False) as op:
            existed = self._sync(self._core.forget(key))
            op.set(ENTRIES, int(existed))
            return existed

    async def aforget(self, key: str) -> bool:
        """Async :meth:`forget`."""
        with self._observe("forget", "admin", None, scoped=False) as op:
            existed = await self._async(self._core.forget(key))
            op.set(ENTRIES, int(existed))
            return existed

    # -- index administration ---------------------------------------------------------

    def drop_index(self) -> int:
        """Drop the index and delete every entry of it; returns the entries deleted."""
        with self._observe("drop_index", "admin", None, scoped=False) as op:
            deleted = self._sync(self._core.drop())
            op.set(ENTRIES, deleted)
            return deleted

    async def adrop_index(self) -> int:
        with self._observe("drop_index", "admin", None, scoped=False) as op:
            deleted = await self._async(self._core.drop())
            op.set(ENTRIES, deleted)
            return deleted

    def close(self) -> None:
        if self._client is not None:
            self._client.close()

    async def aclose(self) -> None:
        if self._aclients is not None:
            await self._aclients.aclose()


def _batch(items: list[tuple[str, Answer]], context: str) -> list[tuple[PromptParts, Any]]:
    return [(PromptParts(text, context), to_generations(answer)) for text, answer in items]


__all__: Sequence[str] = ("CacheSettings", "ValkeySemanticCache")
