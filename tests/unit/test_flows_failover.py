"""READONLY after a failover, with scripted replies and stand-in clients (no server): the
flow gets the error, the driver's client-error hook drops the idle pooled connections, and
the cache does not back off (the next call reaches the new primary)."""

from __future__ import annotations

from typing import Any

import pytest
import valkey.exceptions as vex
from langchain_core.outputs import Generation

from langchain_valkey_semcache import _protocol as proto
from langchain_valkey_semcache._config import CacheConfig
from langchain_valkey_semcache._errors import (
    CacheUnavailableError,
    NotPrimaryError,
    ProtocolError,
    SemanticCacheError,
)
from langchain_valkey_semcache._flows import CacheCore
from langchain_valkey_semcache._io import run_async, run_sync
from langchain_valkey_semcache._prompt import PromptParts
from tests.support import TableEmbeddings
from tests.unit import replies
from tests.unit.scripted import FakeClock, run

VEC = [1.0, 0.0, 0.0, 0.0]
FIRST = [[replies.MODULES_VALKEY_SEARCH_12], [replies.VALKEY_SEARCH_12_INFO], None]
NO_ENTRY = [[None] * len(proto.ENTRY_FIELDS)]
READONLY = proto.translate(vex.ReadOnlyError(replies.ERR_READONLY))


def core(clock: FakeClock) -> CacheCore:
    return CacheCore(CacheConfig(index_name="idx", key_prefix="t:"), clock=clock)


def test_a_store_that_meets_readonly_fails_and_the_cache_does_not_back_off() -> None:
    clock = FakeClock()
    c = core(clock)
    assert isinstance(READONLY, NotPrimaryError)
    store = c.store(PromptParts("What is a cache?"), "llm", [Generation(text="x")])
    with pytest.raises(NotPrimaryError, match="no longer the primary"):
        run(store, VEC, *FIRST, READONLY)
    c.failed(READONLY, "store")
    assert not c.backing_off()
    # The very next lookup goes to the server (no skip), and a store is tried again.
    _, names = run(c.lookup(PromptParts("Another question?"), "llm"), NO_ENTRY, VEC, [[0]])
    assert names == ["HMGET", "Embed", "FT.SEARCH"]
    # An outage, by contrast, backs off until the clock passes retry_after_seconds.
    c.failed(CacheUnavailableError("down"), "lookup")
    assert c.backing_off()


def test_a_readonly_reply_in_a_pipeline_never_reads_the_prompt() -> None:
    err = proto.translate(vex.ReadOnlyError(replies.ERR_READONLY_PIPELINE))
    assert isinstance(err, NotPrimaryError) and "busy room" not in str(err)


class _Pool:
    """A blocking pool: records what the hook asks it to drop."""

    def __init__(self) -> None:
        self.dropped: list[bool] = []

    def disconnect(self, inuse_connections: bool = True) -> None:
        self.dropped.append(inuse_connections)


class _Demoted:
    """A blocking client whose node a failover made a replica: every write says READONLY."""

    def __init__(self, error: Exception) -> None:
        self.connection_pool = _Pool()
        self.error = error

    def execute_command(self, *command: Any, **route: Any) -> Any:
        raise self.error


@pytest.mark.parametrize(
    ("error", "kind", "dropped"),
    [
        (vex.ReadOnlyError(replies.ERR_READONLY), NotPrimaryError, [False]),
        (vex.ConnectionError("Connection refused"), CacheUnavailableError, [False]),
        (vex.ResponseError("ERR something else"), ProtocolError, []),
    ],
)
def test_the_blocking_driver_drops_the_idle_connections(
    error: Exception, kind: type[SemanticCacheError], dropped: list[bool]
) -> None:
    client = _Demoted(error)
    with pytest.raises(kind) as caught:
        run_sync(core(FakeClock()).forget("t:ns:k"), client, TableEmbeddings(dims=4))
    assert caught.value.__cause__ is error
    assert client.connection_pool.dropped == dropped  # idle only: in-use ones finish


class _Connection:
    def __init__(self) -> None:
        self.closed: list[bool] = []

    async def disconnect(self, nowait: bool = False) -> None:
        self.closed.append(nowait)


class _AsyncPool:
    def __init__(self) -> None:
        self._available_connections = [_Connection(), _Connection()]


class _AsyncDemoted:
    def __init__(self) -> None:
        self.connection_pool = _AsyncPool()

    async def execute_command(self, *command: Any, **route: Any) -> Any:
        raise vex.ReadOnlyError(replies.ERR_READONLY)


async def test_the_asyncio_driver_closes_the_idle_connections_at_once() -> None:
    client = _AsyncDemoted()
    c = core(FakeClock())
    with pytest.raises(NotPrimaryError):
        await run_async(c.forget("t:ns:k"), client, TableEmbeddings(dims=4))
    closed = [conn.closed for conn in client.connection_pool._available_connections]
    assert closed == [[True], [True]]  # nowait: no other task takes one half closed
    c.failed(READONLY, "forget")
    assert not c.backing_off()
