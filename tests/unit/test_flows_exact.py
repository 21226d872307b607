"""Golden runs of the flows: every effect and every returned value, exactly (a clock on
which each effect takes a known time makes the timings exact too)."""

from __future__ import annotations

import logging
import math
from typing import Any

import pytest
from langchain_core.outputs import Generation

from langchain_valkey_semcache import _protocol as proto
from langchain_valkey_semcache._effects import Embed, EmbedMany, Run, Scan, Verify
from langchain_valkey_semcache._entry import CacheHit, CacheLookup, Timings, serialize
from langchain_valkey_semcache._errors import CacheUnavailableError, EmbeddingError
from langchain_valkey_semcache._prompt import PromptParts, digest
from tests.unit.scripted import FakeClock, Timed, run
from tests.unit.test_flows import ANSWER, NO_ENTRY, VEC, core, search_reply, warm

COST = {"HMGET": 1.0, "Embed": 5.0, "FT.SEARCH": 2.0, "Verify": 3.0}
TEXT = "What is a cache?"
BLOB = proto.encode_vector(VEC, 4)
GENS = [Generation(text="cached")]


def keys(c: Any, llm: str = "llm", context: str = "", namespace: str | None = None) -> tuple:
    part, ns = digest("part", llm, context), digest("ns", "" if namespace is None else namespace)
    return part, ns, f"t:{ns}:{digest(part, TEXT)}"


def approx(t: Timings) -> Timings:
    return Timings(*(pytest.approx(v) for v in (t.embedding_ms, t.search_ms, t.total_ms,
                                                t.verify_ms)))  # fmt: skip


def test_the_key_scheme() -> None:
    c = core(namespace="tenant")
    assert c.partition("llm", "ctx") == digest("part", "llm", "ctx")
    assert c.namespace_tag(None) == digest("ns", "tenant")
    assert c.namespace_tag("acme") == digest("ns", "acme") != digest("ns", "tenant")
    assert c.key("n", "p", TEXT) == f"t:n:{digest('p', TEXT)}"


def test_a_semantic_hit_exactly() -> None:
    clock = FakeClock()
    c = warm(clock)
    part, ns, key = keys(c, context="ctx", namespace="acme")
    found = search_reply(("t:1", 0.01, ANSWER, math.inf))
    script = Timed(clock, COST, [NO_ENTRY, VEC, [found], True])
    result = script.run(c.lookup(PromptParts(TEXT, "ctx"), "llm", "acme", 0.95))
    assert script.effects == [
        Run((proto.get_entry(key),)),
        Embed(TEXT),
        Run((proto.knn_search("idx", part, ns, BLOB, 3, c.ef_runtime(), False),)),
        Verify(TEXT, "stored question", 0.99),
    ]
    timings = approx(Timings(5.0, 2.0, 11.0, 3.0))
    hit = CacheHit(GENS, pytest.approx(0.99), "stored question", "t:1", False, timings)
    assert result == CacheLookup(hit, pytest.approx(0.99), timings, threshold=0.95, candidates=1)


def test_an_exact_hit_exactly() -> None:
    clock = FakeClock()
    c = core(clock)
    part, ns, key = keys(c)
    half = {"HMGET": 500.0}  # half a second: exact in binary, so is the expiry below
    entry = [TEXT.encode(), ANSWER.encode(), part.encode(), ns.encode(),
             repr(clock.wall() + 1.0).encode()]  # fmt: skip
    result = Timed(clock, half, [[entry]]).run(c.lookup(PromptParts(TEXT), "llm"))
    timings = approx(Timings(search_ms=500.0, total_ms=500.0))
    assert result == CacheLookup(CacheHit(GENS, 1.0, TEXT, key, True, timings), 1.0, timings,
                                 threshold=0.9)  # fmt: skip
    # Expiring at the very instant of the next check: not served, and not live in the KNN.
    stale = search_reply(("t:1", 0.0, ANSWER, clock.wall() + 0.5))
    script = Timed(clock, half, [[entry], VEC, *warm_replies(c), [stale]])
    result = script.run(c.lookup(PromptParts(TEXT), "llm"))
    assert result.hit is None and result.candidates == 0 and result.best_similarity is None


