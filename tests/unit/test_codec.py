"""How answers are stored: lean JSON, zstd above a size; every older form stays readable."""

from __future__ import annotations

import json

import pytest
import zstandard
from langchain_core.load import dumps
from langchain_core.messages import AIMessage
from langchain_core.outputs import ChatGeneration, Generation

from langchain_valkey_semcache import ProtocolError, _codec
from langchain_valkey_semcache._entry import deserialize, serialize

LONG = " ".join(f"Sentence {i} explains one more detail of the cached answer." for i in range(40))


def tool_call_generation() -> list[ChatGeneration]:
    message = AIMessage(
        content=[{"type": "text", "text": LONG}, {"type": "text", "text": " And more."}],
        tool_calls=[
            {
                "name": "search",
                "args": {"q": "valkey", "k": 3},
                "id": "call_1",
                "type": "tool_call",
            },
            {"name": "fetch", "args": {"url": "https://x.test/é"}, "id": "call_2"},
        ],
        usage_metadata={"input_tokens": 12, "output_tokens": 345, "total_tokens": 357},
        response_metadata={"model_name": "m", "stop_reason": "tool_use"},
        id="run-42",
    )
    return [ChatGeneration(message=message, generation_info={"finish_reason": "tool_calls"})]


def test_chat_generation_with_tool_calls_round_trips_exactly() -> None:
    gens = tool_call_generation()
    stored = serialize(gens, 10_000_000)
    assert isinstance(stored, bytes) and stored.startswith(_codec.ZSTD_MAGIC)
    back = deserialize(stored)
    assert back == gens
    assert back[0].text == gens[0].text
    assert isinstance(back[0], ChatGeneration)
    assert back[0].message.tool_calls == gens[0].message.tool_calls  # type: ignore[attr-defined]


@pytest.mark.parametrize("compress", [True, False])
def test_the_answer_is_stored_once(compress: bool) -> None:
    gens = [ChatGeneration(message=AIMessage(content=LONG))]
    stored = serialize(gens, 10_000_000, compress)
    text = _codec.decode(stored)
    assert text.count("cached answer") == LONG.count("cached answer")
    assert deserialize(stored) == gens
    assert isinstance(stored, bytes) == compress


def test_compression_pays() -> None:
    gens = [ChatGeneration(message=AIMessage(content=LONG))]
    plain = len(dumps(gens).encode())
    stored = serialize(gens, 10_000_000)
    assert isinstance(stored, bytes) and len(stored) < plain / 2


def test_short_answers_stay_json_text() -> None:
    stored = serialize([Generation(text="ok")], 1000)
    assert isinstance(stored, str) and json.loads(stored)[0]["kwargs"]["text"] == "ok"
    assert deserialize(stored) == [Generation(text="ok")]


@pytest.mark.parametrize("as_bytes", [True, False])
def test_entries_written_before_compression_are_readable(as_bytes: bool) -> None:
    gens = [*tool_call_generation(), Generation(text=LONG)]
    old = dumps(gens)  # what serialize stored before: full JSON with ChatGeneration.text
    assert deserialize(old.encode() if as_bytes else old) == gens


def test_max_answer_bytes_counts_the_json() -> None:
    from langchain_valkey_semcache import InvalidInputError

    with pytest.raises(InvalidInputError, match="max_answer_bytes"):
        serialize([Generation(text=LONG)], 100)


@pytest.mark.parametrize(
    "stored",
    [
        _codec.ZSTD_MAGIC + b"\x00garbage",
        zstandard.ZstdCompressor().compress(b"not json"),
        zstandard.ZstdCompressor().compress(b"\xff\xfe"),
        b"\xff\xfe not utf-8",
    ],
)
def test_corrupt_stored_answers_are_protocol_errors(stored: bytes) -> None:
    with pytest.raises(ProtocolError):
        deserialize(stored)


def test_a_frame_declaring_a_huge_size_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    frame = zstandard.ZstdCompressor().compress(dumps([Generation(text=LONG)]).encode())
    assert deserialize(frame) == [Generation(text=LONG)]
    monkeypatch.setattr(_codec, "MAX_DECODED_BYTES", 1000)
    with pytest.raises(ProtocolError):
        deserialize(frame)
