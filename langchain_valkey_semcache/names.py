"""The one spelling of the cache's accounting: lookup and store outcomes, the
OpenTelemetry metric and attribute names, and the graph state's timing keys.

``stats()``, the metrics, the LangGraph nodes and the AgentCore app all import these;
none retypes them. Names follow OpenTelemetry's semantic-convention style (lowercase
dotted names under one ``semcache.`` namespace, durations in seconds, ``error.type`` for
error kinds).
"""

from __future__ import annotations

# What one lookup ends as (``semcache.outcome`` on ``semcache.lookups``; CacheStats counts
# hits, exact_hits, misses, skipped and errors).
EXACT_HIT = "exact_hit"
SEMANTIC_HIT = "semantic_hit"
MISS = "miss"
SKIPPED = "skipped"  # not cacheable (empty, too long), or backing off after an outage
ERROR = "error"
LOOKUP_OUTCOMES = (EXACT_HIT, SEMANTIC_HIT, MISS, SKIPPED, ERROR)
# What one entry given to a store ends as (``semcache.stores``; CacheStats: stores,
# store_skipped, store_errors).
STORED = "stored"
STORE_OUTCOMES = (STORED, SKIPPED, ERROR)

# Attribute names (spans and metrics).
OUTCOME = "semcache.outcome"
ERROR_TYPE = "error.type"  # the semantic conventions' own name
DB_SYSTEM = "db.system.name"
ENGINE = "semcache.engine"
NAMESPACE = "semcache.namespace.digest"
HIT = "semcache.hit"
HIT_KIND = "semcache.hit.kind"
SIMILARITY = "semcache.similarity"
NEAREST = "semcache.nearest_similarity"
THRESHOLD = "semcache.threshold"
CANDIDATES = "semcache.candidates"
REJECTIONS = "semcache.verifier.rejections"
SKIP_REASON = "semcache.skip_reason"
ENTRIES = "semcache.entries"

# Metric names.
M_LOOKUPS = "semcache.lookups"
M_REJECTIONS = "semcache.verifier.rejections"
M_STORES = "semcache.stores"
M_LOOKUP_DURATION = "semcache.lookup.duration"
M_EMBEDDING_DURATION = "semcache.embedding.duration"
M_SEARCH_DURATION = "semcache.search.duration"
M_VERIFICATION_DURATION = "semcache.verification.duration"
M_SIMILARITY = "semcache.similarity"
METRIC_NAMES = (
    M_LOOKUPS, M_REJECTIONS, M_STORES, M_LOOKUP_DURATION, M_EMBEDDING_DURATION,
    M_SEARCH_DURATION, M_VERIFICATION_DURATION, M_SIMILARITY,
)  # fmt: skip

# Keys of ``cache_timings`` in the LangGraph state, milliseconds.
TIMING_CACHE_SEARCH = "cache_search"  # the whole lookup node
TIMING_EMBEDDING = "embedding"
TIMING_VECTOR_SEARCH = "vector_search"
TIMING_VERIFICATION = "verification"
TIMING_KEYS = (TIMING_CACHE_SEARCH, TIMING_EMBEDDING, TIMING_VECTOR_SEARCH, TIMING_VERIFICATION)
