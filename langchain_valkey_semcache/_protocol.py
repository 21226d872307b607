"""The one place that speaks FT.* and decodes server replies.

Pure functions: they build command tuples and parse replies into typed values; they do
no I/O. Only the portable dialect shared by valkey-search 1.x and RediSearch 2.x is
emitted (DIALECT 2, TAG values of ``[A-Za-z0-9_]`` only, no SORTBY, no TEXT fields).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import valkey.exceptions as vex

from ._errors import (
    CacheUnavailableError,
    ConfigurationError,
    EmbeddingError,
    IndexMismatchError,
    NoSearchModuleError,
    ProtocolError,
    SemanticCacheError,
)

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


class IndexMissingError(SemanticCacheError):
    """The index does not exist (internal: the cache creates it)."""


class IndexExistsError(SemanticCacheError):
    """FT.CREATE found an index of that name (internal: the cache verifies it)."""


@dataclass(frozen=True)
class IndexSpec:
    """What the index of one cache looks like."""

    name: str
    prefix: str
    dim: int
    m: int
    ef_construction: int


@dataclass(frozen=True)
class IndexInfo:
    """The parts of FT.INFO this package relies on."""

    num_docs: int
    indexing_failures: int
    dim: int | None
    metric: str | None
    fields: frozenset[str]
    engine: str | None = None  # REDISEARCH or VALKEY_SEARCH, told apart by the reply's shape
    schema: tuple[tuple[str, str], ...] = ()
    """(field, type) in the server's order, e.g. ("vec", "VECTOR")."""
    vector: dict[str, str | int] | None = None
    """The vector field's settings: algorithm, data_type, m, ef_construction when shown."""


@dataclass(frozen=True)
class Candidate:
    """One KNN result: the entry key, its COSINE distance and its stored fields."""

    key: str
    distance: float
    prompt: str | None
    answer: str | bytes | None  # as stored: see _codec
    expires_at: float

    @property
    def similarity(self) -> float:
        """Cosine similarity, clipped to [-1, 1] (engines return -1e-7 for identical)."""
        return max(-1.0, min(1.0, 1.0 - self.distance))


@dataclass(frozen=True)
class StoredEntry:
    """An entry read back by key (the exact-repeat path)."""

    prompt: str
    answer: str | bytes  # as stored: see _codec
    part: str
    ns: str
    expires_at: float


@dataclass(frozen=True)
class Engine:
    """Facts about the server's search module, learned from what it answers and accepts.

    A ``MODULE LIST`` version cannot tell the engines apart (RediSearch 2.10.5 reports
    21005, valkey-search 1.2.1 reports 66049), so the name comes from the shape of the
    FT.INFO reply and engine-specific clauses are sent only after the server accepted them.
    """

    listed: bool | None = None  # MODULE LIST shows a search module (None: could not ask)
    version: int | None = None  # MODULE LIST's number, for display only
    name: str | None = None  # REDISEARCH or VALKEY_SEARCH, from FT.INFO's shape
    hybrid_policy: bool = False  # accepted RediSearch's ``HYBRID_POLICY BATCHES``


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


# -- commands -------------------------------------------------------------------------


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


def parse_list(reply: Any) -> list[str]:
    """Parse FT._LIST: the index names, sorted."""
    if not isinstance(reply, list | set):
        raise ProtocolError(f"unexpected FT._LIST reply: {reply!r:.200}")
    return sorted(_text(name) for name in reply)


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


def entry_mapping(
    *,
    prompt: str,
    answer: str | bytes,
    part: str,
    ns: str,
    vector: bytes,
    expires_at: float | None,
) -> dict[str, str | bytes]:
    """The hash stored for one entry."""
    return {
        PROMPT: prompt,
        ANSWER: answer,
        PART: tag(part),
        NS: tag(ns),
        VEC: vector,
        EXPIRES: repr(expires_at) if expires_at is not None else "inf",
    }


# -- replies --------------------------------------------------------------------------


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, str):
        return value
    raise ProtocolError(f"expected a string in the reply, got {type(value).__name__}")


def _stored(value: Any) -> str | bytes:
    """A field kept as the server sent it (a compressed answer is not text)."""
    if isinstance(value, bytes | str):
        return value
    raise ProtocolError(f"expected a string in the reply, got {type(value).__name__}")


def _pairs(items: Any) -> dict[str, Any]:
    if isinstance(items, dict):
        return {_text(k): v for k, v in items.items()}
    if not isinstance(items, list) or len(items) % 2:
        raise ProtocolError("expected a flat list of name/value pairs in the reply")
    return {_text(items[i]): items[i + 1] for i in range(0, len(items), 2)}


