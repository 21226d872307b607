"""Flows for the admin command: what an index holds, per namespace, and near a question.

Written like the cache's flows (they yield effects, ``_io`` drives them) and built on the
same core, through its public flows: probe, key scheme, SCAN across primaries, embedding,
search and the verifier's verdict.
"""

from __future__ import annotations

import random
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from . import _protocol as proto
from ._effects import Flow, Run
from ._errors import ConfigurationError, SemanticCacheError
from ._flows import CacheCore
from ._prompt import normalize

_BATCH = 1000


class NotFoundError(SemanticCacheError):
    """The index (or what was asked for) is not on this server."""


@dataclass(frozen=True)
class IndexReport:
    index: str
    prefix: str
    engine: str | None
    engine_version: int | None
    info: proto.IndexInfo
    entries: int
    bytes_per_entry: float | None
    """The entry's hash (MEMORY USAGE, mean of the sample)."""
    sampled: int
    index_bytes_per_entry: float | None = None
    """The index's own memory (FT.INFO, this node) over its documents there; None when the
    engine does not report it (valkey-search) or the index is empty."""

    @property
    def total_bytes_per_entry(self) -> float | None:
        """Hash and index together, when both are known."""
        if self.bytes_per_entry is None or self.index_bytes_per_entry is None:
            return None
        return self.bytes_per_entry + self.index_bytes_per_entry


@dataclass(frozen=True)
class NamespaceRow:
    digest: str
    entries: int
    no_expiry: int
    ttl_min_seconds: float | None
    ttl_median_seconds: float | None
    ttl_max_seconds: float | None


@dataclass(frozen=True)
class Neighbor:
    similarity: float
    key: str
    prompt: str
    answer: str | bytes | None
    expired: bool
    above_threshold: bool
    verdict: bool | None
    """What the verifier says (None: not asked, the cache has no verifier)."""
    served: bool
    """Whether a lookup with this threshold would serve this entry."""


def index_info(core: CacheCore) -> Flow[proto.IndexInfo]:
    """The FT.INFO reply of the core's index; :class:`NotFoundError` naming the indexes there."""
    name = core.config.index_name
    try:
        [reply] = yield Run((proto.info_index(name),))
    except proto.IndexMissingError:
        try:
            [names] = yield Run((proto.list_indexes(),))
            others = ", ".join(proto.parse_list(names)) or "none"
        except SemanticCacheError:
            others = "unknown"
        raise NotFoundError(f"no index {name!r} on this server (indexes: {others})") from None
    return proto.parse_info(reply)


def _checked_index(core: CacheCore) -> Flow[proto.IndexInfo]:
    """The index's FT.INFO, after the core checked the index as a cache does (schema,
    spread over a cluster's primaries) and learned the engine from it."""
    yield from core.probe()
    info = yield from index_info(core)
    if info.dim is not None:
        yield from core.ensure_index(info.dim)
    return info


def index_report(core: CacheCore, sample: int = 100) -> Flow[IndexReport]:
    """Engine, schema, entries counted with SCAN on every primary (FT.INFO's num_docs is
    one shard's count on valkey-search), hash memory per entry from a sample, and the index's
    memory per document where FT.INFO reports it (both counts are this node's)."""
    info = yield from _checked_index(core)
    keys = yield from core.entry_keys(all_namespaces=True)
    picked = sorted(random.sample(keys, min(sample, len(keys))))
    sizes: list[int] = []
    if picked:
        try:
            replies = yield Run(tuple(proto.memory_usage(k) for k in picked))
            sizes = [r for r in replies if isinstance(r, int)]
        except ConfigurationError:  # the cache's ACL rules do not include MEMORY USAGE
            sizes = []
    engine, version = core.engine_info()
    index_bytes = info.index_bytes
    per_doc = index_bytes / info.num_docs if index_bytes is not None and info.num_docs else None
    return IndexReport(
        core.config.index_name, core.config.prefix, engine, version, info, len(keys),
        statistics.fmean(sizes) if sizes else None, len(sizes), per_doc,
    )  # fmt: skip


def namespace_rows(core: CacheCore) -> Flow[list[NamespaceRow]]:
    """Entries per namespace digest and the spread of their remaining TTLs."""
    keys = yield from core.entry_keys(all_namespaces=True)
    ttls: dict[str, list[int]] = {}
    for i in range(0, len(keys), _BATCH):
        batch = keys[i : i + _BATCH]
        replies = yield Run(tuple(proto.pttl(k) for k in batch))
        for key, ms in zip(batch, replies, strict=True):
            if isinstance(ms, int) and ms != -2:  # -2: gone since the SCAN
                digest = key[len(core.config.prefix) :].split(":", 1)[0]
                ttls.setdefault(digest, []).append(ms)
    rows = []
    for digest, values in sorted(ttls.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        finite = sorted(v / 1000.0 for v in values if v >= 0)
        rows.append(
            NamespaceRow(
                digest,
                len(values),
                len(values) - len(finite),
                finite[0] if finite else None,
                statistics.median(finite) if finite else None,
                finite[-1] if finite else None,
            )
        )
    return rows


def nearest(
    core: CacheCore,
    question: str,
    *,
    llm_string: str | None,
    context: str,
    namespace: str | None,
    threshold: float,
    now: float,
) -> Flow[list[Neighbor]]:
    """The entries nearest ``question`` (in one partition, or every partition of the
    namespace when ``llm_string`` is None), each with the verifier's verdict."""
    yield from _checked_index(core)
    text = normalize(question)
    if not text:
        raise NotFoundError("the question is empty")
    blob = yield from core.embed(text)
    part = None if llm_string is None else core.partition(llm_string, context)
    found: Sequence[proto.Candidate] = yield from core.search(
        part, core.namespace_tag(namespace), blob
    )
    out: list[Neighbor] = []
    served = False
    for cand in found:
        expired = cand.expires_at <= now
        above = cand.similarity >= threshold
        verdict: bool | None = None
        if cand.answer is not None:
            verdict = yield from core.verdict(text, cand)
        # The lookup's rule: the nearest live entry above the threshold the verifier takes.
        serve = not served and above and not expired and cand.answer is not None
        serve = serve and verdict is not False
        served = served or serve
        out.append(Neighbor(cand.similarity, cand.key, cand.prompt or "", cand.answer,
                            expired, above, verdict, serve))  # fmt: skip
    return out
