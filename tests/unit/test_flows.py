"""Every flow driven by scripted replies, no server: the effects it yields, in order.

This is where the rare branches are cheap: an engine that refuses a clause, a clock that
jumps, a verifier that raises, a cluster whose index has not spread. The integration
suite runs the same flows on the real engines.
"""

from __future__ import annotations

import copy
import math
from typing import Any

import pytest
import valkey.exceptions as vex
from langchain_core.outputs import Generation

from langchain_valkey_semcache import _protocol as proto
from langchain_valkey_semcache._config import CacheConfig
from langchain_valkey_semcache._effects import (
    Embed,
    OnPrimaries,
    Run,
    Scan,
    Sleep,
    VerifierFailed,
    Verify,
)
from langchain_valkey_semcache._entry import serialize
from langchain_valkey_semcache._errors import (
    CacheUnavailableError,
    ConfigurationError,
    IndexMismatchError,
    ProtocolError,
)
from langchain_valkey_semcache._flows import CacheCore
from langchain_valkey_semcache._prompt import PromptParts
from tests.unit import replies
from tests.unit.scripted import FakeClock, Script, run

ANSWER = serialize([Generation(text="cached")], 10_000)
NO_ENTRY = [[None] * len(proto.ENTRY_FIELDS)]
VEC = [1.0, 0.0, 0.0, 0.0]
HYBRID_REFUSED = proto.translate(vex.ResponseError(replies.ERR_HYBRID_POLICY))
MISSING = proto.translate(vex.ResponseError(replies.ERR_UNKNOWN_INDEX_VALKEY_SEARCH))
# valkey-search at first use: MODULE LIST, FT.INFO, the cluster check (None: not a cluster).
VALKEY_SEARCH_FIRST = [[replies.MODULES_VALKEY_SEARCH_12], [replies.VALKEY_SEARCH_12_INFO], None]
FIRST_NAMES = ["MODULE LIST", "FT.INFO", "OnPrimaries FT.INFO"]


def core(clock: FakeClock | None = None, **settings: Any) -> CacheCore:
    config = CacheConfig(index_name="idx", key_prefix="t:", **settings)
    return CacheCore(config, clock=clock or FakeClock())


def search_reply(*hits: tuple[str, float, str | None, float]) -> list[Any]:
    """An FT.SEARCH reply: (key, distance, answer or None, expires_at) per hit."""
    body: list[Any] = [len(hits)]
    for key, distance, answer, expires in hits:
        fields = [b"score", repr(distance).encode(), b"prompt", b"stored question"]
        if answer is not None:
            fields += [b"answer", answer.encode()]
        body += [key.encode(), [*fields, b"expires_at", repr(expires).encode()]]
    return body


NEAR = search_reply(("t:1", 0.02, ANSWER, math.inf))
ASK = PromptParts("What is a cache?")


def lookup(c: CacheCore, *replies_: Any, text: str = "What is a cache?") -> tuple[Any, list[str]]:
    return run(c.lookup(PromptParts(text), "llm"), *replies_)


# -- lookup ------------------------------------------------------------------------------


def test_semantic_hit_on_a_fresh_cache() -> None:
    result, names = lookup(core(), NO_ENTRY, VEC, *VALKEY_SEARCH_FIRST, [NEAR], True)
    assert names == ["HMGET", "Embed", *FIRST_NAMES, "FT.SEARCH", "Verify"]
    assert result.hit is not None and result.hit.answer == "cached" and not result.hit.exact
    assert result.candidates == 1 and result.rejected == 0


def test_exact_repeat_needs_no_embedding() -> None:
    c = core()
    text = "What is a cache?"
    part, ns = c.partition("llm", ""), c.namespace_tag(None)
    entry = [text.encode(), ANSWER.encode(), part.encode(), ns.encode(), b"inf"]
    result, names = lookup(c, [entry])
    assert names == ["HMGET"] and result.hit.exact and result.best_similarity == 1.0


def test_an_expired_exact_entry_is_not_served_when_the_clock_jumps() -> None:
    clock = FakeClock()
    c = core(clock)
    part, ns = c.partition("llm", ""), c.namespace_tag(None)
    expires = clock.wall() + 60
    entry = [b"What is a cache?", ANSWER.encode(), part.encode(), ns.encode(),
             repr(expires).encode()]  # fmt: skip
    assert lookup(c, [entry])[0].hit is not None
    clock.advance(61)  # the entry's EXPIRE was lost: its own expiry time still holds
    stale = search_reply(("t:1", 0.0, ANSWER, expires))
    result, names = lookup(c, [entry], VEC, *VALKEY_SEARCH_FIRST, [stale])
    assert result.hit is None and result.candidates == 0
    assert names == ["HMGET", "Embed", *FIRST_NAMES, "FT.SEARCH"]


