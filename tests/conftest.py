from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlparse

import pytest

from langchain_valkey_semcache.engine import LocalEngine

# The integration suite runs on the search module named by SEMCACHE_SEARCH_MODULE (a path
# to a module .so, default RediSearch); SEMCACHE_TEST_URL points it at a running server.
TEST_URL_ENV = "SEMCACHE_TEST_URL"


class RunningServer:
    """A server someone else runs (``SEMCACHE_TEST_URL``): the parts of LocalEngine the
    tests read."""

    def __init__(self, url: str) -> None:
        self.url = url
        parsed = urlparse(url)
        self.host = parsed.hostname or "127.0.0.1"
        self.port = parsed.port or 6379


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Soak tests run only when the marker expression names them (``-m soak``)."""
    if "soak" in (config.getoption("markexpr") or ""):
        return
    skip = pytest.mark.skip(reason="a soak run: select it with -m soak")
    for item in items:
        if "soak" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def engine() -> Iterator[LocalEngine]:
    """valkey-server + search module, once per session. Fails, never skips."""
    url = os.environ.get(TEST_URL_ENV)
    if url:
        yield RunningServer(url)  # type: ignore[misc]
        return
    with LocalEngine() as eng:
        yield eng


def engine_name(url: str) -> str | None:
    """Which search module a server runs, as a cache learns it (``ValkeySemanticCache.engine``)."""
    from langchain_valkey_semcache import ValkeySemanticCache
    from tests.support import TableEmbeddings

    name = f"probe_{uuid.uuid4().hex[:8]}"
    cache = ValkeySemanticCache(TableEmbeddings(dims=2), url=url, index_name=name, dims=2)
    try:
        return cache.engine[0]
    finally:
        cache.drop_index()
        cache.close()


@pytest.fixture(scope="session")
def search_engine(engine: LocalEngine) -> str | None:
    """``proto.REDISEARCH`` or ``proto.VALKEY_SEARCH``: the engine under test."""
    return engine_name(engine.url)


@pytest.fixture
def index_name() -> str:
    return f"t_{uuid.uuid4().hex[:12]}"


class Api:
    """Calls the sync or the async twin of a cache method, so one test covers both."""

    def __init__(self, cache: Any, mode: str) -> None:
        self.cache = cache
        self.mode = mode

    def __getattr__(self, name: str) -> Any:
        if self.mode == "sync":
            method = getattr(self.cache, name)

            async def call_sync(*args: Any, **kwargs: Any) -> Any:
                return method(*args, **kwargs)

            return call_sync
        return getattr(self.cache, "a" + name)


@pytest.fixture(params=["sync", "async"])
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)
