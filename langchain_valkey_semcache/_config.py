"""Validated configuration of a semantic cache; units are in the names."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Literal

from ._errors import ConfigurationError

OnError = Literal["miss", "raise"]

_NAME = re.compile(r"^[A-Za-z0-9_\-:.]{1,128}$")


def _fail(message: str) -> None:
    raise ConfigurationError(message)


@dataclass(frozen=True)
class CacheConfig:
    """Every tunable of :class:`ValkeySemanticCache`, checked once at construction.

    ``similarity_threshold`` is cosine similarity (1 - COSINE distance) in [0, 1]: a
    candidate is served only when its similarity is at least this value.
    ``compress_answers`` stores answers of 200 bytes and more as zstd frames (binary field
    values: a client given with ``decode_responses=True`` needs it False); entries of either
    form are always readable.
    """

    index_name: str = "semcache"
    key_prefix: str | None = None
    similarity_threshold: float = 0.9
    ttl_seconds: int | None = None
    namespace: str = ""
    dims: int | None = None
    candidates: int = 3
    hnsw_m: int = 16
    # 100, not 200: half the server CPU per insert at the same memory and recall@1 (real-shaped
    # 10k x 1024-d and 100k x 384-d: unchanged; random 100k x 1024-d at EF_RUNTIME 400: 0.997);
    # measured by bench/cost.py --hnsw-sweep, docs/cost.md.
    hnsw_ef_construction: int = 100
    hnsw_ef_runtime: int | None = None  # None: fitted to the index size (see _core.ef_for)
    on_error: OnError = "miss"
    socket_timeout_seconds: float = 0.5
    retry_after_seconds: float = 5.0
    index_check_interval_seconds: float = 30.0
    max_prompt_chars: int = 4000
    max_answer_bytes: int = 1_000_000
    compress_answers: bool = True
    embedding_memo_size: int = 1024

    def __post_init__(self) -> None:
        if not _NAME.match(self.index_name):
            _fail(f"index_name {self.index_name!r} must be 1-128 chars of [A-Za-z0-9_-:.]")
        if self.key_prefix is not None and not _NAME.match(self.key_prefix):
            _fail(f"key_prefix {self.key_prefix!r} must be 1-128 chars of [A-Za-z0-9_-:.]")
        t = self.similarity_threshold
        if isinstance(t, bool) or not isinstance(t, (int, float)) or not 0.0 <= t <= 1.0:
            _fail(
                f"similarity_threshold must be a cosine similarity in [0, 1], got {t!r}; "
                "a threshold s from the seed's 1 - distance/2 formula is 2*s - 1 here"
            )
        if self.ttl_seconds is not None and (
            isinstance(self.ttl_seconds, bool)
            or not isinstance(self.ttl_seconds, int)
            or self.ttl_seconds <= 0
        ):
            _fail(f"ttl_seconds must be a positive int or None, got {self.ttl_seconds!r}")
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

    @property
    def prefix(self) -> str:
        """The key prefix of this cache's entries (defaults to ``<index_name>:``)."""
        return self.key_prefix if self.key_prefix is not None else f"{self.index_name}:"