def test_a_verifier_that_raises_rejects_and_the_next_candidate_is_asked() -> None:
    two = search_reply(("t:1", 0.01, ANSWER, math.inf), ("t:2", 0.02, ANSWER, math.inf))
    failed = VerifierFailed("RuntimeError")
    result, names = lookup(core(), NO_ENTRY, VEC, *VALKEY_SEARCH_FIRST, [two], failed, True)
    assert names[-3:] == ["FT.SEARCH", "Verify", "Verify"]
    assert result.hit is not None and result.hit.key == "t:2" and result.rejected == 1


def test_no_verifier_serves_on_similarity_alone() -> None:
    # The driver answers Verify with None when the cache has no verifier.
    result, _ = lookup(core(), NO_ENTRY, VEC, *VALKEY_SEARCH_FIRST, [NEAR], None)
    assert result.hit is not None and result.rejected == 0


def test_below_the_threshold_the_verifier_is_not_asked() -> None:
    far = search_reply(("t:1", 0.5, ANSWER, math.inf))
    result, names = lookup(core(), NO_ENTRY, VEC, *VALKEY_SEARCH_FIRST, [far])
    assert names[-1] == "FT.SEARCH" and result.hit is None and result.best_similarity == 0.5


def test_an_entry_without_answer_is_an_error_not_a_miss() -> None:
    broken = search_reply(("t:1", 0.01, None, math.inf))
    with pytest.raises(ProtocolError, match="no answer field"):
        lookup(core(), NO_ENTRY, VEC, *VALKEY_SEARCH_FIRST, [broken])


def test_skips_yield_nothing() -> None:
    result, names = lookup(core(), text="   ")
    assert names == [] and result.skipped == "empty prompt"
    c = core(max_prompt_chars=5)
    assert lookup(c)[0].skipped == "prompt over max_prompt_chars=5"


def test_back_off_after_an_outage_then_retry_when_the_clock_passed_it() -> None:
    clock = FakeClock()
    c = core(clock)
    c.failed(CacheUnavailableError("down"), "lookup")
    result, names = lookup(c)
    assert names == [] and result.skipped == "cache unavailable, retrying later"
    assert run(c.store(ASK, "llm", [Generation(text="x")]))[1] == []
    clock.advance(c.config.retry_after_seconds)
    assert lookup(c, NO_ENTRY, VEC, *VALKEY_SEARCH_FIRST, [NEAR], True)[0].hit is not None


def test_threshold_is_checked_once_where_the_config_checks_it() -> None:
    with pytest.raises(ConfigurationError, match=r"similarity_threshold .* \[0, 1\]"):
        run(core().lookup(ASK, "llm", threshold=1.5))


def test_a_dropped_index_is_recreated_and_searched_again() -> None:
    c = core()
    lookup(c, NO_ENTRY, VEC, *VALKEY_SEARCH_FIRST, [NEAR], True)
    result, names = lookup(c, NO_ENTRY, MISSING, MISSING, [b"OK"],
                           [replies.VALKEY_SEARCH_12_INFO], None, [NEAR], True)  # fmt: skip
    assert names == ["HMGET", "FT.SEARCH", "FT.INFO", "FT.CREATE", "FT.INFO",
                     "OnPrimaries FT.INFO", "FT.SEARCH", "Verify"]  # fmt: skip
    assert result.hit is not None


# -- engine learning: what the server accepts, not what it is called ----------------------


def knn_queries(script: Script) -> list[str]:
    return [str(c[2]) for e in script.effects if isinstance(e, Run) for c in e.commands
            if c[0] == "FT.SEARCH"]  # fmt: skip


def test_redisearch_shaped_engine_that_refuses_hybrid_policy() -> None:
    """FT.INFO looks like RediSearch, but the probe query with the clause is refused:
    the clause is never sent, and one KNN answers each lookup."""
    c = core()
    first = [[replies.MODULES_REDISEARCH], [replies.REDISEARCH_INFO], HYBRID_REFUSED, None]
    script = Script([NO_ENTRY, VEC, *first, [NEAR], True])
    assert script.run(c.lookup(ASK, "llm")).hit is not None
    assert script.names == ["HMGET", "Embed", "MODULE LIST", "FT.INFO", "FT.SEARCH",
                            "OnPrimaries FT.INFO", "FT.SEARCH", "Verify"]  # fmt: skip
    probe, query = knn_queries(script)
    assert "HYBRID_POLICY" in probe and "HYBRID_POLICY" not in query
    assert c.index.engine.name == proto.REDISEARCH and c.index.engine.hybrid_policy is False


