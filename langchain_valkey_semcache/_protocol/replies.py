"""Server replies parsed into typed values (a malformed reply is a ProtocolError)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from .._errors import IndexMismatchError, ProtocolError
from .commands import (
    _SCORE,
    ANSWER,
    ENTRY_FIELDS,
    EXPIRES,
    PROMPT,
    REDISEARCH,
    SCHEMA_FIELDS,
    VALKEY_SEARCH,
    IndexSpec,
)


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
    index_bytes: int | None = None
    """The index's own memory on this node (None: the engine does not report it). RediSearch:
    ``vector_index_sz_mb`` + ``total_index_memory_sz_mb`` (its other structures); valkey-search
    1.0 and 1.2 report none in FT.INFO."""


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
        num_docs, failures, dim, metric, frozenset(fields), engine, tuple(schema), vector,
        _index_bytes(info),
    )  # fmt: skip


# RediSearch's FT.INFO memory fields, in MiB: the HNSW graph with its vectors, and the rest
# (tags, document and key tables); the second excludes the first (2.10.5, measured).
_MEMORY_FIELDS = ("vector_index_sz_mb", "total_index_memory_sz_mb")


def _index_bytes(info: dict[str, Any]) -> int | None:
    """The memory fields' sum in bytes; None when absent or unreadable (informative only)."""
    try:
        sizes = [
            float(v if isinstance(v, int | float) else _text(v))
            for v in (info[k] for k in _MEMORY_FIELDS if k in info)
        ]
    except (ProtocolError, ValueError):
        return None
    if not sizes or not all(math.isfinite(v) and v >= 0 for v in sizes):
        return None
    return round(sum(sizes) * 1024 * 1024)


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


def parse_list(reply: Any) -> list[str]:
    """Parse FT._LIST: the index names, sorted."""
    if not isinstance(reply, list | set):
        raise ProtocolError(f"unexpected FT._LIST reply: {reply!r:.200}")
    return sorted(_text(name) for name in reply)
