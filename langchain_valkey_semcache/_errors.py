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