def test_redisearch_that_accepts_hybrid_policy_repeats_a_short_answer_exactly() -> None:
    c = core()
    first = [[replies.MODULES_REDISEARCH], [replies.REDISEARCH_INFO], [replies.SEARCH_EMPTY], None]
    script = Script([NO_ENTRY, VEC, *first, [NEAR], [NEAR], True])
    assert script.run(c.lookup(ASK, "llm")).hit is not None
    probe, batches, planned = knn_queries(script)
    assert "HYBRID_POLICY BATCHES" in probe and "HYBRID_POLICY BATCHES" in batches
    assert "HYBRID_POLICY" not in planned  # 1 < candidates: the engine's own plan, exact
    assert c.index.engine.hybrid_policy is True


def test_valkey_search_is_never_probed_for_the_clause() -> None:
    c = core()
    script = Script([NO_ENTRY, VEC, *VALKEY_SEARCH_FIRST, [NEAR], True])
    script.run(c.lookup(ASK, "llm"))
    assert knn_queries(script) == [knn_queries(script)[0]]
    assert c.index.engine == proto.Engine(True, 66049, proto.VALKEY_SEARCH, False)


def test_probe_when_module_list_is_disabled() -> None:
    c = core()
    disabled = ProtocolError("unknown command 'MODULE'")
    _, names = run(c.probe(), disabled, MISSING)
    assert names == ["MODULE LIST", "FT.INFO"] and c.index.engine_known
    with pytest.raises(CacheUnavailableError):
        run(core().probe(), CacheUnavailableError("refused"))


def test_ensure_index_creates_then_verifies_an_existing_one() -> None:
    c = core()
    _, names = run(c.ensure_index(4), [replies.MODULES_VALKEY_SEARCH_12], MISSING, [b"OK"],
                   [replies.VALKEY_SEARCH_12_INFO], None)  # fmt: skip
    assert names == ["MODULE LIST", "FT.INFO", "FT.CREATE", "FT.INFO", "OnPrimaries FT.INFO"]
    assert run(c.ensure_index(4))[1] == []  # ready: nothing to ask
    with pytest.raises(IndexMismatchError, match="8-d vectors"):
        run(c.ensure_index(8))
    other = core()
    with pytest.raises(IndexMismatchError, match="DIM 4"):
        run(other.ensure_index(8), [replies.MODULES_VALKEY_SEARCH_12],
            [replies.VALKEY_SEARCH_12_INFO])  # fmt: skip


def test_created_concurrently_by_another_process() -> None:
    exists = proto.translate(vex.ResponseError(replies.ERR_EXISTS))
    c = core()
    _, names = run(c.ensure_index(4), [replies.MODULES_VALKEY_SEARCH_12], MISSING, exists,
                   [replies.VALKEY_SEARCH_12_INFO], None)  # fmt: skip
    assert names[-2:] == ["FT.INFO", "OnPrimaries FT.INFO"] and c.index.ready


# -- the cluster spread check ------------------------------------------------------------


def spread(clock: FakeClock, *replies_: Any) -> tuple[Any, list[str]]:
    c = core(clock)
    c.index.engine_known = True
    return run(c.index.check_spread("idx", wait=True), *replies_)


def test_spread_waits_for_the_index_to_reach_every_primary() -> None:
    clock = FakeClock()
    _, names = spread(clock, [b"info", MISSING], None, [b"info", b"info"])
    assert names == ["OnPrimaries FT.INFO", "Sleep", "OnPrimaries FT.INFO"]


def test_spread_refuses_a_cluster_without_coordinator_once_the_clock_passes() -> None:
    clock = FakeClock()

    def answer(effect: Any) -> Any:
        if isinstance(effect, OnPrimaries):
            return [b"info", MISSING, MISSING]
        clock.advance(1.0)  # each Sleep: the clock jumps a second
        return None

    script = Script(responder=answer)
    c = core(clock)
    with pytest.raises(ConfigurationError, match="exists on 1 of 3 primaries"):
        script.run(c.index.check_spread("idx", wait=True))
    assert script.names == ["OnPrimaries FT.INFO", "Sleep"] * 2 + ["OnPrimaries FT.INFO"]


