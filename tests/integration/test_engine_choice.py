"""Engine choice: which module the local engine loads, and what the cache learns of it."""

from __future__ import annotations

import pytest
import valkey

from langchain_valkey_semcache import ValkeySemanticCache
from langchain_valkey_semcache import _protocol as proto
from langchain_valkey_semcache.engine import (
    SEARCH_MODULE_ENV,
    EngineError,
    LocalEngine,
    redisearch_module,
    search_module,
)
from tests.conftest import Api
from tests.support import TableEmbeddings, at_similarity


def test_module_from_argument_then_environment_then_redisearch(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    monkeypatch.delenv(SEARCH_MODULE_ENV, raising=False)
    assert search_module() == redisearch_module()
    fake = tmp_path / "libsearch.so"  # type: ignore[operator]
    fake.write_bytes(b"")
    monkeypatch.setenv(SEARCH_MODULE_ENV, str(fake))
    assert search_module() == fake.resolve()
    assert search_module("redisearch") == redisearch_module()
    with pytest.raises(EngineError, match=SEARCH_MODULE_ENV):
        search_module("/no/such/module.so")


def test_module_arguments_reach_the_module(search_engine: str) -> None:
    # Module arguments starting with "--" only pass through a config file line.
    args = (
        ("--use-coordinator",)
        if search_engine == proto.VALKEY_SEARCH
        else ("MAXDOCTABLESIZE", "1000")
    )
    with LocalEngine(module_args=args) as eng:
        modules = valkey.Valkey(port=eng.port).execute_command("MODULE", "LIST")
        search = [dict(zip(m[::2], m[1::2], strict=True)) for m in modules]
        [entry] = [m for m in search if m[b"name"] == b"search"]
        assert tuple(a.decode() for a in entry[b"args"]) == args


async def test_engine_learned_by_what_it_accepts(
    engine: LocalEngine, index_name: str, mode: str, search_engine: str
) -> None:
    """RediSearch gets HYBRID_POLICY BATCHES only after accepting it; valkey-search, which
    rejects the clause, never gets it, and both serve semantic hits without an error."""
    emb = TableEmbeddings({"q": at_similarity(1.0), "like q": at_similarity(0.97)})
    cache = ValkeySemanticCache(emb, url=engine.url, index_name=index_name, on_error="raise")
    api = Api(cache, mode)
    await api.store("q", "answer")
    hit = await api.check("like q")
    assert hit is not None and not hit.exact and hit.answer == "answer"
    facts = cache._core.index.engine
    assert facts.listed is True and facts.name == search_engine
    assert facts.hybrid_policy is (search_engine == proto.REDISEARCH)
    assert cache.stats().errors == 0
