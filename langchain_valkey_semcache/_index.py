"""The index's life and the engine's facts: create or verify the index, learn which
engine serves it and how large it is, and fit EF_RUNTIME to that size.

One FT.INFO refresh learns the size and verifies the schema, at most once per
``index_check_interval_seconds`` and once per search: before the search while EF_RUNTIME
follows the size, else after a search that found nothing. Flows only: ``_io`` performs the effects.
"""

from __future__ import annotations

import math
import threading
from dataclasses import replace

from . import _protocol as proto
from ._config import CacheConfig
from ._effects import Clock, Flow, OnPrimaries, Run, Sleep
from ._errors import (
    CacheUnavailableError,
    ConfigurationError,
    IndexMismatchError,
    ProtocolError,
    SemanticCacheError,
)

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


class IndexState:
    """What one cache knows of its index and engine, and the flows that learn it."""

    def __init__(self, config: CacheConfig, clock: Clock) -> None:
        self.config = config
        self.clock = clock
        self.dim: int | None = config.dims
        self.engine = proto.Engine()
        self.engine_known = False  # MODULE LIST asked (or refused)
        self.ready = False  # the index exists and fits this cache
        self.size: int | None = None  # documents in the index (FT.INFO) plus our stores since
        self.checked = -math.inf  # monotonic time of the last FT.INFO
        self._lock = threading.Lock()

    def spec(self, dim: int) -> proto.IndexSpec:
        c = self.config
        return proto.IndexSpec(c.index_name, c.prefix, dim, c.hnsw_m, c.hnsw_ef_construction)

    def ef_runtime(self) -> int:
        """The EF_RUNTIME of the next query: the configured one, else fitted to the size."""
        if self.config.hnsw_ef_runtime is not None:
            return self.config.hnsw_ef_runtime
        return ef_for(self.size, self.dim, self.config.candidates)

    def grown(self, added: int) -> None:
        """Count entries this cache added (negative: removed) until the next FT.INFO."""
        with self._lock:
            if self.size is not None:
                self.size = max(0, self.size + added)

    def forget_size(self) -> None:
        """The size is unknown now (e.g. after a clear): the next lookup re-reads it."""
        self.checked = -math.inf

    def reset(self) -> None:
        """The index was dropped: create it again at the next use."""
        self.ready = False
        self.dim = self.config.dims

    def probe(self) -> Flow[None]:
        """Check that a search module runs (MODULE LIST, else an FT.INFO that would fail)."""
        try:
            [reply] = yield Run((proto.module_list(),))
            self.engine = proto.parse_modules(reply)
        except CacheUnavailableError:
            raise
        except SemanticCacheError:  # MODULE LIST may be disabled (managed services)
            self.engine = proto.Engine()
        self.engine_known = True
        if self.engine.listed is not True:
            try:
                yield Run((proto.info_index(self.config.index_name),))
            except proto.IndexMissingError:
                pass

    def ensure(self, dim: int) -> Flow[None]:
        """Create the index if missing; verify it if present (idempotent)."""
        if self.dim is not None and dim != self.dim:
            raise IndexMismatchError(
                f"the embedding model returned {dim}-d vectors but this cache is set to "
                f"{self.dim}; fix dims= or use another index_name"
            )
        if self.ready:
            return
        if not self.engine_known:
            yield from self.probe()
        spec = self.spec(dim)
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
        yield from self.learn_engine(info, spec)
        yield from self.check_spread(spec.name, wait=created)
        self.dim = dim
        self.ready = True

    def due(self, found: int | None = None) -> bool:
        """Whether the FT.INFO refresh is due, at most once per interval: before a search
        (``found`` None) while EF_RUNTIME follows the size; after one that found nothing
        (also what an index re-created by someone else with another schema answers)."""
        elapsed = self.clock.monotonic() - self.checked
        if elapsed < self.config.index_check_interval_seconds:
            return False
        return self.config.hnsw_ef_runtime is None if found is None else found == 0

    def refresh(self, dim: int) -> Flow[None]:
        """One FT.INFO: learn the size and verify the schema (re-create a dropped index)."""
        self.checked = self.clock.monotonic()
        try:
            [reply] = yield Run((proto.info_index(self.config.index_name),))
            info = proto.parse_info(reply)
        except proto.IndexMissingError:
            self.ready = False
            yield from self.ensure(dim)
            return
        except ProtocolError:
            return  # an unreadable reply: the next search finds out
        proto.check_index(info, self.spec(dim))
        self._learn_size(info)
        yield from self.learn_engine(info, self.spec(dim))

    def _learn_size(self, info: proto.IndexInfo) -> None:
        # In a cluster FT.INFO counts the local shard: the size of the graph each shard walks.
        self.size, self.checked = info.num_docs, self.clock.monotonic()

    def learn_engine(self, info: proto.IndexInfo, spec: proto.IndexSpec) -> Flow[None]:
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

    def check_spread(self, name: str, *, wait: bool) -> Flow[None]:
        """In cluster mode the index must exist on every primary: only then does the engine
        search across shards (valkey-search with its coordinator). A module without one
        answers a KNN from one shard: partial results, silently. Refuse that."""
        deadline = self.clock.monotonic() + (_SPREAD_WAIT_SECONDS if wait else 0.0)
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
            if self.clock.monotonic() >= deadline:
                raise ConfigurationError(
                    f"cluster mode without cross-shard search: index {name!r} exists on "
                    f"{len(replies) - missing} of {len(replies)} primaries, so a search would "
                    "see one shard. valkey-search needs its coordinator (loadmodule ... "
                    "--use-coordinator; ElastiCache for Valkey runs it in cluster mode)"
                )
            yield Sleep(_SPREAD_POLL_SECONDS)
