"""Every command the cache sends, built as a tuple (FT.* and the plain ones alike)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .._errors import EmbeddingError

# Hash fields of one entry. The first three are indexed.
PART = "part"
NS = "ns"
VEC = "vec"
PROMPT = "prompt"
ANSWER = "answer"
EXPIRES = "expires_at"
ENTRY_FIELDS = (PROMPT, ANSWER, PART, NS, EXPIRES)
SCHEMA_FIELDS = frozenset({PART, NS, VEC})

_SCORE = "score"
_TAG_VALUE = re.compile(r"^[A-Za-z0-9_]{1,128}$")
REDISEARCH = "redisearch"
VALKEY_SEARCH = "valkey-search"


@dataclass(frozen=True)
class IndexSpec:
    """What the index of one cache looks like."""

    name: str
    prefix: str
    dim: int
    m: int
    ef_construction: int


def tag(value: str) -> str:
    """Return ``value`` as a TAG literal, refusing anything the query parser could read."""
    if not _TAG_VALUE.match(value):
        raise ValueError(f"TAG values must match [A-Za-z0-9_]{{1,128}}, got {value!r}")
    return value


def encode_vector(vector: Sequence[float], dim: int | None) -> bytes:
    """Pack a vector as little-endian FLOAT32, rejecting NaN, inf, zero or wrong length."""
    import numpy as np

    try:
        arr = np.asarray(vector, dtype="<f4")
    except (TypeError, ValueError) as exc:
        raise EmbeddingError(f"embedding is not a vector of numbers: {exc}") from exc
    if arr.ndim != 1 or arr.size == 0:
        raise EmbeddingError(f"embedding must be a non-empty 1-d vector, got shape {arr.shape}")
    if dim is not None and arr.size != dim:
        raise EmbeddingError(f"embedding has {arr.size} dimensions, the index expects {dim}")
    if not bool(np.isfinite(arr).all()):
        raise EmbeddingError("embedding contains NaN or infinite values")
    if not float(np.abs(arr).max()) > 0.0:
        raise EmbeddingError("embedding is the zero vector; cosine similarity is undefined")
    return arr.tobytes()


def create_index(spec: IndexSpec) -> tuple[Any, ...]:
    return (
        "FT.CREATE", spec.name, "ON", "HASH", "PREFIX", "1", spec.prefix, "SCHEMA",
        PART, "TAG", NS, "TAG",
        VEC, "VECTOR", "HNSW", "10", "TYPE", "FLOAT32", "DIM", str(spec.dim),
        "DISTANCE_METRIC", "COSINE", "M", str(spec.m), "EF_CONSTRUCTION", str(spec.ef_construction),
    )  # fmt: skip


def info_index(name: str) -> tuple[Any, ...]:
    return ("FT.INFO", name)


def drop_index(name: str) -> tuple[Any, ...]:
    return ("FT.DROPINDEX", name)


def module_list() -> tuple[Any, ...]:
    return ("MODULE", "LIST")


def list_indexes() -> tuple[Any, ...]:
    return ("FT._LIST",)


def knn_search(
    index: str,
    part: str | None,
    ns: str,
    vector: bytes,
    k: int,
    ef_runtime: int,
    batches: bool = False,
) -> tuple[Any, ...]:
    """KNN restricted, inside the index, to one partition and namespace.

    ``batches`` adds RediSearch's ``HYBRID_POLICY BATCHES`` (valkey-search rejects it).
    ``part=None`` searches every partition of the namespace (the admin command).
    """
    hybrid = " HYBRID_POLICY BATCHES" if batches else ""
    scope = (
        f"@{NS}:{{{tag(ns)}}}" if part is None else f"@{PART}:{{{tag(part)}}} @{NS}:{{{tag(ns)}}}"
    )
    query = (
        f"({scope})=>[KNN {int(k)} @{VEC} $vec EF_RUNTIME {int(ef_runtime)}{hybrid} AS {_SCORE}]"
    )
    returned = (_SCORE, PROMPT, ANSWER, EXPIRES)
    return (
        "FT.SEARCH", index, query, "PARAMS", "2", "vec", vector,
        "RETURN", str(len(returned)), *returned, "LIMIT", "0", str(int(k)), "DIALECT", "2",
    )  # fmt: skip


def knn_probe(index: str, dim: int) -> tuple[Any, ...]:
    """A harmless KNN with ``HYBRID_POLICY BATCHES``: does this engine accept the clause?"""
    probe = encode_vector([1.0] + [0.0] * (dim - 1), dim)
    return knn_search(index, "probe", "probe", probe, 1, 10, batches=True)


# Commands that name no key: a cluster client must be told which node takes them
# (valkey-search's coordinator fans FT.SEARCH out from any primary).
_NODE_COMMANDS = frozenset(
    {"FT.CREATE", "FT.INFO", "FT.SEARCH", "FT.DROPINDEX", "FT._LIST", "MODULE"}
)


def names_no_key(command: Sequence[Any]) -> bool:
    """True for the FT.* and MODULE commands, which a cluster client cannot route by key."""
    return bool(command) and str(command[0]).upper() in _NODE_COMMANDS


# The reads of a lookup (the exact repeat, the KNN): a replica may answer them.
_LOOKUP_READS = frozenset({"HMGET", "FT.SEARCH"})


def is_lookup_read(command: Sequence[Any]) -> bool:
    """True for the commands a lookup reads with, which replicas may serve."""
    return bool(command) and str(command[0]).upper() in _LOOKUP_READS


def write_entry(
    key: str,
    *,
    prompt: str,
    answer: str | bytes,
    part: str,
    ns: str,
    vector: bytes,
    expires_at: float | None,
    ttl_seconds: int | None,
) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    """HSET of one entry's hash and its EXPIRE (PERSIST without a TTL: an overwritten
    entry loses its old TTL). The hash carries its expiry time too: an entry whose EXPIRE
    was lost is never served after it."""
    mapping: dict[str, str | bytes] = {
        PROMPT: prompt,
        ANSWER: answer,
        PART: tag(part),
        NS: tag(ns),
        VEC: vector,
        EXPIRES: repr(expires_at) if expires_at is not None else "inf",
    }
    flat = [item for pair in mapping.items() for item in pair]
    ttl = ("EXPIRE", key, str(ttl_seconds)) if ttl_seconds else ("PERSIST", key)
    return ("HSET", key, *flat), ttl


def new_entries(replies: Sequence[Any]) -> int:
    """Entries created by pairs of :func:`write_entry` commands, from their replies: HSET
    counts the fields it added, none when it overwrote an entry."""
    return sum(1 for r in replies[::2] if isinstance(r, int) and r > 0)


def unlink(key: str) -> tuple[Any, ...]:
    return ("UNLINK", key)


def memory_usage(key: str) -> tuple[Any, ...]:
    return ("MEMORY", "USAGE", key, "SAMPLES", "0")


def pttl(key: str) -> tuple[Any, ...]:
    return ("PTTL", key)


def server_info(section: str) -> tuple[Any, ...]:
    """INFO of one section (the client parses it into a dict)."""
    return ("INFO", section)


def get_entry(key: str) -> tuple[Any, ...]:
    return ("HMGET", key, *ENTRY_FIELDS)
