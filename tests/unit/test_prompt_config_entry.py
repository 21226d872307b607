from __future__ import annotations

import pytest
from langchain_core.load import dumps
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, Generation

from langchain_valkey_semcache import (
    CacheConfig,
    ConfigurationError,
    ProtocolError,
    ValkeySemanticCache,
)
from langchain_valkey_semcache._entry import deserialize, serialize, to_generations
from langchain_valkey_semcache._errors import InvalidInputError
from langchain_valkey_semcache._prompt import digest, normalize, split_langchain_prompt
from tests.support import TableEmbeddings


def test_plain_prompt_is_embedded_whole() -> None:
    assert split_langchain_prompt("Tell me a joke").text == "Tell me a joke"
    assert split_langchain_prompt('["lc" but not json').text == '["lc" but not json'


def test_chat_prompt_embeds_last_human_text_only() -> None:
    msgs = [SystemMessage("be brief"), HumanMessage("hi"), AIMessage("hello"),
            HumanMessage([{"type": "text", "text": "What is X?"}])]  # fmt: skip
    parts = split_langchain_prompt(dumps(msgs))
    assert parts.text == "What is X?"
    assert "be brief" in parts.context and "hello" in parts.context
    alone = split_langchain_prompt(dumps([HumanMessage("What is X?")]))
    assert alone.text == "What is X?" and alone.context == ""


def test_tool_turns_and_images_go_to_context() -> None:
    call = AIMessage("", tool_calls=[{"name": "w", "args": {}, "id": "1"}])
    turns = [HumanMessage("weather?"), call, ToolMessage("sunny", tool_call_id="1")]
    with_tool = split_langchain_prompt(dumps(turns))
    assert with_tool.text == "weather?" and "sunny" in with_tool.context
    image = split_langchain_prompt(dumps([HumanMessage([
        {"type": "text", "text": "what is this?"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAA"}}])]))  # fmt: skip
    assert image.text == "what is this?" and "AAA" in image.context


def test_normalize_and_digest() -> None:
    assert normalize("  a\t b\n") == "a b"
    assert normalize("\uff21") == "A"
    assert digest("ab", "c") != digest("a", "bc")
    assert len(digest("x")) == 32 and digest("x").isalnum()


@pytest.mark.parametrize(
    "kwargs",
    [{"similarity_threshold": 1.5}, {"similarity_threshold": -0.1}, {"similarity_threshold": True},
     {"ttl_seconds": 0}, {"ttl_seconds": 1.5}, {"index_name": "bad name"}, {"candidates": 0},
     {"on_error": "ignore"}, {"socket_timeout_seconds": float("nan")}, {"dims": 0},
     {"key_prefix": "a b"}, {"max_prompt_chars": 0}],
)  # fmt: skip
def test_config_rejects(kwargs: dict[str, object]) -> None:
    with pytest.raises(ConfigurationError):
        CacheConfig(**kwargs)  # type: ignore[arg-type]


def test_config_threshold_message_explains_seed_conversion() -> None:
    with pytest.raises(ConfigurationError, match=r"2\*s - 1"):
        CacheConfig(similarity_threshold=2.0)
    assert CacheConfig(index_name="abc").prefix == "abc:"


def test_serialize_round_trip_and_limits() -> None:
    gens = [
        ChatGeneration(
            message=AIMessage("x", tool_calls=[{"name": "f", "args": {"a": 1}, "id": "c"}])
        )
    ]
    assert deserialize(serialize(gens, 10_000)) == gens
    with pytest.raises(InvalidInputError):
        serialize([Generation(text="y" * 100)], 50)
    with pytest.raises(InvalidInputError):
        serialize([Generation(text="x", generation_info={"o": object()})], 10_000)
    for bad in (
        "not json",
        "[]",
        '{"lc": 1}',
        '[{"lc": 1, "type": "constructor", "id": ["os", "system"]}]',
    ):
        with pytest.raises(ProtocolError):
            deserialize(bad)


def test_to_generations() -> None:
    assert to_generations("a") == [Generation(text="a")]
    assert isinstance(to_generations(AIMessage("b"))[0], ChatGeneration)
    with pytest.raises(InvalidInputError):
        to_generations([])


def test_a_cache_needs_somewhere_to_live() -> None:
    with pytest.raises(ConfigurationError, match="give url=, client= or async_client="):
        ValkeySemanticCache(TableEmbeddings())