def test_spread_raises_a_node_error_other_than_missing() -> None:
    with pytest.raises(CacheUnavailableError):
        spread(FakeClock(), [b"info", CacheUnavailableError("node down")])


# -- one FT.INFO refresh ------------------------------------------------------------------


def counting(c: CacheCore, found: list[Any]) -> tuple[Script, dict[str, int]]:
    """A responder for a warm core: empty HMGET, vectors, and ``found`` for each KNN."""
    counts: dict[str, int] = {}

    def answer(effect: Any) -> Any:
        if isinstance(effect, Embed):
            return VEC
        if isinstance(effect, Verify):
            return True
        command = effect.commands[0][0]
        counts[command] = counts.get(command, 0) + 1
        return {"HMGET": NO_ENTRY, "FT.SEARCH": [found],
                "FT.INFO": [replies.VALKEY_SEARCH_12_INFO]}[command]  # fmt: skip

    return Script(responder=answer), counts


def warm(clock: FakeClock, **settings: Any) -> CacheCore:
    c = core(clock, embedding_memo_size=0, **settings)
    run(c.ensure_index(4), *VALKEY_SEARCH_FIRST)
    return c


@pytest.mark.parametrize("ef", [None, 50])
def test_at_interval_zero_an_empty_lookup_sends_one_ft_info(ef: int | None) -> None:
    c = warm(FakeClock(), index_check_interval_seconds=0, hnsw_ef_runtime=ef)
    script, counts = counting(c, replies.SEARCH_EMPTY)
    script.run(c.lookup(ASK, "llm"))
    assert counts == {"HMGET": 1, "FT.SEARCH": 1, "FT.INFO": 1}


def test_a_pinned_ef_runtime_sends_no_ft_info_while_entries_are_found() -> None:
    clock = FakeClock()
    c = warm(clock, hnsw_ef_runtime=50)
    script, counts = counting(c, NEAR)
    for _ in range(3):
        clock.advance(31)
        script.run(c.lookup(ASK, "llm"))
    assert counts == {"HMGET": 3, "FT.SEARCH": 3}


@pytest.mark.parametrize("found", [replies.SEARCH_EMPTY, NEAR])
def test_ft_info_at_most_once_per_interval(found: list[Any]) -> None:
    """Every 5 s for 2 minutes: one FT.INFO per 30 s interval, empty results or not (EF
    follows the size), never one per lookup."""
    clock = FakeClock()
    c = warm(clock)
    script, counts = counting(c, found)
    for _ in range(24):
        clock.advance(5)
        script.run(c.lookup(ASK, "llm"))
    assert counts["FT.SEARCH"] == 24 and counts["FT.INFO"] == 4


def test_the_refresh_learns_the_size_and_verifies_the_schema() -> None:
    clock = FakeClock()
    c = warm(clock)
    grown = [*replies.VALKEY_SEARCH_12_INFO]
    grown[grown.index(b"num_docs") + 1] = 20_000
    clock.advance(30)
    _, names = run(c.search("p", "n", b"\x00" * 16), [grown], [replies.SEARCH_EMPTY])
    assert names == ["FT.INFO", "FT.SEARCH"] and c.index.size == 20_000
    assert c.ef_runtime() == 200  # the wider beam, sent by the search that followed
    clock.advance(30)
    other = copy.deepcopy(replies.VALKEY_SEARCH_12_INFO)
    other[other.index(b"attributes") + 1][2][-1][3] = 8  # the vector's dimensions
    with pytest.raises(IndexMismatchError, match="DIM 8"):  # re-created with another DIM
        run(c.search("p", "n", b"\x00" * 16), [other])


# -- store, store_many, clear, forget, drop -------------------------------------------------


def test_store_writes_hash_and_ttl_in_one_round_trip() -> None:
    clock = FakeClock()
    c = core(clock, ttl_seconds=60)
    gens = [Generation(text="x")]
    key, names = run(c.store(ASK, "llm", gens), VEC, *VALKEY_SEARCH_FIRST, [4, 1])
    assert names == ["Embed", *FIRST_NAMES, "HSET+EXPIRE"] and key.startswith("t:")
    assert c.index.size == 1  # counted from HSET's reply, no FT.INFO
    script = Script([[0, 1]])
    script.run(c.store(ASK, "llm", gens, ttl_seconds=None))  # memo: no embedding call
    hset, expire = script.effects[0].commands  # type: ignore[union-attr]
    fields = dict(zip(hset[2::2], hset[3::2], strict=True))
    assert expire == ("EXPIRE", key, "60") and fields["expires_at"] == repr(clock.wall() + 60)
    persist = core(clock)
    _, names = run(persist.store(ASK, "llm", gens), VEC, *VALKEY_SEARCH_FIRST, [4, 1])
    assert names[-1] == "HSET+PERSIST"
    assert c.index.size == 1  # an overwrite adds nothing


