"""Client exceptions and server wording translated into this package's errors, in one table."""

from __future__ import annotations

import valkey.exceptions as vex

from .._errors import (
    CacheUnavailableError,
    ClusterDownError,
    ConfigurationError,
    NoSearchModuleError,
    NotPrimaryError,
    PrimaryDownError,
    ProtocolError,
    SemanticCacheError,
    ServerLoadingError,
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

# What the failover and restart states mean, said without the failed command's arguments.
_FAILOVER_MESSAGES: dict[type[SemanticCacheError], str] = {
    NotPrimaryError: "this node is no longer the primary (a failover); reconnecting",
    ServerLoadingError: "the node is loading its dataset (a restart or a replica's sync)",
    PrimaryDownError: "the replica lost its link to the primary (MASTERDOWN)",
    ClusterDownError: "the cluster is down or failing over (CLUSTERDOWN)",
}

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
    # Failover and restart states; valkey-py strips the code from some (READONLY, LOADING),
    # so their messages are listed too.
    ("readonly", NotPrimaryError),
    ("read only replica", NotPrimaryError),
    ("loading", ServerLoadingError),
    ("masterdown", PrimaryDownError),
    ("link with master is down", PrimaryDownError),
    ("clusterdown", ClusterDownError),
    ("cluster is down", ClusterDownError),
    ("busy", CacheUnavailableError),
    ("oom", CacheUnavailableError),
    ("tryagain", CacheUnavailableError),
)

# Error classes valkey-py parses the server's code into (checked before the wording).
_CLASSES: tuple[tuple[type[Exception], type[SemanticCacheError]], ...] = (
    (vex.ReadOnlyError, NotPrimaryError),
    (vex.BusyLoadingError, ServerLoadingError),
    (vex.MasterDownError, PrimaryDownError),  # a subclass of ClusterDownError: first
    (vex.ClusterDownError, ClusterDownError),
)
_PIPELINE = "of pipeline caused error: "


def _server_words(exc: BaseException) -> str:
    """The server's own error text, lower-case: a pipeline's error carries the failed
    command (the user's prompt and answer) before it, which must never be matched."""
    text = str(exc)
    cut = text.find(_PIPELINE)
    return (text[cut + len(_PIPELINE) :] if cut >= 0 else text).lower()


def translate(exc: BaseException) -> SemanticCacheError:
    """Map a client exception to this package's errors (the caller chains it)."""
    if isinstance(exc, SemanticCacheError):
        return exc
    for client_class, kind in _CLASSES:  # LOADING's class is a ConnectionError: first
        if isinstance(exc, client_class):
            return kind(f"{_FAILOVER_MESSAGES[kind]}: {_server_words(exc)[:200]}")
    if isinstance(exc, (vex.ConnectionError, vex.TimeoutError, OSError)):
        return CacheUnavailableError(f"Valkey unavailable: {type(exc).__name__}: {exc}")
    if isinstance(exc, vex.NoPermissionError):
        return ConfigurationError(f"{ACL_MESSAGE}: {exc}")
    if isinstance(exc, vex.ResponseError):
        text = _server_words(exc)
        for wording, kind in _WORDING:
            if wording in text:
                if kind is NoSearchModuleError:
                    return NoSearchModuleError(NO_MODULE_MESSAGE)
                if kind is ConfigurationError:
                    return ConfigurationError(f"{ACL_MESSAGE}: {exc}")
                if kind in _FAILOVER_MESSAGES:
                    return kind(f"{_FAILOVER_MESSAGES[kind]}: {text[:200]}")
                return kind(str(exc))
        return ProtocolError(f"server error: {exc}")
    if isinstance(exc, vex.ValkeyError):
        return CacheUnavailableError(f"Valkey client error: {type(exc).__name__}: {exc}")
    return ProtocolError(f"unexpected error talking to Valkey: {type(exc).__name__}: {exc}")