def warm_replies(c: Any) -> list[Any]:
    from tests.unit.test_flows import VALKEY_SEARCH_FIRST

    return [] if c.index.ready else list(VALKEY_SEARCH_FIRST)


def test_a_miss_reports_the_nearest_and_the_rejections_exactly() -> None:
    clock = FakeClock()
    c = warm(clock)
    found = search_reply(("t:1", 0.05, ANSWER, math.inf), ("t:2", 0.1, ANSWER, math.inf))
    script = Timed(clock, COST, [NO_ENTRY, VEC, [found], False])
    result = script.run(c.lookup(PromptParts(TEXT), "llm", None, 0.95))
    timings = approx(Timings(5.0, 2.0, 11.0, 3.0))
    assert result == CacheLookup(None, pytest.approx(0.95), timings, threshold=0.95,
                                 candidates=2, rejected=1)  # fmt: skip
    # At the threshold exactly, a candidate is served.
    script = Timed(clock, COST, [NO_ENTRY, VEC, [found], True])
    assert script.run(c.lookup(PromptParts(TEXT), "llm", None, 0.95)).hit is not None


def test_a_skip_exactly() -> None:
    result = run(core().lookup(PromptParts("   "), "llm"))[0]
    assert result == CacheLookup(None, None, Timings(total_ms=0.0), skipped="empty prompt",
                                 threshold=0.9)  # fmt: skip
    assert run(core().lookup(PromptParts(None), "llm"))[0].skipped == "empty prompt"  # type: ignore[arg-type]
    at_limit = core(max_prompt_chars=len(TEXT))
    assert run(at_limit.lookup(PromptParts(TEXT), "llm"), NO_ENTRY, VEC, *warm_replies(at_limit),
               [[0]])[0].skipped is None  # fmt: skip


def test_a_candidate_without_prompt_is_verified_and_served_as_empty() -> None:
    c = warm(FakeClock())
    found = [1, b"t:1", [b"score", b"0.01", b"answer", ANSWER.encode(), b"expires_at", b"inf"]]
    script = Timed(c.clock, {}, [NO_ENTRY, VEC, [found], True])  # type: ignore[arg-type]
    result = script.run(c.lookup(PromptParts(TEXT), "llm"))
    assert script.effects[-1] == Verify(TEXT, "", pytest.approx(0.99))
    assert result.hit.matched_prompt == ""


def test_a_store_exactly() -> None:
    clock = FakeClock()
    c = warm(clock)
    part, ns, key = keys(c, context="ctx", namespace="acme")
    payload = serialize(GENS, 10_000)
    write = proto.write_entry(key, prompt=TEXT, answer=payload, part=part, ns=ns, vector=BLOB,
                              expires_at=clock.wall() + 60, ttl_seconds=60)  # fmt: skip
    script = Timed(clock, {}, [VEC, [4, 1]])
    assert script.run(c.store(PromptParts(TEXT, "ctx"), "llm", GENS, "acme", 60)) == key
    assert script.effects == [Embed(TEXT), Run(write)] and c.index.size == 1


def test_an_embedding_of_the_wrong_dimension_is_refused() -> None:
    c = warm(FakeClock())
    with pytest.raises(EmbeddingError, match="8 dimensions, the index expects 4"):
        run(c.embed("x"), [1.0] * 8)
    assert run(c.embed("y"), VEC)[1] == ["Embed"]


