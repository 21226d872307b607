"""Client exceptions and server wording translated into this package's errors, in one table."""

from __future__ import annotations

import valkey.exceptions as vex

from .._errors import (
    CacheUnavailableError,
    ConfigurationError,
    NoSearchModuleError,
    ProtocolError,
    SemanticCacheError,
)


class IndexMissingError(SemanticCacheError):
    """The index does not exist (internal: the cache creates it)."""


class IndexExistsError(SemanticCacheError):
    """FT.CREATE found an index of that name (internal: the cache verifies it)."""


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
