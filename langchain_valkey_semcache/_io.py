"""The two drivers of a flow: one blocking, one ``asyncio``. They only perform I/O."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from typing import Any, TypeVar

import valkey.asyncio.cluster as acluster
import valkey.cluster as cluster
from langchain_core.embeddings import Embeddings

from . import _failover, _routing
from . import _protocol as proto
from ._core import Embed, EmbedMany, Flow, OnPrimaries, Run, Scan, Sleep, Verify
from ._errors import EmbeddingError, SemanticCacheError
from .verification import Verifier

T = TypeVar("T")
logger = logging.getLogger("langchain_valkey_semcache")


def _embedding_error(exc: Exception) -> EmbeddingError:
    err = EmbeddingError(f"embedding call failed: {type(exc).__name__}: {exc}")
    err.__cause__ = exc
    return err


def _client_error(exc: Exception) -> SemanticCacheError:
    err = proto.translate(exc)
    if err is not exc:
        err.__cause__ = exc
    return err


def _perform_sync(
    effect: Any, client: Any, embeddings: Embeddings, verifier: Any, reader: Any = None
) -> Any:
    if isinstance(effect, Embed | EmbedMany):
        try:
            if isinstance(effect, Embed):
                return embeddings.embed_query(effect.text)
            return embeddings.embed_documents(list(effect.texts))
        except Exception as exc:
            raise _embedding_error(exc) from exc
    if isinstance(effect, Verify):
        try:
            return verifier.verify(effect.query, effect.cached, effect.similarity)
        except Exception as exc:  # a failing verifier rejects: the safe side
            logger.warning("verifier failed, rejecting the candidate: %s", type(exc).__name__)
            return False
    used = client
    try:
        if isinstance(effect, Run):
            used = _routing.target(client, reader, effect.commands)
            if len(effect.commands) == 1:
                command = effect.commands[0]
                return [used.execute_command(*command, **_route(used, command))]
            pipe = used.pipeline(transaction=False)
            for command in effect.commands:
                pipe.execute_command(*command)
            return pipe.execute()
        if isinstance(effect, Scan):
            keys: set[str] = set()
            for target in _scan_targets(client):
                batch = client.scan_iter(match=effect.pattern, count=1000, **target)
                keys.update(_key(k) for k in batch)
            return sorted(keys)
        if isinstance(effect, OnPrimaries):
            if not isinstance(client, cluster.ValkeyCluster):
                return None
            nodes = client.get_primaries()  # type: ignore[no-untyped-call]
            return [_on_node_sync(client, node, effect.command) for node in nodes]
        if isinstance(effect, Sleep):
            time.sleep(effect.seconds)
            return None
    except SemanticCacheError:
        raise
    except Exception as exc:
        err = _client_error(exc)
        _failover.reset_sync(used, err)
        raise err from exc
    raise TypeError(f"unknown effect {effect!r}")


async def _perform_async(
    effect: Any, client: Any, embeddings: Embeddings, verifier: Any, reader: Any = None
) -> Any:
    if isinstance(effect, Embed | EmbedMany):
        try:
            if isinstance(effect, Embed):
                return await embeddings.aembed_query(effect.text)
            return await embeddings.aembed_documents(list(effect.texts))
        except Exception as exc:
            raise _embedding_error(exc) from exc
    if isinstance(effect, Verify):
        try:
            return await verifier.averify(effect.query, effect.cached, effect.similarity)
        except Exception as exc:  # a failing verifier rejects: the safe side
            logger.warning("verifier failed, rejecting the candidate: %s", type(exc).__name__)
            return False
    used = client
    try:
        if isinstance(client, acluster.ValkeyCluster):
            await client.initialize()  # its nodes (default node, primaries) are known after
        if isinstance(effect, Run):
            used = _routing.target(client, reader, effect.commands)
            if len(effect.commands) == 1:
                command = effect.commands[0]
                return [await used.execute_command(*command, **_route(used, command))]
            pipe = used.pipeline(transaction=False)
            for command in effect.commands:
                pipe.execute_command(*command)
            return await pipe.execute()
        if isinstance(effect, Scan):
            keys: set[str] = set()
            for target in _scan_targets(client):
                batch = client.scan_iter(match=effect.pattern, count=1000, **target)
                keys.update([_key(k) async for k in batch])
            return sorted(keys)
        if isinstance(effect, OnPrimaries):
            if not isinstance(client, acluster.ValkeyCluster):
                return None
            return [
                await _on_node_async(client, node, effect.command)
                for node in client.get_primaries()
            ]
        if isinstance(effect, Sleep):
            await asyncio.sleep(effect.seconds)
            return None
    except SemanticCacheError:
        raise
    except Exception as exc:
        err = _client_error(exc)
        await _failover.reset_async(used, err)
        raise err from exc
    raise TypeError(f"unknown effect {effect!r}")


def _route(client: Any, command: tuple[Any, ...]) -> dict[str, Any]:
    """Cluster clients route by key; FT.* and MODULE name none, so they go to the client's
    default node (a lookup's KNN to any node when it reads from replicas), named explicitly:
    the asyncio client cannot route them on its own, and an explicit node is tried once (no
    retry loop multiplying the socket timeout)."""
    if proto.names_no_key(command) and isinstance(
        client, cluster.ValkeyCluster | acluster.ValkeyCluster
    ):
        return {"target_nodes": _routing.keyless_node(client, command)}
    return {}


def _on_node_sync(client: Any, node: Any, command: tuple[Any, ...]) -> Any:
    try:
        return client.execute_command(*command, target_nodes=node)
    except Exception as exc:
        return _client_error(exc)


async def _on_node_async(client: Any, node: Any, command: tuple[Any, ...]) -> Any:
    try:
        return await client.execute_command(*command, target_nodes=node)
    except Exception as exc:
        return _client_error(exc)


def _scan_targets(client: Any) -> list[dict[str, Any]]:
    """Per-node SCAN targets of a cluster client (every node it knows, so that a node it
    wrongly believes to be a replica after a MOVED is not skipped); one plain target else."""
    get_nodes = getattr(client, "get_nodes", None)
    if callable(get_nodes):
        return [{"target_nodes": node} for node in get_nodes()]
    return [{}]


def _key(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def run_sync(
    flow: Flow[T],
    client: Any,
    embeddings: Embeddings,
    verifier: Verifier | None = None,
    reader: Any = None,
) -> T:
    """Drive ``flow`` with a blocking Valkey client and ``embed_query``; ``reader`` (a
    replica's client) takes the lookups' reads."""
    result: Any = None
    error: SemanticCacheError | None = None
    while True:
        try:
            effect = flow.throw(error) if error is not None else flow.send(result)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]
        result, error = None, None
        try:
            result = _perform_sync(effect, client, embeddings, verifier, reader)
        except SemanticCacheError as exc:
            error = exc


async def run_async(
    flow: Flow[T],
    client: Any,
    embeddings: Embeddings,
    verifier: Verifier | None = None,
    reader: Any = None,
) -> T:
    """Drive ``flow`` with a ``valkey.asyncio`` client and ``aembed_query``; ``reader`` (a
    replica's client) takes the lookups' reads."""
    result: Any = None
    error: SemanticCacheError | None = None
    while True:
        try:
            effect = flow.throw(error) if error is not None else flow.send(result)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]
        result, error = None, None
        try:
            result = await _perform_async(effect, client, embeddings, verifier, reader)
        except SemanticCacheError as exc:
            error = exc


__all__: Sequence[str] = ("run_async", "run_sync")