def test_store_many_exactly() -> None:
    clock = FakeClock()
    c = core(clock)
    run(c.ensure_index(4), *warm_replies(c))
    run(c.embed("remembered"), VEC)  # a vector the lookups already have
    items = [
        (PromptParts("remembered"), GENS),
        (PromptParts(""), GENS),  # not cacheable: keeps its place, the rest goes on
        (PromptParts("new one"), GENS),
    ]
    other = [0.0, 1.0, 0.0, 0.0]
    script = Timed(clock, {}, [[other], [1, 1, 1, 1]])
    result = script.run(c.store_many(items, "llm", "acme", 30))
    part, ns = digest("part", "llm", ""), digest("ns", "acme")
    k1, k3 = (f"t:{ns}:{digest(part, t)}" for t in ("remembered", "new one"))
    assert result == [k1, None, k3]
    payload, expires = serialize(GENS, 10_000), clock.wall() + 30
    w1 = proto.write_entry(k1, prompt="remembered", answer=payload, part=part, ns=ns,
                           vector=BLOB, expires_at=expires, ttl_seconds=30)  # fmt: skip
    w3 = proto.write_entry(k3, prompt="new one", answer=payload, part=part, ns=ns,
                           vector=proto.encode_vector(other, 4), expires_at=expires,
                           ttl_seconds=30)  # fmt: skip
    assert script.effects == [EmbedMany(("new one",)), Run((*w1, *w3))]
    assert c.index.size == 2
    with pytest.raises(EmbeddingError, match="2 texts embedded into 1 vectors"):
        run(c.store_many([(PromptParts("a"), GENS), (PromptParts("b"), GENS)], "llm"), [VEC])


def test_clear_forget_drop_exactly() -> None:
    c = core()
    ns = digest("ns", "acme")
    script = Timed(FakeClock(), {}, [[f"t:{ns}:1"], [1]])
    assert script.run(c.clear("acme")) == 1
    assert script.effects == [Scan(f"t:{ns}:*"), Run((proto.unlink(f"t:{ns}:1"),))]
    script = Timed(FakeClock(), {}, [[1]])
    assert script.run(c.forget("t:x:1")) is True
    assert script.effects == [Run((proto.unlink("t:x:1"),))]
    script = Timed(FakeClock(), {}, [["t:a", "t:b"], [1, 1], [b"OK"]])
    assert script.run(c.drop()) == 2
    assert script.effects == [Scan("t:*"), Run((proto.unlink("t:a"), proto.unlink("t:b"))),
                              Run((proto.drop_index("idx"),))]  # fmt: skip


def test_what_is_not_cached_is_said_once(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, "langchain_valkey_semcache")
    c = core(max_answer_bytes=10)
    run(c.store(PromptParts(TEXT), "llm", [Generation(text="y" * 100)]))
    weird = Generation(text="x", generation_info={"obj": object()})
    run(core().store(PromptParts(TEXT), "llm", [weird]))
    run(c.store(PromptParts(""), "llm", GENS))
    assert [r.getMessage() for r in caplog.records] == [
        "not caching an answer: too large",
        "not caching an answer: not serializable",
        "not caching: empty prompt",
    ]


def test_a_failure_is_reported_with_what_failed(caplog: pytest.LogCaptureFixture) -> None:
    c = warm(FakeClock())
    c.failed(CacheUnavailableError("down"), "store")
    assert caplog.records[0].getMessage().startswith("semantic cache store failed")
    assert not c.index.ready and c.backing_off()


def test_a_failing_verifier_is_logged_by_kind(caplog: pytest.LogCaptureFixture) -> None:
    from langchain_valkey_semcache._effects import VerifierFailed

    c = warm(FakeClock())
    found = search_reply(("t:1", 0.01, ANSWER, math.inf))
    run(c.lookup(PromptParts(TEXT), "llm"), NO_ENTRY, VEC, [found], VerifierFailed("TimeoutError"))
    assert [r.getMessage() for r in caplog.records] == [
        "verifier failed, rejecting the candidate: TimeoutError"
    ]


def test_redisearch_with_as_many_results_as_candidates_searches_once() -> None:
    c = core()
    first = [[b"x"], [b"x"]]
    del first
    from tests.unit import replies

    run(c.ensure_index(4), [replies.MODULES_REDISEARCH], [replies.REDISEARCH_INFO],
        [replies.SEARCH_EMPTY], None)  # fmt: skip
    three = search_reply(*((f"t:{i}", 0.5, ANSWER, math.inf) for i in range(3)))
    _, names = run(c.search("p", "n", BLOB), [three])
    assert names == ["FT.SEARCH"]
