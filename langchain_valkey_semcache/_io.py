"""The two drivers of a flow: one blocking, one ``asyncio``. They only perform I/O.

How an effect is performed is written once (:func:`_perform`, a generator of client
calls); the drivers differ only in the calls themselves (:class:`_SyncCalls`,
:class:`_AsyncCalls`) and in whether they ``await`` what a call returns.
Every client exception passes through one handler, :func:`_client_error`, which also
drops a client's idle connections when the error says they lead to the wrong node or
nowhere (``_failover``). A lookup's reads may go to a replica's client (``_routing``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Generator, Sequence
from typing import Any, TypeVar

import valkey.asyncio.cluster as acluster
import valkey.cluster as cluster
from langchain_core.embeddings import Embeddings

from . import _failover, _routing
from . import _protocol as proto
from ._effects import Embed, EmbedMany, Flow, OnPrimaries, Run, Scan, Sleep, VerifierFailed, Verify
from ._errors import EmbeddingError, SemanticCacheError
from .verification import Verifier

T = TypeVar("T")
# A client call's result: the value itself (sync) or an awaitable of it (async).
Steps = Generator[Any, Any, T]


def _is_cluster(client: Any) -> bool:
    return isinstance(client, cluster.ValkeyCluster | acluster.ValkeyCluster)


def _client_error(exc: BaseException, client: Any, calls: _SyncCalls) -> Steps[SemanticCacheError]:
    """The one place a client exception becomes this package's error (chained), for both
    drivers: what the client should do about an error (drop its idle pooled connections
    when a failover made its node a replica, or the node vanished) is decided here too;
    only the reset call itself is the driver's (yielded, as every client call)."""
    err = proto.translate(exc)
    if err is not exc:
        err.__cause__ = exc
    if _failover.drops_connections(err):
        yield calls.reset(client, err)
    return err


def _route(client: Any, command: tuple[Any, ...]) -> dict[str, Any]:
    """Cluster clients route by key; FT.* and MODULE name none, so they go to the client's
    default node (a lookup's KNN to any node when it reads from replicas), named explicitly:
    the asyncio client cannot route them on its own, and an explicit node is tried once (no
    retry loop multiplying the socket timeout)."""
    if proto.names_no_key(command) and _is_cluster(client):
        return {"target_nodes": _routing.keyless_node(client, command)}
    return {}


