"""Building Valkey clients the way the cache needs them (short timeouts, no retries)."""

from __future__ import annotations

import asyncio
from typing import Any

import valkey
import valkey.asyncio as avalkey

from . import _routing
from ._config import URL_SCHEMES as _SCHEMES
from ._errors import ConfigurationError

_PORTABLE = (
    "host", "port", "db", "username", "password", "client_name",
    "socket_timeout", "socket_connect_timeout", "socket_keepalive",
)  # fmt: skip


def check_url(url: str) -> None:
    if not isinstance(url, str) or not url.startswith(_SCHEMES):
        raise ConfigurationError(
            f"url must start with one of {', '.join(_SCHEMES)}; got {url!r:.80}"
        )


def _timeouts(timeout: float, extra: dict[str, Any]) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"socket_timeout": timeout, "socket_connect_timeout": timeout}
    kwargs.update(extra)
    return kwargs


def sync_from_url(url: str, timeout: float, extra: dict[str, Any]) -> valkey.Valkey:
    check_url(url)
    return valkey.Valkey.from_url(url, **_timeouts(timeout, extra))  # type: ignore[no-any-return]


def async_from_url(url: str, timeout: float, extra: dict[str, Any]) -> avalkey.Valkey:
    check_url(url)
    return avalkey.Valkey.from_url(url, **_timeouts(timeout, extra))  # type: ignore[no-any-return]


def cluster_from_url(url: str, timeout: float, extra: dict[str, Any]) -> Any:
    """A ``ValkeyCluster`` client with the same conventions (the admin command's)."""
    import valkey.cluster

    check_url(url)
    return valkey.cluster.ValkeyCluster.from_url(url, **_timeouts(timeout, extra))  # type: ignore[no-untyped-call]


def async_like(client: Any) -> avalkey.Valkey | None:
    """An asyncio client with the connection settings of a plain sync client, if possible."""
    pool = getattr(client, "connection_pool", None)
    if not isinstance(client, valkey.Valkey) or pool is None:
        return None
    source = pool.connection_kwargs
    kwargs = {k: source[k] for k in _PORTABLE if k in source}
    if issubclass(pool.connection_class, valkey.SSLConnection):
        kwargs["ssl"] = True
        kwargs.update({k: v for k, v in source.items() if k.startswith("ssl_")})
    elif issubclass(pool.connection_class, valkey.UnixDomainSocketConnection):
        kwargs = {k: v for k, v in kwargs.items() if k not in ("host", "port")}
        kwargs["unix_socket_path"] = source.get("path")
    return avalkey.Valkey(**kwargs)


class LoopBound:
    """One asyncio client per event loop (a client must not cross loops)."""

    def __init__(self, factory: Any) -> None:
        self._factory = factory
        self._client: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def get(self) -> Any:
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:
            self._client, self._loop = self._factory(), loop
        return self._client

    async def aclose(self) -> None:
        if self._client is not None and self._loop is asyncio.get_running_loop():
            await self._client.aclose()
        self._client = None


def pair(
    url: str | None, client: Any, async_client: Any, timeout: float, extra: dict[str, Any]
) -> tuple[Any, LoopBound | None]:
    """The cache's sync client and its asyncio clients (one per loop) from what it was
    given; no asyncio client (None) for e.g. a cluster client: the async path then runs
    the sync path in a thread."""
    sync = sync_from_url(url, timeout, extra) if client is None and url is not None else client
    if async_client is not None:
        return sync, LoopBound(lambda: async_client)
    if url is not None:
        return sync, LoopBound(lambda: async_from_url(url, timeout, extra))
    if async_like(client) is not None:
        return sync, LoopBound(lambda: async_like(client))
    return sync, None


def check_binary_safe(compress: bool, *clients: Any) -> None:
    """Compressed answers are binary: a client that decodes every reply as text would turn
    each hit into a decode error. Refuse that pairing at construction."""
    for c in clients:
        pool = getattr(c, "connection_pool", None)
        kwargs = getattr(pool, "connection_kwargs", None) or {}
        if compress and kwargs.get("decode_responses"):
            raise ConfigurationError(
                "this client has decode_responses=True, which cannot read compressed answers: "
                "give compress_answers=False, or a client without decode_responses"
            )


class Replicas:
    """The replicas' clients (``replica_urls``) that take the lookups' reads, in turn: a
    blocking client and one asyncio client per loop for each. None when there are none."""

    def __init__(self, urls: tuple[str, ...], timeout: float, extra: dict[str, Any]) -> None:
        self._sync = _routing.RoundRobin([sync_from_url(u, timeout, extra) for u in urls])
        self._async = _routing.RoundRobin(
            [LoopBound(lambda u=u: async_from_url(u, timeout, extra)) for u in urls]
        )

    def pick(self) -> Any:
        return self._sync.pick()

    def apick(self) -> Any:
        bound = self._async.pick()
        return bound.get() if bound is not None else None

    def close(self) -> None:
        for reader in self._sync:
            reader.close()

    async def aclose(self) -> None:
        for bound in self._async:
            await bound.aclose()
