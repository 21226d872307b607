"""A node restarted from its RDB snapshot or its AOF comes back with its entries searchable.

The cache object lives on across the restart (no restart of the caller): while the node is
down its calls fail open, then, after the back-off, it serves the entries stored before
(semantic hits, so the index was loaded or rebuilt by the search module). A restart without
persistence (an empty server) is test_faults.test_engine_killed_and_restarted: the cache
re-creates the index by itself.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import valkey

from langchain_valkey_semcache import ValkeySemanticCache
from langchain_valkey_semcache.engine import LocalEngine, free_port
from tests.conftest import Api
from tests.traffic import known_items, questions

KNOWN = 200
BACK_OFF = 1.0
TIMEOUT = 0.5
# How long the restarted node may take to load and index KNOWN entries, and the cache to
# notice it, on a loaded 2-core machine (measured: see docs/reliability.md).
LOAD_BOUND = 5.0
PERSISTENCE = {
    "rdb": ("--dbfilename", "dump.rdb"),
    "aof": ("--appendonly", "yes", "--appendfsync", "always"),
}


@pytest.fixture
def data_dir() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="semcache-restart-") as path:
        yield path


@pytest.mark.parametrize(("persistence", "mode"), [("rdb", "sync"), ("aof", "async")])
async def test_restart_from_disk_serves_the_old_entries(
    data_dir: str, index_name: str, persistence: str, mode: str
) -> None:
    port = free_port()
    args = ("--dir", data_dir, *PERSISTENCE[persistence])
    emb, paraphrases = questions(KNOWN)
    node = LocalEngine(port=port, args=args).start()
    try:
        cache = ValkeySemanticCache(emb, url=node.url, index_name=index_name, verifier=None,
                                    socket_timeout_seconds=TIMEOUT,
                                    retry_after_seconds=BACK_OFF)  # fmt: skip
        api = Api(cache, mode)
        assert all(await api.store_many(known_items(KNOWN)))
        if persistence == "rdb":
            valkey.Valkey(port=port).save()  # the snapshot a backup or a shutdown writes
        assert node.process is not None
        node.process.kill()  # a crash: nothing more reaches the disk
        node.process.wait()
    finally:
        node.stop()  # the data directory is the test's, not the engine's: it stays
    assert (await api.search("like known 1")).hit is None  # down: a counted miss
    assert any(Path(data_dir).iterdir()), "nothing was persisted"

    restarted = LocalEngine(port=port, args=args).start()
    try:
        started = time.monotonic()
        deadline = started + BACK_OFF + LOAD_BOUND
        while (hit := (await api.search("like known 1")).hit) is None:
            assert time.monotonic() < deadline, cache.stats()
            time.sleep(0.05)
        first_hit = time.monotonic() - started
        assert hit.answer == "answer 1" and not hit.exact
        served = 0
        for asked, want in paraphrases.items():
            result = await api.search(asked)
            assert result.hit is None or result.hit.answer == want, asked
            served += result.hit is not None
        print(f"\nrestart from {persistence}: first hit {first_hit:.2f} s after the node "
              f"answered (back-off {BACK_OFF} s), {served}/{KNOWN} paraphrases served")  # fmt: skip
        assert served == KNOWN
        assert cache.stats().by_error.get("CacheUnavailableError", 0) >= 1
    finally:
        restarted.stop()
