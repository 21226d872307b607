"""Stored answers on a real engine: compressed frames and the plain JSON of older entries
are both served exactly, by key (exact repeat) and by vector search."""

from __future__ import annotations

import pytest
import valkey
from langchain_core.load import dumps
from langchain_core.messages import AIMessage
from langchain_core.outputs import ChatGeneration

from langchain_valkey_semcache import ConfigurationError, ValkeySemanticCache, _codec
from langchain_valkey_semcache.engine import LocalEngine
from tests.conftest import Api
from tests.support import TableEmbeddings, at_similarity

LONG = " ".join(f"Step {i}: the cached answer goes on with one more detail." for i in range(30))
ASKED, NEAR = "how do i reset my router", "how can i reset my router"


def generation() -> list[ChatGeneration]:
    message = AIMessage(
        content=LONG,
        tool_calls=[{"name": "lookup", "args": {"model": "x1", "n": 2}, "id": "c1"}],
        usage_metadata={"input_tokens": 9, "output_tokens": 300, "total_tokens": 309},
        id="run-7",
    )
    return [ChatGeneration(message=message, generation_info={"finish_reason": "tool_calls"})]


def _cache(engine: LocalEngine, index_name: str, **kw: object) -> ValkeySemanticCache:
    emb = TableEmbeddings({ASKED: at_similarity(1.0), NEAR: at_similarity(0.97)})
    return ValkeySemanticCache(emb, url=engine.url, index_name=index_name, on_error="raise", **kw)  # type: ignore[arg-type]


async def test_tool_call_generation_is_served_exactly(
    engine: LocalEngine, index_name: str, mode: str
) -> None:
    cache = _cache(engine, index_name)
    api = Api(cache, mode)
    await api.update(ASKED, "m", generation())
    client = valkey.Valkey.from_url(engine.url)
    [key] = client.keys(f"{index_name}:*")
    stored = client.hget(key, "answer")
    assert stored.startswith(_codec.ZSTD_MAGIC) and len(stored) < len(dumps(generation())) / 2
    assert await api.lookup(ASKED, "m") == generation()  # by key
    assert await api.lookup(NEAR, "m") == generation()  # by vector search
    client.close()


async def test_entries_written_as_plain_json_are_served(
    engine: LocalEngine, index_name: str, mode: str
) -> None:
    cache = _cache(engine, index_name)
    api = Api(cache, mode)
    await api.update(ASKED, "m", generation())
    client = valkey.Valkey.from_url(engine.url)
    [key] = client.keys(f"{index_name}:*")
    client.hset(key, "answer", dumps(generation()))  # the form of entries before _codec
    assert await api.lookup(ASKED, "m") == generation()
    assert await api.lookup(NEAR, "m") == generation()
    client.close()


async def test_compress_answers_false_stores_text(
    engine: LocalEngine, index_name: str, mode: str
) -> None:
    cache = _cache(engine, index_name, compress_answers=False)
    api = Api(cache, mode)
    await api.update(ASKED, "m", generation())
    client = valkey.Valkey.from_url(engine.url, decode_responses=True)
    [key] = client.keys(f"{index_name}:*")
    assert client.hget(key, "answer").startswith("[")
    assert await api.lookup(NEAR, "m") == generation()
    client.close()


def test_a_client_that_decodes_replies_needs_compression_off(
    engine: LocalEngine, index_name: str
) -> None:
    """A decode_responses client cannot read compressed (binary) answers: refused at
    construction with what to change, for a given client and for client_kwargs; with
    compress_answers=False it stores and serves text."""
    emb = TableEmbeddings({ASKED: at_similarity(1.0, 8)}, dims=8)
    decoding = valkey.Valkey.from_url(engine.url, decode_responses=True)
    for kwargs in (
        {"client": decoding},
        {"url": engine.url, "client_kwargs": {"decode_responses": True}},
    ):
        with pytest.raises(ConfigurationError, match="compress_answers=False"):
            ValkeySemanticCache(emb, index_name=index_name, **kwargs)  # type: ignore[arg-type]
    cache = ValkeySemanticCache(emb, client=decoding, index_name=index_name, compress_answers=False)
    cache.store(ASKED, LONG)
    hit = cache.check(ASKED)
    assert hit is not None and hit.answer == LONG
    cache.drop_index()
