"""``ValkeySemanticCache``, a LangChain ``BaseCache`` on a Valkey vector index: each operation
is a ``_flows`` flow run by an observed runner (``_call``, ``_acall``): span, fail-open, counts."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

from langchain_core.caches import RETURN_VAL_TYPE, BaseCache
from langchain_core.embeddings import Embeddings
from typing_extensions import Unpack

from . import _clients
from ._config import CacheConfig, CacheSettings, SearchOptions, StoreOptions, check_options
from ._effects import Flow
from ._entry import Answer, CacheHit, CacheLookup, CacheStats, Timings, to_generations
from ._errors import CacheUnavailableError, ConfigurationError, SemanticCacheError
from ._flows import CacheCore
from ._io import run_async, run_sync
from ._prompt import PromptParts, PromptSplitter, split_langchain_prompt
from ._telemetry import Operation, Telemetry, default_telemetry
from .guards import GuardVerifier
from .names import ENTRIES, ERROR, SKIPPED, STORED
from .verification import Verifier, as_verifier

if TYPE_CHECKING:
    from opentelemetry.metrics import MeterProvider
    from opentelemetry.trace import TracerProvider

logger = logging.getLogger("langchain_valkey_semcache")
T = TypeVar("T")


@dataclass(frozen=True)
class _Job(Generic[T]):
    """One observed operation: its span, its flow, and what its outcome records."""

    name: str
    kind: str  # lookup, store or admin
    namespace: str | None
    flow: Callable[[], Flow[T]]  # called inside the fail-open boundary
    done: Callable[[Operation, T], T]
    fail: Callable[[Operation, Exception], T]
    scoped: bool = True  # False: it spans no single namespace


def _reraise(op: Operation, exc: Exception) -> Any:
    raise exc


def _generations(result: CacheLookup) -> RETURN_VAL_TYPE | None:
    return result.hit.generations if result.hit else None


def _entries(op: Operation, count: Any) -> Any:
    op.set(ENTRIES, int(count))
    return count


class ValkeySemanticCache(BaseCache):
    """Serve an LLM answer when a semantically equivalent prompt was answered before.

    Only a chat's last human message is embedded; the rest and ``llm_string`` partition entries.

    :param embeddings: the LangChain ``Embeddings`` that embed questions.
    :param url: ``valkey://``, ``valkeys://`` (TLS), ``redis://``...; or give a client.
    :param client: a ``valkey.Valkey`` or ``valkey.cluster.ValkeyCluster``.
    :param async_client: a ``valkey.asyncio`` client (None: made from ``url`` or ``client``).
    :param client_kwargs: extra ``from_url`` arguments for ``url`` and ``replica_urls``.
    :param prompt_splitter: prompt to question and context (None: ``split_langchain_prompt``).
    :param verifier: checks candidates above the threshold: ``"guards"`` (``GuardVerifier``),
        a ``Verifier``, a ``(query, cached, similarity) -> bool``, or None (similarity only).
    :param tracer_provider: replaces the global one for the spans of lookup, store, clear...
    :param meter_provider: replaces the global one for the ``semcache.*`` metrics.
    :param config: every setting at once, instead of keyword ``settings``.
    :param settings: ``CacheConfig``'s fields as keywords (``CacheSettings``).
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
        config: CacheConfig | None = None,
        **settings: Unpack[CacheSettings],
    ) -> None:
        known = {f.name for f in dataclasses.fields(CacheConfig)}
        unknown = sorted(set(settings) - known)
        if unknown:
            raise ConfigurationError(f"unknown settings {unknown}; valid: {sorted(known)}")
        if config is not None and settings:
            raise ConfigurationError("give config= or keyword settings, not both")
        self.config = config if config is not None else CacheConfig(**settings)
        if not isinstance(embeddings, Embeddings):
            raise ConfigurationError("embeddings must be a langchain_core Embeddings instance")
        if url is None and client is None and async_client is None:
            raise ConfigurationError("give url=, client= or async_client=")
        self.embeddings = embeddings
        self._split = prompt_splitter or split_langchain_prompt
        if isinstance(verifier, str) and verifier != "guards":
            raise ConfigurationError("verifier must be 'guards', None, a Verifier or a callable")
        self.verifier = GuardVerifier() if verifier == "guards" else as_verifier(verifier)
        self._core = CacheCore(self.config)
        self._telemetry = (
            default_telemetry()
            if tracer_provider is None and meter_provider is None
            else Telemetry(tracer_provider, meter_provider)
        )
        timeout, extra = self.config.socket_timeout_seconds, dict(client_kwargs or {})
        self._client, self._aclients = _clients.pair(url, client, async_client, timeout, extra)
        _clients.check_binary_safe(self.config.compress_answers, self._client, async_client)
        self._replicas = _clients.Replicas(self.config.replica_urls, timeout, extra)
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

    # -- the observed runners: one per path (a lookup reads from a replica, if any) ------
    def _sync(self, flow: Flow[T], lookup: bool = False) -> T:
        if self._client is None:
            raise ConfigurationError("this cache has only an async client; use the a* methods")
        reader = self._replicas.pick() if lookup else None
        return run_sync(flow, self._client, self.embeddings, self.verifier, reader)

    async def _async(self, flow: Flow[T], lookup: bool = False) -> T:
        if self._aclients is None:
            return await asyncio.to_thread(self._sync, flow, lookup)
        reader = self._replicas.apick() if lookup else None
        return await run_async(flow, self._aclients.get(), self.embeddings, self.verifier, reader)

    def _span(self, job: _Job[Any]) -> Any:
        valid = job.namespace is None or isinstance(job.namespace, str)
        ns = self._core.namespace_tag(job.namespace) if job.scoped and valid else None
        return self._telemetry.operation(job.name, job.kind, self._core.engine_info()[0], ns)

    def _call(self, job: _Job[T]) -> T:
        with self._span(job) as op:
            try:
                return job.done(op, self._sync(job.flow(), job.kind == "lookup"))
            except Exception as exc:
                return job.fail(op, exc)

    async def _acall(self, job: _Job[T]) -> T:
        with self._span(job) as op:
            try:
                return job.done(op, await self._async(job.flow(), job.kind == "lookup"))
            except Exception as exc:
                return job.fail(op, exc)

    # -- the jobs: what each operation runs and records ---------------------------------
    def _lookup(
        self, parts: Callable[[], PromptParts], llm_string: str = "", namespace: str | None = None,
        threshold: float | None = None,
    ) -> _Job[CacheLookup]:  # fmt: skip
        def flow() -> Flow[CacheLookup]:
            return self._core.lookup(parts(), llm_string, namespace, threshold)

        def done(op: Operation, result: CacheLookup) -> CacheLookup:
            self._core.counters.looked_up(result)
            op.looked_up(result)
            return result

        def fail(op: Operation, exc: Exception) -> CacheLookup:
            self._core.failed(exc, "lookup")
            result = CacheLookup(None, None, Timings(), error=type(exc).__name__)
            if self.config.on_error == "raise":
                self._core.counters.looked_up(result)
                raise exc
            return done(op, result)

        return _Job("lookup", "lookup", namespace, flow, done, fail)

    def _search(self, text: str, options: SearchOptions) -> _Job[CacheLookup]:
        check_options(dict(options), SearchOptions)
        parts = PromptParts(text, options.get("context", ""))
        return self._lookup(
            lambda: parts, options.get("llm_string", ""), options.get("namespace"),
            options.get("similarity_threshold"),
        )  # fmt: skip

    def _store(
        self, name: str, namespace: str | None, flow: Callable[[], Flow[list[str | None]]],
        entries: int,
    ) -> _Job[list[str | None]]:  # fmt: skip
        def done(op: Operation, keys: list[str | None]) -> list[str | None]:
            written = sum(k is not None for k in keys)
            self._core.counters.stored(STORED, written)
            self._core.counters.stored(SKIPPED, len(keys) - written)
            op.stored(written, len(keys) - written)
            return keys

        def fail(op: Operation, exc: Exception) -> list[str | None]:
            self._core.failed(exc, "store")
            self._core.counters.stored(ERROR, entries, type(exc).__name__)
            if self.config.on_error == "raise":
                raise exc
            op.store_failed(exc, entries)
            return [None] * entries

        return _Job(name, "store", namespace, flow, done, fail)

    def _store_one(
        self, parts: Callable[[], PromptParts], gens: Callable[[], Sequence[Any]],
        options: StoreOptions,
    ) -> _Job[list[str | None]]:  # fmt: skip
        check_options(dict(options), StoreOptions)
        llm_string, namespace = options.get("llm_string", ""), options.get("namespace")

        def flow() -> Flow[list[str | None]]:
            ttl = options.get("ttl_seconds")
            key = yield from self._core.store(parts(), llm_string, gens(), namespace, ttl)
            return [key]

        return self._store("store", namespace, flow, 1)

    def _store_text(
        self, text: str, answer: Answer, options: StoreOptions
    ) -> _Job[list[str | None]]:
        parts = PromptParts(text, options.get("context", ""))
        return self._store_one(lambda: parts, lambda: to_generations(answer), options)

    def _store_many(
        self, items: Iterable[tuple[str, Answer]], options: StoreOptions
    ) -> _Job[list[str | None]]:
        check_options(dict(options), StoreOptions)
        batch, context = list(items), options.get("context", "")
        llm_string, namespace = options.get("llm_string", ""), options.get("namespace")

        def flow() -> Flow[list[str | None]]:
            parts = [(PromptParts(text, context), to_generations(a)) for text, a in batch]
            ttl = options.get("ttl_seconds")
            return self._core.store_many(parts, llm_string, namespace, ttl)

        return self._store("store_many", namespace, flow, len(batch))

    def _admin(
        self, name: str, flow: Callable[[], Flow[T]], namespace: str | None = None,
        scoped: bool = False,
    ) -> _Job[T]:  # fmt: skip
        return _Job(name, "admin", namespace, flow, _entries, _reraise, scoped)

    def _clear(self, kwargs: dict[str, Any]) -> _Job[int]:
        scoped = not kwargs.get("all_namespaces")
        flow = lambda: self._core.clear(**kwargs)  # noqa: E731
        return self._admin("clear", flow, kwargs.get("namespace"), scoped)

    # -- direct API -------------------------------------------------------------------
    @property
    def engine(self) -> tuple[str | None, int | None]:
        """(engine, MODULE LIST version) once learned, e.g. ``("valkey-search", 66049)``."""
        return self._core.engine_info()

    def search(self, text: str, **options: Unpack[SearchOptions]) -> CacheLookup:
        """Look a question up: hit or miss, best similarity, timings.

        :param text: the question (embedded).
        :param options: ``SearchOptions``: partition, namespace, threshold."""
        return self._call(self._search(text, options))

    async def asearch(self, text: str, **options: Unpack[SearchOptions]) -> CacheLookup:
        """Async ``search``."""
        return await self._acall(self._search(text, options))

    def check(self, text: str, **options: Unpack[SearchOptions]) -> CacheHit | None:
        """The hit for ``text``, or None (parameters as for ``search``)."""
        return self._call(self._search(text, options)).hit

    async def acheck(self, text: str, **options: Unpack[SearchOptions]) -> CacheHit | None:
        """Async ``check``."""
        return (await self._acall(self._search(text, options))).hit

    def store(self, text: str, answer: Answer, **options: Unpack[StoreOptions]) -> str | None:
        """Store an answer; returns the entry key, or None if not stored.

        :param text: the question it answers.
        :param answer: a string, a message or a non-empty list of LangChain ``Generation``.
        :param options: ``StoreOptions``: partition, namespace, TTL."""
        return self._call(self._store_text(text, answer, options))[0]

    async def astore(
        self, text: str, answer: Answer, **options: Unpack[StoreOptions]
    ) -> str | None:
        """Async ``store``."""
        return (await self._acall(self._store_text(text, answer, options)))[0]

    def store_many(
        self, items: Iterable[tuple[str, Answer]], **options: Unpack[StoreOptions]
    ) -> list[str | None]:
        """Bulk warm-up: one batch embedding call and pipelined writes; keys in order.

        :param items: (question, answer) pairs, as ``text`` and ``answer`` of ``store``.
        :param options: ``StoreOptions``, for every entry."""
        return self._call(self._store_many(items, options))

    async def astore_many(
        self, items: Iterable[tuple[str, Answer]], **options: Unpack[StoreOptions]
    ) -> list[str | None]:
        """Async ``store_many``."""
        return await self._acall(self._store_many(items, options))

    @property
    def ef_runtime_in_force(self) -> int:
        """The EF_RUNTIME of the next lookup: ``hnsw_ef_runtime``, or fitted to the index size."""
        return self._core.ef_runtime()

    def stats(self) -> CacheStats:
        """Counters: lookups as hits, misses, skipped and errors; stores; see CacheStats."""
        return self._core.stats()

    def reset_stats(self) -> None:
        """Zero the counters of ``stats``."""
        self._core.counters.reset()

    # -- LangChain BaseCache ----------------------------------------------------------
    def lookup(self, prompt: str, llm_string: str) -> RETURN_VAL_TYPE | None:
        """``BaseCache.lookup``: the cached generations for ``prompt``, or None."""
        return _generations(self._call(self._lookup(lambda: self._split(prompt), llm_string)))

    async def alookup(self, prompt: str, llm_string: str) -> RETURN_VAL_TYPE | None:
        """Async ``lookup``."""
        job = self._lookup(lambda: self._split(prompt), llm_string)
        return _generations(await self._acall(job))

    def _update(self, prompt: str, llm_string: str, value: RETURN_VAL_TYPE) -> _Job[Any]:
        parts = lambda: self._split(prompt)  # noqa: E731
        return self._store_one(parts, lambda: list(value), {"llm_string": llm_string})

    def update(self, prompt: str, llm_string: str, return_val: RETURN_VAL_TYPE) -> None:
        """``BaseCache.update``: store ``return_val`` for ``prompt``."""
        self._call(self._update(prompt, llm_string, return_val))

    async def aupdate(self, prompt: str, llm_string: str, return_val: RETURN_VAL_TYPE) -> None:
        """Async ``update``."""
        await self._acall(self._update(prompt, llm_string, return_val))

    def clear(self, **kwargs: Any) -> None:
        """Delete this cache's entries in its namespace (``namespace=`` another one,
        ``all_namespaces=True`` every one); the index stays. Errors propagate."""
        self._call(self._clear(kwargs))

    async def aclear(self, **kwargs: Any) -> None:
        """Async ``clear``."""
        await self._acall(self._clear(kwargs))

    def forget(self, key: str) -> bool:
        """Delete one entry by its ``CacheHit.key`` (e.g. an answer reported wrong); returns
        whether it existed; a key outside this cache's prefix is an ``InvalidInputError``."""
        return self._call(self._admin("forget", lambda: self._core.forget(key)))

    async def aforget(self, key: str) -> bool:
        """Async ``forget``."""
        return await self._acall(self._admin("forget", lambda: self._core.forget(key)))

    # -- index administration ---------------------------------------------------------
    def drop_index(self) -> int:
        """Drop the index and delete every entry of it; returns the entries deleted."""
        return self._call(self._admin("drop_index", self._core.drop))

    async def adrop_index(self) -> int:
        """Async ``drop_index``."""
        return await self._acall(self._admin("drop_index", self._core.drop))

    def close(self) -> None:
        """Close the sync client and the replicas' clients."""
        if self._client is not None:
            self._client.close()
        self._replicas.close()

    async def aclose(self) -> None:
        """Close the asyncio clients and the replicas' ones."""
        if self._aclients is not None:
            await self._aclients.aclose()
        await self._replicas.aclose()


__all__: Sequence[str] = ("CacheSettings", "ValkeySemanticCache")