def parse_search(reply: Any) -> list[Candidate]:
    """Parse a ``FT.SEARCH ... RETURN`` reply, nearest first (engines may not sort)."""
    if not isinstance(reply, list) or not reply or not isinstance(reply[0], int):
        raise ProtocolError(f"unexpected FT.SEARCH reply: {reply!r:.200}")
    body = reply[1:]
    if len(body) % 2:
        raise ProtocolError("FT.SEARCH reply has a key without fields")
    out: list[Candidate] = []
    for i in range(0, len(body), 2):
        fields = _pairs(body[i + 1])
        raw = fields.get(_SCORE)
        try:
            distance = float(_text(raw))
        except (ProtocolError, ValueError) as exc:
            raise ProtocolError(f"FT.SEARCH returned no numeric score: {raw!r}") from exc
        if not math.isfinite(distance) or not -1e-3 <= distance <= 2.001:
            raise ProtocolError(f"FT.SEARCH returned an impossible COSINE distance {distance}")
        prompt, answer = fields.get(PROMPT), fields.get(ANSWER)
        out.append(
            Candidate(
                key=_text(body[i]),
                distance=distance,
                prompt=None if prompt is None else _text(prompt),
                answer=None if answer is None else _stored(answer),
                expires_at=_expires(fields.get(EXPIRES, b"inf")),
            )
        )
    out.sort(key=lambda c: c.distance)
    return out


def get_entry(key: str) -> tuple[Any, ...]:
    return ("HMGET", key, *ENTRY_FIELDS)


def parse_entry(reply: Any) -> StoredEntry | None:
    """Parse :func:`get_entry`'s reply: None when the key is absent or incomplete."""
    if not isinstance(reply, list) or len(reply) != len(ENTRY_FIELDS):
        raise ProtocolError(f"unexpected HMGET reply: {reply!r:.200}")
    if any(v is None for v in reply):
        return None
    prompt, part, ns, expires = (_text(reply[i]) for i in (0, 2, 3, 4))
    return StoredEntry(prompt, _stored(reply[1]), part, ns, _expires(expires))


def _expires(value: Any) -> float:
    """Parse the stored expiry (epoch seconds or ``inf``)."""
    try:
        parsed = float(_text(value))
    except ValueError as exc:
        raise ProtocolError(f"bad {EXPIRES} value {value!r:.50}") from exc
    if math.isnan(parsed):
        raise ProtocolError(f"bad {EXPIRES} value {value!r:.50}")
    return parsed


def parse_info(reply: Any) -> IndexInfo:
    """Parse FT.INFO from either engine (the vector DIM sits in different places)."""
    try:
        return _parse_info(reply)
    except (TypeError, ValueError, KeyError, OverflowError) as exc:
        raise ProtocolError(f"unexpected FT.INFO reply: {exc}") from exc


def _parse_info(reply: Any) -> IndexInfo:
    info = _pairs(reply)
    try:
        num_docs = int(info.get("num_docs", 0))
        failures = int(info.get("hash_indexing_failures", 0))
    except (TypeError, ValueError) as exc:
        raise ProtocolError("FT.INFO has non-numeric num_docs/hash_indexing_failures") from exc
    dim: int | None = None
    metric: str | None = None
    engine: str | None = None
    fields: set[str] = set()
    schema: list[tuple[str, str]] = []
    vector: dict[str, str | int] | None = None
    for attr in info.get("attributes", []) or []:
        a = _pairs(attr)
        name = _text(a.get("attribute", a.get("identifier", b"")))
        fields.add(name)
        schema.append((name, _text(a.get("type", b"?")).upper()))
        nested = _pairs(a["index"]) if "index" in a else {}
        raw_dim = a.get("dim", nested.get("dimensions"))
        raw_metric = a.get("distance_metric", nested.get("distance_metric"))
        if raw_dim is not None:
            dim = int(_text(raw_dim)) if not isinstance(raw_dim, int) else raw_dim
            engine = VALKEY_SEARCH if "dimensions" in nested else REDISEARCH
        if raw_metric is not None:
            metric = _text(raw_metric).upper()
        if schema[-1][1] == "VECTOR":
            vector = _vector_settings(a, nested)
    return IndexInfo(
        num_docs, failures, dim, metric, frozenset(fields), engine, tuple(schema), vector
    )


