"""Malformed and truncated replies are a ProtocolError, never a wrong hit."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from langchain_valkey_semcache import ProtocolError
from langchain_valkey_semcache import _protocol as proto
from tests.unit import replies

leaf = st.one_of(st.none(), st.integers(), st.binary(max_size=12), st.text(max_size=12),
                 st.floats(allow_nan=True))  # fmt: skip
tree = st.recursive(leaf, lambda inner: st.lists(inner, max_size=6), max_leaves=30)


@settings(max_examples=400, deadline=None)
@given(tree)
def test_parse_search_random(reply: Any) -> None:
    try:
        cands = proto.parse_search(reply)
    except ProtocolError:
        return
    for c in cands:
        assert -1.0 <= c.similarity <= 1.0 and isinstance(c.key, str)


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
    assert all(c.key in ("t:1", "t:2") for c in cands)


@settings(max_examples=300, deadline=None)
@given(tree)
def test_parse_entry_and_info_random(reply: Any) -> None:
    for parse in (proto.parse_entry, proto.parse_info, proto.parse_modules):
        try:
            parse(reply)
        except ProtocolError:
            pass


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(st.sampled_from([b"num_docs", b"attributes", b"hash_indexing_failures"]), tree)
)
def test_parse_info_with_known_keys(fields: dict[bytes, Any]) -> None:
    reply = [item for pair in fields.items() for item in pair]
    try:
        proto.parse_info(reply)
    except ProtocolError:
        pass