def _key(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


class _SyncCalls:
    """The client, model and verifier calls of the blocking driver. The asyncio driver's
    are the same calls on ``valkey.asyncio`` and the ``a``-prefixed methods (``aembed_query``,
    ``averify``): each returns an awaitable. ``reader`` (a replica's client, or None) takes
    a lookup's reads."""

    PREFIX = ""

    def __init__(
        self, client: Any, embeddings: Embeddings, verifier: Verifier | None, reader: Any = None
    ) -> None:
        self.client, self.embeddings, self.verifier = client, embeddings, verifier
        self.reader = reader

    def embed(self, text: str) -> Any:
        return getattr(self.embeddings, self.PREFIX + "embed_query")(text)

    def embed_many(self, texts: list[str]) -> Any:
        return getattr(self.embeddings, self.PREFIX + "embed_documents")(texts)

    def verify(self, e: Verify) -> Any:
        return getattr(self.verifier, self.PREFIX + "verify")(e.query, e.cached, e.similarity)

    def execute(self, client: Any, command: tuple[Any, ...], **route: Any) -> Any:
        return client.execute_command(*command, **route)

    def pipeline(self, client: Any, commands: Sequence[tuple[Any, ...]]) -> Any:
        pipe = client.pipeline(transaction=False)
        for command in commands:
            pipe.execute_command(*command)
        return pipe.execute()

    def scan(self, pattern: str, target: dict[str, Any]) -> Any:
        return [_key(k) for k in self.client.scan_iter(match=pattern, count=1000, **target)]

    def sleep(self, seconds: float) -> Any:
        time.sleep(seconds)

    def reset(self, client: Any, err: SemanticCacheError) -> Any:
        _failover.reset_sync(client, err)


class _AsyncCalls(_SyncCalls):
    PREFIX = "a"

    def scan(self, pattern: str, target: dict[str, Any]) -> Any:
        async def keys() -> list[str]:
            batch = self.client.scan_iter(match=pattern, count=1000, **target)
            return [_key(k) async for k in batch]

        return keys()

    def sleep(self, seconds: float) -> Any:
        return asyncio.sleep(seconds)

    def reset(self, client: Any, err: SemanticCacheError) -> Any:
        return _failover.reset_async(client, err)


def _perform(effect: Any, calls: _SyncCalls) -> Steps[Any]:
    """Perform one effect: yields each client call's result (or awaitable), returns the
    effect's result. Raises :class:`SemanticCacheError` only."""
    if isinstance(effect, Embed | EmbedMany):
        try:
            if isinstance(effect, Embed):
                return (yield calls.embed(effect.text))
            return (yield calls.embed_many(list(effect.texts)))
        except Exception as exc:
            err = EmbeddingError(f"embedding call failed: {type(exc).__name__}: {exc}")
            raise err from exc
    if isinstance(effect, Verify):
        if calls.verifier is None:
            return None
        try:
            return (yield calls.verify(effect))
        except Exception as exc:
            raise VerifierFailed(type(exc).__name__) from exc
    client = used = calls.client
    try:
        if isinstance(effect, Run):
            used = _routing.target(client, calls.reader, effect.commands)
            if len(effect.commands) == 1:
                command = effect.commands[0]
                return [(yield calls.execute(used, command, **_route(used, command)))]
            return (yield calls.pipeline(used, effect.commands))
        if isinstance(effect, Scan):
            keys: set[str] = set()
            # Every node a cluster client knows, so that a node it wrongly believes to be a
            # replica after a MOVED is not skipped; one plain target else.
            nodes = client.get_nodes() if _is_cluster(client) else [None]
            for node in nodes:
                target = {} if node is None else {"target_nodes": node}
                keys.update((yield calls.scan(effect.pattern, target)))
            return sorted(keys)
        if isinstance(effect, OnPrimaries):
            if not _is_cluster(client):
                return None
            replies: list[Any] = []
            for node in client.get_primaries():
                try:
                    replies.append((yield calls.execute(client, effect.command, target_nodes=node)))
                except Exception as exc:
                    replies.append((yield from _client_error(exc, client, calls)))
            return replies
        if isinstance(effect, Sleep):
            return (yield calls.sleep(effect.seconds))
    except SemanticCacheError:
        raise
    except Exception as exc:
        raise (yield from _client_error(exc, used, calls)) from exc
    raise TypeError(f"unknown effect {effect!r}")


def _advance(gen: Generator[Any, Any, Any], value: Any, error: BaseException | None) -> Any:
    """Send ``value`` (or throw ``error``) into ``gen``: (True, its return value) or
    (False, what it yielded next)."""
    try:
        return False, (gen.throw(error) if error is not None else gen.send(value))
    except StopIteration as stop:
        return True, stop.value


def _drive(flow: Flow[T], calls: _SyncCalls) -> Steps[T]:
    """Run ``flow``, performing each effect; errors of an effect are thrown into it."""
    result: Any = None
    error: SemanticCacheError | None = None
    while True:
        done, effect = _advance(flow, result, error)
        if done:
            return effect  # type: ignore[no-any-return]
        result, error = None, None
        try:
            result = yield from _perform(effect, calls)
        except SemanticCacheError as exc:
            error = exc


def run_sync(
    flow: Flow[T],
    client: Any,
    embeddings: Embeddings,
    verifier: Verifier | None = None,
    reader: Any = None,
) -> T:
    """Drive ``flow`` with a blocking Valkey client and ``embed_query``; ``reader`` (a
    replica's client) takes the lookups' reads."""
    steps = _drive(flow, _SyncCalls(client, embeddings, verifier, reader))
    done, value = False, None
    while not done:  # a sync call's result is the value itself
        done, value = _advance(steps, value, None)
    return value  # type: ignore[return-value]


async def _awaiting(steps: Steps[T]) -> T:
    """Run ``steps``, awaiting each client call it yields; a call's error goes back in."""
    value: Any = None
    error: BaseException | None = None
    while not (step := _advance(steps, value, error))[0]:
        try:
            value, error = await step[1], None
        except Exception as exc:
            value, error = None, exc
    return step[1]  # type: ignore[no-any-return]


async def run_async(
    flow: Flow[T],
    client: Any,
    embeddings: Embeddings,
    verifier: Verifier | None = None,
    reader: Any = None,
) -> T:
    """Drive ``flow`` with a ``valkey.asyncio`` client and ``aembed_query``; ``reader`` (a
    replica's client) takes the lookups' reads."""
    calls = _AsyncCalls(client, embeddings, verifier, reader)
    if isinstance(client, acluster.ValkeyCluster):
        try:  # its nodes (default node, primaries) are known after; a no-op once they are
            await client.initialize()
        except Exception as exc:
            flow.close()
            raise (await _awaiting(_client_error(exc, client, calls))) from exc
    return await _awaiting(_drive(flow, calls))


__all__: Sequence[str] = ("run_async", "run_sync")
