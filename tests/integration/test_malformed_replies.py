"""Malformed replies fed through a real lookup: a ProtocolError miss, never a hit.

The client is a real ``valkey.Valkey`` talking to the real engine; only the reply to one
command is replaced on its way back (fault injection), by a value that is malformed in one
of the ways a broken server, proxy or module could answer.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import valkey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from langchain_valkey_semcache import ValkeySemanticCache
from langchain_valkey_semcache.engine import LocalEngine
from tests.support import TableEmbeddings, at_similarity

STORED, ASKED = "What is semantic caching?", "What does semantic caching mean?"


class ReplyRewritingClient(valkey.Valkey):
    """A real client; ``rewrite[COMMAND]`` replaces that command's reply after the server
    answered it (the command itself runs on the server as usual)."""

    rewrite: dict[str, Callable[[Any], Any]]
    seen: dict[str, Any]

    def execute_command(self, *args: Any, **options: Any) -> Any:
        reply = super().execute_command(*args, **options)
        name = str(args[0]).upper()
        self.seen[name] = reply
        fn = self.rewrite.get(name)
        return reply if fn is None else fn(reply)


def _not_a_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return True
    return False


junk = st.one_of(st.none(), st.integers(), st.text(max_size=8), st.lists(st.integers(), max_size=3))
bad_number = st.one_of(
    st.text(max_size=8).filter(_not_a_float),
    st.sampled_from(["nan", "NaN", "-nan"]),
).map(str.encode)
bad_distance = st.one_of(
    bad_number,
    st.floats(allow_nan=False)
    .filter(lambda d: not -1e-3 <= d <= 2.001)
    .map(lambda d: repr(d).encode()),
    st.sampled_from([b"inf", b"-inf"]),
)
bad_answer = st.one_of(
    st.text(max_size=20).filter(lambda t: t.strip() not in ("", "[]") and _not_json(t)),
    st.sampled_from(
        [
            "[]",
            "{}",
            '"text"',
            "[1, 2]",
            '[{"lc": 1, "type": "constructor", "id": ["os", "system"]}]',
            '[{"lc": 1, "type": "secret", "id": ["K"]}]',
        ]
    ),
).map(str.encode)


def _not_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return True
    return False


@st.composite
def bad_search(draw: st.DrawFn, good: list[Any]) -> list[Any] | Any:
    """A malformed FT.SEARCH reply derived from a real one (whose first hit would be served)."""
    reply: list[Any] = [good[0]] + [list(x) if isinstance(x, list) else x for x in good[1:]]
    fields = reply[2]
    index = {fields[i].decode(): i + 1 for i in range(0, len(fields), 2)}
    kinds = ["not a list", "count", "truncated", "odd fields", "key",
             "score", "no score", "answer", "no answer", "expiry"]  # fmt: skip
    kind = draw(st.sampled_from(kinds))
    if kind == "not a list":
        return draw(st.one_of(st.none(), st.integers(), st.binary(max_size=8)))
    if kind == "count":
        reply[0] = draw(st.one_of(st.none(), st.text(max_size=3), st.binary(max_size=3)))
    elif kind == "truncated":  # a key without its fields
        reply = reply[:2]
    elif kind == "odd fields":
        del fields[draw(st.integers(0, len(fields) - 1))]
    elif kind == "key":
        reply[1] = draw(st.one_of(st.none(), st.integers(), st.lists(st.integers(), max_size=2)))
    elif kind == "score":
        fields[index["score"]] = draw(bad_distance)
    elif kind == "no score":
        i = index["score"]
        del fields[i - 1 : i + 1]
    elif kind == "answer":
        fields[index["answer"]] = draw(bad_answer)
    elif kind == "no answer":  # a nil value, or the pair left out
        i = index["answer"]
        if draw(st.booleans()):
            fields[i] = None
        else:
            del fields[i - 1 : i + 1]
    else:
        fields[index["expires_at"]] = draw(bad_number)
    return reply


@st.composite
def bad_entry(draw: st.DrawFn, good: list[Any]) -> Any:
    """A malformed HMGET reply for the exact-repeat path (no missing field: that is a
    legitimate "not here", which falls through to the vector search)."""
    reply = list(good)
    kind = draw(st.sampled_from(["not a list", "length", "type", "answer", "expiry"]))
    if kind == "not a list":
        return draw(st.one_of(st.none(), st.integers(), st.binary(max_size=8)))
    if kind == "length":
        n = draw(st.integers(0, 8).filter(lambda n: n != len(good)))
        return (reply * 2)[:n]
    if kind == "type":
        reply[draw(st.integers(0, len(reply) - 1))] = draw(
            st.one_of(st.integers(), st.lists(st.integers(), max_size=2))
        )
    elif kind == "answer":
        reply[1] = draw(bad_answer)
    else:
        reply[4] = draw(bad_number)
    return reply


def test_malformed_replies_through_a_lookup(engine: LocalEngine, index_name: str) -> None:
    emb = TableEmbeddings({STORED: at_similarity(1.0), ASKED: at_similarity(0.97)})
    client = ReplyRewritingClient.from_url(engine.url)
    client.rewrite, client.seen = {}, {}
    cache = ValkeySemanticCache(emb, client=client, index_name=index_name, verifier=None)
    cache.store(STORED, "the answer")
    assert cache.check(ASKED).answer == "the answer"  # type: ignore[union-attr]
    good_search = client.seen["FT.SEARCH"]
    assert cache.check(STORED).exact  # type: ignore[union-attr]
    good_entry = client.seen["HMGET"]
    assert cache.stats().errors == 0

    @settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.data())
    def lookup_with(data: st.DataObject) -> None:
        if data.draw(st.booleans()):
            command, asked = "FT.SEARCH", ASKED
            bad = data.draw(bad_search(good_search))
        else:
            command, asked = "HMGET", STORED
            bad = data.draw(bad_entry(good_entry))
        client.rewrite = {command: lambda _reply: bad}
        cache.reset_stats()
        result = cache.search(asked)
        assert result.hit is None and result.error == "ProtocolError", (command, bad, result)
        assert cache.stats().by_error == {"ProtocolError": 1}

    try:
        lookup_with()
    finally:
        client.rewrite = {}
    assert cache.check(ASKED).answer == "the answer"  # type: ignore[union-attr]
