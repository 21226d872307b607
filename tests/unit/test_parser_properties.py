"""Malformed and truncated replies are a ProtocolError, never a wrong hit; accepted replies
are parsed faithfully (through a real lookup: tests/integration/test_malformed_replies.py)."""

from __future__ import annotations

import math
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from langchain_valkey_semcache import ProtocolError
from langchain_valkey_semcache import _protocol as proto
from tests.unit import replies

leaf = st.one_of(st.none(), st.integers(), st.binary(max_size=12), st.text(max_size=12),
                 st.floats(allow_nan=True))  # fmt: skip
tree = st.recursive(leaf, lambda inner: st.lists(inner, max_size=6), max_leaves=30)


def _str(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


@st.composite
def mutated_search(draw: st.DrawFn) -> Any:
    """The recorded FT.SEARCH reply with one element (top level or inside a field list)
    replaced by a random value, or removed."""
    reply: list[Any] = [replies.SEARCH[0]] + [
        list(x) if isinstance(x, list) else x for x in replies.SEARCH[1:]
    ]
    target = reply
    if draw(st.booleans()):
        target = reply[draw(st.sampled_from([2, 4]))]
    i = draw(st.integers(0, len(target) - 1))
    if draw(st.booleans()):
        del target[i]
    else:
        target[i] = draw(tree)
    return reply


def _check_faithful(reply: Any, cands: list[proto.Candidate]) -> None:
    """An accepted reply: a count, then one candidate per key with that key's own score."""
    assert isinstance(reply, list) and isinstance(reply[0], int)
    body = reply[1:]
    assert len(cands) == len(body) // 2
    by_key = {_str(body[i]): body[i + 1] for i in range(0, len(body), 2)}
    assert [c.distance for c in cands] == sorted(c.distance for c in cands)
    for c in cands:
        fields = body_fields(by_key[c.key])
        assert c.distance == float(_str(fields["score"]))
        assert math.isfinite(c.distance) and -1e-3 <= c.distance <= 2.001
        answer = fields.get("answer")
        assert c.answer == answer  # as stored: a compressed answer is not text


def body_fields(items: Any) -> dict[str, Any]:
    return {_str(items[i]): items[i + 1] for i in range(0, len(items), 2)}


@settings(max_examples=300, deadline=None)
@given(tree)
def test_parse_search_random(reply: Any) -> None:
    try:
        cands = proto.parse_search(reply)
    except ProtocolError:
        return
    _check_faithful(reply, cands)


@settings(max_examples=300, deadline=None)
@given(mutated_search())
def test_parse_search_mutated(reply: Any) -> None:
    try:
        cands = proto.parse_search(reply)
    except ProtocolError:
        return
    _check_faithful(reply, cands)


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=len(replies.SEARCH) - 1), st.data())
def test_truncated_search_replies(cut: int, data: st.DataObject) -> None:
    reply = list(replies.SEARCH[: cut + 1])
    if cut >= 2 and data.draw(st.booleans()):
        fields = list(reply[-1]) if isinstance(reply[-1], list) else []
        reply[-1] = fields[: data.draw(st.integers(0, len(fields)))]
    try:
        cands = proto.parse_search(reply)
    except ProtocolError:
        return
    _check_faithful(reply, cands)
    assert all(c.key in ("t:1", "t:2") for c in cands)


@settings(max_examples=200, deadline=None)
@given(tree)
def test_parse_entry_random(reply: Any) -> None:
    try:
        entry = proto.parse_entry(reply)
    except ProtocolError:
        return
    assert isinstance(reply, list) and len(reply) == len(proto.ENTRY_FIELDS)
    if entry is None:
        assert None in reply
        return
    assert [entry.prompt, entry.answer, entry.part, entry.ns] == [_str(v) for v in reply[:4]]
    assert not math.isnan(entry.expires_at)


@settings(max_examples=200, deadline=None)
@given(tree)
def test_parse_info_and_modules_random(reply: Any) -> None:
    try:
        info = proto.parse_info(reply)
    except ProtocolError:
        pass
    else:
        assert isinstance(info.num_docs, int) and isinstance(info.indexing_failures, int)
        assert info.dim is None or isinstance(info.dim, int)
    try:
        engine = proto.parse_modules(reply)
    except ProtocolError:
        return
    assert isinstance(reply, list)
    assert engine.listed in (True, False) and engine.name is None  # the name comes from FT.INFO


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(st.sampled_from([b"num_docs", b"attributes", b"hash_indexing_failures"]), tree)
)
def test_parse_info_with_known_keys(fields: dict[bytes, Any]) -> None:
    reply = [item for pair in fields.items() for item in pair]
    try:
        info = proto.parse_info(reply)
    except ProtocolError:
        return
    assert info.num_docs == int(fields.get(b"num_docs", 0))  # type: ignore[call-overload]
    assert info.indexing_failures == int(fields.get(b"hash_indexing_failures", 0))  # type: ignore[call-overload]