def _vector_settings(attr: dict[str, Any], nested: dict[str, Any]) -> dict[str, str | int]:
    """HNSW/FLAT settings of a vector field: flat in RediSearch's FT.INFO, under
    ``index.algorithm`` in valkey-search's."""
    algorithm = nested.get("algorithm", attr.get("algorithm"))
    algo = _pairs(algorithm) if isinstance(algorithm, list | dict) else {"name": algorithm}
    source = {**{k.lower(): v for k, v in attr.items()}, **nested, **algo}
    out: dict[str, str | int] = {}
    for key, name in (("name", "algorithm"), ("data_type", "data_type")):
        if source.get(key) is not None:
            out[name] = _text(source[key]).upper()
    for key in ("m", "ef_construction", "ef_runtime"):
        if source.get(key) is not None:
            value = source[key]
            out[key] = value if isinstance(value, int) else int(_text(value))
    return out


def check_index(info: IndexInfo, spec: IndexSpec) -> None:
    """Raise :class:`IndexMismatchError` unless an existing index fits ``spec``."""
    problems = []
    if info.dim is not None and info.dim != spec.dim:
        problems.append(f"DIM {info.dim} (this cache embeds {spec.dim}-d vectors)")
    if info.metric is not None and info.metric != "COSINE":
        problems.append(f"DISTANCE_METRIC {info.metric} (this cache needs COSINE)")
    if not info.fields >= SCHEMA_FIELDS:
        problems.append(f"fields {sorted(info.fields)} (this cache needs {sorted(SCHEMA_FIELDS)})")
    if problems:
        raise IndexMismatchError(
            f"index {spec.name!r} exists with " + "; ".join(problems) + ". Use another "
            "index_name, or drop the old index with cache.drop_index() (it deletes its entries)."
        )


def parse_modules(reply: Any) -> Engine:
    """Find the search module in ``MODULE LIST`` (its version is for display only)."""
    if not isinstance(reply, list):
        raise ProtocolError(f"unexpected MODULE LIST reply: {reply!r:.200}")
    for item in reply:
        mod = _pairs(item)
        if _text(mod.get("name", b"")).lower() in ("search", "ft"):
            version = mod.get("ver")
            try:
                v = int(version) if isinstance(version, (int, bytes, str)) else None
            except ValueError as exc:
                raise ProtocolError(f"bad module version {version!r:.40}") from exc
            return Engine(listed=True, version=v)
    return Engine(listed=False)


NO_MODULE_MESSAGE = (
    "this server has no vector search module (FT.* commands are unknown); ElastiCache needs "
    "Valkey 8.2+ on a node-based cluster (Serverless has no vector search)"
)

ACL_MESSAGE = (
    "the Valkey user lacks a permission this cache needs (see the README's ACL rules: "
    "its index name and key prefix as key patterns, +@search on valkey-search, and "
    "FT.*/HSET/HMGET/EXPIRE/PERSIST/UNLINK/SCAN/PING)"
)

# Server wording -> error, matched case-insensitively against ResponseError text.
_WORDING: tuple[tuple[str, type[SemanticCacheError]], ...] = (
    ("unknown command 'ft.", NoSearchModuleError),
    ("user doesn't have a permission", ConfigurationError),  # valkey-search 1.0 ACL check
    ("user does not have permission", ConfigurationError),  # valkey-search 1.2 ACL check
    ("unknown index name", IndexMissingError),
    ("no such index", IndexMissingError),
    ("index with name", IndexMissingError),
    ("already exists", IndexExistsError),
    ("noauth", CacheUnavailableError),
    ("wrongpass", CacheUnavailableError),
    ("loading", CacheUnavailableError),
    ("busy", CacheUnavailableError),
    ("oom", CacheUnavailableError),
    ("readonly", CacheUnavailableError),
    ("clusterdown", CacheUnavailableError),
    ("tryagain", CacheUnavailableError),
)


def translate(exc: BaseException) -> SemanticCacheError:
    """Map a client exception to this package's errors (the caller chains it)."""
    if isinstance(exc, SemanticCacheError):
        return exc
    if isinstance(exc, (vex.ConnectionError, vex.TimeoutError, OSError)):
        return CacheUnavailableError(f"Valkey unavailable: {type(exc).__name__}: {exc}")
    if isinstance(exc, vex.NoPermissionError):
        return ConfigurationError(f"{ACL_MESSAGE}: {exc}")
    if isinstance(exc, vex.ResponseError):
        text = str(exc).lower()
        for wording, kind in _WORDING:
            if wording in text:
                if kind is NoSearchModuleError:
                    return NoSearchModuleError(NO_MODULE_MESSAGE)
                if kind is ConfigurationError:
                    return ConfigurationError(f"{ACL_MESSAGE}: {exc}")
                return kind(str(exc))
        return ProtocolError(f"server error: {exc}")
    if isinstance(exc, vex.ValkeyError):
        return CacheUnavailableError(f"Valkey client error: {type(exc).__name__}: {exc}")
    return ProtocolError(f"unexpected error talking to Valkey: {type(exc).__name__}: {exc}")
