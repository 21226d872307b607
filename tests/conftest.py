from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from langchain_valkey_semcache.engine import LocalEngine


@pytest.fixture(scope="session")
def engine() -> Iterator[LocalEngine]:
    """Engine A: valkey-server + search module, once per session. Fails, never skips."""
    with LocalEngine() as eng:
        yield eng


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
