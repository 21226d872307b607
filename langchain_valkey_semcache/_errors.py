"""The exception hierarchy: one base to catch, a few precise subclasses."""

from __future__ import annotations


class SemanticCacheError(Exception):
    """Base class of every error this package raises."""


class ConfigurationError(SemanticCacheError, ValueError):
    """A setting is invalid; the message says what to change."""


class CacheUnavailableError(SemanticCacheError):
    """The Valkey server could not be reached or did not answer in time."""


class NoSearchModuleError(SemanticCacheError):
    """The server has no vector search module (no FT.* commands)."""


class IndexMismatchError(SemanticCacheError):
    """An index with this name exists with another dimension, metric or fields."""


class ProtocolError(SemanticCacheError):
    """The server sent a reply this package cannot interpret."""


class EmbeddingError(SemanticCacheError):
    """The embedding model failed or returned an unusable vector."""


class InvalidInputError(SemanticCacheError, ValueError):
    """A prompt or answer the cache refuses to handle (empty, too long, too large)."""


class NotPrimaryError(CacheUnavailableError):
    """A write reached a node that is no longer the primary (``READONLY``): a failover
    moved the primary while this client kept connections to the old one. The cache drops
    its idle connections, so the next call connects to wherever the endpoint points now."""


class ServerLoadingError(CacheUnavailableError):
    """The node is loading its dataset (``LOADING``): a restart from RDB/AOF, or a replica
    in its first full sync. It answers again when the load ends."""


class PrimaryDownError(CacheUnavailableError):
    """A replica lost its link to its primary and refuses to serve stale data
    (``MASTERDOWN``, with ``replica-serve-stale-data no``)."""


class ClusterDownError(CacheUnavailableError):
    """The cluster cannot serve a slot now (``CLUSTERDOWN``): a shard lost its primary and
    the cluster has not promoted a replica yet."""
