"""Validated configuration of a semantic cache; units are in the names."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Literal, TypedDict

from ._errors import ConfigurationError

OnError = Literal["miss", "raise"]

URL_SCHEMES = ("valkey://", "valkeys://", "redis://", "rediss://", "unix://")
_NAME = re.compile(r"^[A-Za-z0-9_\-:.]{1,128}$")


def _fail(message: str) -> None:
    raise ConfigurationError(message)


def check_threshold(value: object) -> float:
    """``value`` as a similarity threshold, or ConfigurationError."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
        _fail(
            f"similarity_threshold must be a cosine similarity in [0, 1], got {value!r}; "
            "a threshold s from the seed's 1 - distance/2 formula is 2*s - 1 here"
        )
    return float(value)  # type: ignore[arg-type]


def check_ttl(value: object) -> int | None:
    """``value`` as a TTL in seconds (None: no expiry), or ConfigurationError."""
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value <= 0):
        _fail(f"ttl_seconds must be a positive int, got {value!r}")
    return value  # type: ignore[return-value]


@dataclass(frozen=True)
class CacheConfig:
    """Every tunable of ``ValkeySemanticCache``, checked once at construction (a bad value
    is a ``ConfigurationError``). Units are in the names; defaults as shown."""

    index_name: str = "semcache"
    """The FT index name: 1-128 characters of ``[A-Za-z0-9_-:.]``."""
    key_prefix: str | None = None
    """The hash-key prefix the index covers; None: ``"<index_name>:"``."""
    similarity_threshold: float = 0.9
    """Minimum cosine similarity (1 - COSINE distance, in [0, 1]) to serve a hit."""
    ttl_seconds: int | None = None
    """Entry lifetime in seconds (None: no expiry); ``store(..., ttl_seconds=)`` overrides it
    per entry."""
    namespace: str = ""
    """The tenant: a TAG filtered inside the KNN query (any characters: stored as a digest)."""
    dims: int | None = None
    """Vector size, in [1, 32768]; None: learned from the first embedding (no embedding call
    at construction). Given, construction (with a sync client) creates or checks the index."""
    candidates: int = 3
    """KNN ``k``, in [1, 100]: the nearest live candidate above the threshold that the
    verifier accepts is served."""
    hnsw_m: int = 16
    """HNSW graph degree (M), in [2, 512]."""
    hnsw_ef_construction: int = 100
    """HNSW build beam width, in [1, 4096]. 100, not 200: half the server CPU per insert at
    the same memory and recall@1 (measured by ``bench/cost.py --hnsw-sweep``, docs/cost.md)."""
    hnsw_ef_runtime: int | None = None
    """Query beam width, in [1, 4096]; None: fitted to the index size (FT.INFO ``num_docs``,
    re-read at most every ``index_check_interval_seconds``): 40 up to 10k entries, 200 to
    100k, 400 beyond, doubled above 1k entries from 768 dimensions, never below
    ``candidates``.
    ``ValkeySemanticCache.ef_runtime_in_force`` tells the value in force."""
    on_error: OnError = "miss"
    """``"miss"``: errors fail open (a lookup misses, a store is a no-op), counted and
    logged; ``"raise"``: they raise typed ``SemanticCacheError`` subclasses."""
    socket_timeout_seconds: float = 0.5
    """Connect and read timeout, in seconds, of the clients built from ``url`` and
    ``replica_urls``."""
    retry_after_seconds: float = 5.0
    """After the server was unreachable, skip the cache for this many seconds."""
    index_check_interval_seconds: float = 30.0
    """When a lookup finds nothing, re-verify the index (re-created with another schema by
    someone else?) at most once per this many seconds."""
    max_prompt_chars: int = 4000
    """Longer prompts (in characters) are neither looked up nor stored: embedding models
    truncate."""
    max_answer_bytes: int = 1_000_000
    """Larger answers are not stored (bytes of the lean JSON, before compression)."""
    compress_answers: bool = True
    """Store answers of 200 bytes and more as zstd frames of lean JSON (about 3.5x smaller).
    Binary field values: a ``client`` built with ``decode_responses=True`` needs False.
    Entries of either form are always read."""
    embedding_memo_size: int = 1024
    """Vectors of missed lookups kept (count, in [0, 1000000]) for the update that follows;
    0 turns the memo off."""
    replica_urls: tuple[str, ...] = ()
    """Standalone replicas (e.g. ElastiCache's reader endpoint) that take the lookups'
    reads (HMGET, FT.SEARCH), in turn; writes and index checks stay on the primary. Empty:
    all on the primary. Cluster mode follows the client's ``read_from_replicas``."""

    def __post_init__(self) -> None:
        if not _NAME.match(self.index_name):
            _fail(f"index_name {self.index_name!r} must be 1-128 chars of [A-Za-z0-9_-:.]")
        if self.key_prefix is not None and not _NAME.match(self.key_prefix):
            _fail(f"key_prefix {self.key_prefix!r} must be 1-128 chars of [A-Za-z0-9_-:.]")
        check_threshold(self.similarity_threshold)
        check_ttl(self.ttl_seconds)
        if not isinstance(self.namespace, str):
            _fail(f"namespace must be a str, got {type(self.namespace).__name__}")
        if self.dims is not None and not (isinstance(self.dims, int) and 1 <= self.dims <= 32768):
            _fail(f"dims must be an int in [1, 32768] or None, got {self.dims!r}")
        for name, low, high in (
            ("candidates", 1, 100),
            ("hnsw_m", 2, 512),
            ("hnsw_ef_construction", 1, 4096),
            ("max_prompt_chars", 1, 10_000_000),
            ("max_answer_bytes", 1, 512 * 1024 * 1024),
            ("embedding_memo_size", 0, 1_000_000),
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                _fail(f"{name} must be an int in [{low}, {high}], got {value!r}")
        ef = self.hnsw_ef_runtime
        if ef is not None and (
            isinstance(ef, bool) or not isinstance(ef, int) or not 1 <= ef <= 4096
        ):
            _fail(
                "hnsw_ef_runtime must be None (fitted to the index size) or an int in "
                f"[1, 4096], got {ef!r}"
            )
        if not isinstance(self.compress_answers, bool):
            _fail(f"compress_answers must be True or False, got {self.compress_answers!r}")
        if self.on_error not in ("miss", "raise"):
            _fail(f"on_error must be 'miss' or 'raise', got {self.on_error!r}")
        for name in (
            "socket_timeout_seconds",
            "retry_after_seconds",
            "index_check_interval_seconds",
        ):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
                _fail(f"{name} must be a finite number >= 0, got {value!r}")

        urls = self.replica_urls
        if not isinstance(urls, tuple) or not all(
            isinstance(u, str) and u.startswith(URL_SCHEMES) for u in urls
        ):
            _fail(
                "replica_urls must be a tuple of URLs starting with one of "
                f"{', '.join(URL_SCHEMES)}; got {urls!r:.120}"
            )

    @property
    def prefix(self) -> str:
        """The key prefix of this cache's entries (defaults to ``<index_name>:``)."""
        return self.key_prefix if self.key_prefix is not None else f"{self.index_name}:"


class CacheSettings(TypedDict, total=False):
    """The keyword spelling of ``CacheConfig``'s fields (``ValkeySemanticCache(...,
    similarity_threshold=0.9)``); a unit test keeps the two alike."""

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
    on_error: OnError
    socket_timeout_seconds: float
    retry_after_seconds: float
    index_check_interval_seconds: float
    max_prompt_chars: int
    max_answer_bytes: int
    compress_answers: bool
    embedding_memo_size: int
    replica_urls: tuple[str, ...]


class SearchOptions(TypedDict, total=False):
    """Keywords of ``search``/``check`` (and their async twins); all optional."""

    llm_string: str
    """The model and prompt version the answer depends on: a partition (default ``""``)."""
    context: str
    """The non-question part of a chat (system prompt, earlier turns): a partition, not
    embedded (default ``""``)."""
    namespace: str | None
    """The tenant; None (default): the configured ``CacheConfig.namespace``."""
    similarity_threshold: float | None
    """This call's cosine similarity threshold in [0, 1]; None (default): the configured
    one."""


class StoreOptions(TypedDict, total=False):
    """Keywords of ``store``/``store_many`` (and their async twins); all optional.
    ``llm_string``, ``context`` and ``namespace`` are as in ``SearchOptions``."""

    llm_string: str
    context: str
    namespace: str | None
    ttl_seconds: int | None
    """The entries' lifetime in seconds; None (default): the configured ``ttl_seconds``."""


def check_options(given: dict[str, object], allowed: type) -> None:
    """TypeError for a keyword ``allowed`` (a TypedDict) does not list, as Python would."""
    unknown = sorted(set(given) - set(allowed.__annotations__))
    if unknown:
        raise TypeError(f"unexpected keyword arguments {unknown}")