def test_store_skips_what_it_cannot_store_without_io() -> None:
    c = core(max_answer_bytes=10)
    assert run(c.store(ASK, "llm", [Generation(text="y" * 100)])) == (None, [])
    assert run(c.store(PromptParts(""), "llm", [Generation(text="x")])) == (None, [])
    with pytest.raises(ConfigurationError, match="ttl_seconds must be a positive int, got 0"):
        run(c.store(ASK, "llm", [Generation(text="x")], ttl_seconds=0))


def test_store_many_embeds_once_and_pipelines_whole_entries() -> None:
    c = core()
    items = [(PromptParts(f"q{i}"), [Generation(text="a")]) for i in range(501)]
    items.append((PromptParts(""), [Generation(text="a")]))  # skipped, keeps its place
    vectors = [[1.0, float(i), 0.0, 0.0] for i in range(501)]
    keys, names = run(c.store_many(items, "llm"), vectors, *VALKEY_SEARCH_FIRST,
                      [1, 1] * 500, [1, 1])  # fmt: skip
    assert names[:4] == ["EmbedMany", *FIRST_NAMES]
    assert [len(n.split("+")) for n in names[4:]] == [1000, 2]
    assert len(keys) == 502 and keys[-1] is None and None not in keys[:-1]
    assert c.index.size == 501


def test_clear_unlinks_in_batches_and_drop_tolerates_a_missing_index() -> None:
    c = core()
    keys = [f"t:ns:{i}" for i in range(501)]
    deleted, names = run(c.clear(), keys, [1] * 500, [1])
    assert deleted == 501 and names == ["Scan", "UNLINK" + "+UNLINK" * 499, "UNLINK"]
    script = Script([[]])
    script.run(c.clear(all_namespaces=True))
    assert script.effects == [Scan("t:*")]
    assert run(c.drop(), ["t:a"], [1], MISSING) == (1, ["Scan", "UNLINK", "FT.DROPINDEX"])


def test_forget_one_key_of_this_cache_only() -> None:
    c = core()
    assert run(c.forget("t:ns:k"), [1]) == (True, ["UNLINK"])
    assert run(c.forget("t:ns:k"), [0]) == (False, ["UNLINK"])
    with pytest.raises(Exception, match="not a key of this cache"):
        run(c.forget("other:k"))


def test_after_clear_the_next_lookup_rereads_the_size() -> None:
    clock = FakeClock()
    c = warm(clock)
    run(c.clear(), ["t:ns:1"], [1])
    script, counts = counting(c, NEAR)
    script.run(c.lookup(ASK, "llm"))  # within the interval, but the size is unknown now
    assert counts == {"HMGET": 1, "FT.INFO": 1, "FT.SEARCH": 1}
    assert script.names.index("FT.INFO") < script.names.index("FT.SEARCH")  # before: fresh EF


def test_after_drop_the_index_is_created_again_for_any_dimension() -> None:
    c = warm(FakeClock())
    assert (c.index.ready, c.index.dim) == (True, 4)
    run(c.drop(), [], MISSING)
    assert (c.index.ready, c.index.dim) == (False, None)
    _, names = run(c.ensure_index(8), MISSING, [b"OK"], [VALKEY_SEARCH_8D], None)
    assert names == ["FT.INFO", "FT.CREATE", "FT.INFO", "OnPrimaries FT.INFO"]
    assert (c.index.ready, c.index.dim) == (True, 8)


def test_a_refresh_that_finds_the_index_dropped_creates_it() -> None:
    clock = FakeClock()
    c = warm(clock)
    clock.advance(30)
    _, names = run(c.search("p", "n", b"\x00" * 16), MISSING, MISSING, [b"OK"],
                   [replies.VALKEY_SEARCH_12_INFO], None, [replies.SEARCH_EMPTY])  # fmt: skip
    assert names == ["FT.INFO", "FT.INFO", "FT.CREATE", "FT.INFO", "OnPrimaries FT.INFO",
                     "FT.SEARCH"]  # fmt: skip
    assert c.index.checked == clock.now  # and not due again for an interval
    assert not c.index.due() and not c.index.due(0)


def test_an_unreadable_ft_info_on_refresh_leaves_it_to_the_next_search() -> None:
    clock = FakeClock()
    c = warm(clock)
    clock.advance(30)
    _, names = run(c.search("p", "n", b"\x00" * 16), [[b"num_docs"]], [NEAR])
    assert names == ["FT.INFO", "FT.SEARCH"] and c.index.size == 0
    assert c.index.checked == clock.now


VALKEY_SEARCH_8D = copy.deepcopy(replies.VALKEY_SEARCH_12_INFO)
VALKEY_SEARCH_8D[VALKEY_SEARCH_8D.index(b"attributes") + 1][2][-1][3] = 8


SPEC = proto.IndexSpec("idx", "t:", 4, 16, 100)  # the default EF_CONSTRUCTION


def test_ensure_index_sends_exactly_these_commands() -> None:
    info_reply = [replies.VALKEY_SEARCH_12_INFO]
    script = Script([[replies.MODULES_VALKEY_SEARCH_12], MISSING, [b"OK"], info_reply,
                     [b"info", MISSING], None, [b"info"] * 2])  # fmt: skip
    script.run(core().ensure_index(4))
    info = proto.info_index("idx")
    assert script.effects == [
        Run((proto.module_list(),)), Run((info,)), Run((proto.create_index(SPEC),)), Run((info,)),
        OnPrimaries(info), Sleep(0.05), OnPrimaries(info),  # just created: it may still spread
    ]  # fmt: skip


def test_an_existing_index_missing_on_a_primary_is_refused_at_once() -> None:
    c = core()
    c.index.engine_known = True
    script = Script([[replies.VALKEY_SEARCH_12_INFO], [b"info", MISSING]])
    with pytest.raises(ConfigurationError, match="exists on 1 of 2 primaries"):
        script.run(c.ensure_index(4))  # not created now: no waiting for it to spread
    assert script.names == ["FT.INFO", "OnPrimaries FT.INFO"]


def test_probe_sends_exactly_these_commands() -> None:
    script = Script([ProtocolError("MODULE disabled"), MISSING])
    script.run(core().probe())
    assert script.effects == [Run((proto.module_list(),)), Run((proto.info_index("idx"),))]


def test_what_a_fresh_core_knows() -> None:
    c = core()
    assert c.engine_info() == (None, None) and c.index.due() and c.index.due(0)
    assert c.ef_runtime() == 400  # unknown size: the widest beam


def test_an_engine_that_changes_under_the_cache_is_learned_again() -> None:
    clock = FakeClock()
    c = warm(clock)
    clock.advance(30)
    script = Script([[replies.REDISEARCH_INFO], [replies.SEARCH_EMPTY], [NEAR], [NEAR]])
    script.run(c.search("p", "n", b"\x00" * 16))
    assert script.effects[1] == Run((proto.knn_probe("idx", 4),))
    assert c.index.engine.name == proto.REDISEARCH and c.index.engine.hybrid_policy


def test_forget_counts_the_size_down_to_zero() -> None:
    c = warm(FakeClock())
    run(c.store(ASK, "llm", [Generation(text="x")]), VEC, [4, 1])
    assert c.index.size == 1
    run(c.forget("t:ns:k"), [1])
    assert c.index.size == 0


def test_a_refresh_on_a_known_engine_asks_ft_info_only() -> None:
    clock = FakeClock()
    c = core(clock)
    first = [[replies.MODULES_REDISEARCH], [replies.REDISEARCH_INFO], [replies.SEARCH_EMPTY], None]
    run(c.ensure_index(4), *first)
    clock.advance(30)
    script = Script([[replies.REDISEARCH_INFO], [NEAR], [NEAR]])
    script.run(c.search("p", "n", b"\x00" * 16))
    assert script.effects[0] == Run((proto.info_index("idx"),))  # no second probe
    assert script.names == ["FT.INFO", "FT.SEARCH", "FT.SEARCH"]


def test_drop_keeps_a_configured_dimension() -> None:
    c = core(dims=4)
    run(c.ensure_index(4), *VALKEY_SEARCH_FIRST)
    run(c.drop(), [], MISSING)
    assert (c.index.ready, c.index.dim) == (False, 4)
