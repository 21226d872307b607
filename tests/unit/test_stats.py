"""The one accounting (``_stats``): counters by outcome, and the throttled error log."""

from __future__ import annotations

import logging

import pytest
from langchain_core.outputs import Generation

from langchain_valkey_semcache import names
from langchain_valkey_semcache._entry import CacheHit, CacheLookup, Timings
from langchain_valkey_semcache._errors import (
    CacheUnavailableError,
    ConfigurationError,
    EmbeddingError,
)
from langchain_valkey_semcache._stats import Counters, ErrorLog, lookup_outcome
from tests.unit.scripted import FakeClock


def hit(exact: bool) -> CacheLookup:
    h = CacheHit([Generation(text="a")], 1.0, "q", "t:1", exact, Timings())
    return CacheLookup(h, 1.0, Timings())


OUTCOMES = [
    (hit(True), names.EXACT_HIT),
    (hit(False), names.SEMANTIC_HIT),
    (CacheLookup(None, 0.5, Timings(), rejected=2), names.MISS),
    (CacheLookup(None, None, Timings(), skipped="empty prompt"), names.SKIPPED),
    (CacheLookup(None, None, Timings(), error="EmbeddingError"), names.ERROR),
]


@pytest.mark.parametrize(("result", "outcome"), OUTCOMES, ids=[o for _, o in OUTCOMES])
def test_each_lookup_is_one_outcome(result: CacheLookup, outcome: str) -> None:
    assert lookup_outcome(result) == outcome
    counters = Counters()
    assert counters.looked_up(result) == outcome
    s = counters.snapshot()
    counted = {
        names.EXACT_HIT: s.exact_hits, names.SEMANTIC_HIT: s.hits - s.exact_hits,
        names.MISS: s.misses, names.SKIPPED: s.skipped, names.ERROR: s.errors,
    }  # fmt: skip
    assert s.lookups == 1 and counted == {o: int(o == outcome) for o in names.LOOKUP_OUTCOMES}
    assert s.rejected == result.rejected
    assert s.by_error == ({"EmbeddingError": 1} if outcome == names.ERROR else {})
    assert s.hit_rate == (1.0 if outcome in (names.EXACT_HIT, names.SEMANTIC_HIT) else 0.0)


def test_store_outcomes_count_entries_and_errors_by_kind() -> None:
    counters = Counters()
    counters.stored(names.STORED, 3)
    counters.stored(names.SKIPPED, 2)
    counters.stored(names.ERROR, 4, "CacheUnavailableError")
    counters.stored(names.ERROR, 0, "EmbeddingError")  # nothing to count
    s = counters.snapshot()
    assert (s.stores, s.store_skipped, s.store_errors) == (3, 2, 4)
    assert s.by_error == {"CacheUnavailableError": 4} and s.lookups == 0
    s.by_error["CacheUnavailableError"] = 99  # a snapshot: the counters keep theirs
    assert counters.snapshot().by_error == {"CacheUnavailableError": 4}
    counters.reset()
    assert counters.snapshot() == type(s)()


def test_the_error_log_reports_once_per_window_then_a_summary(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = FakeClock()
    log = ErrorLog(clock)
    caplog.set_level(logging.WARNING, "langchain_valkey_semcache")
    down = CacheUnavailableError("Connection refused")
    log.report(down, "lookup")
    clock.advance(29.9)
    log.report(down, "lookup")
    log.report(down, "store")
    clock.advance(0.1)
    log.report(down, "lookup")
    messages = [r.getMessage() for r in caplog.records]
    assert messages == [
        "semantic cache lookup failed, continuing without it: CacheUnavailableError: "
        "Connection refused",
        "semantic cache lookup failed, continuing without it: CacheUnavailableError: "
        "Connection refused (2 more since the last report)",
    ]
    assert {r.levelno for r in caplog.records} == {logging.WARNING}


def test_the_error_log_hides_what_may_quote_a_prompt(caplog: pytest.LogCaptureFixture) -> None:
    log = ErrorLog(FakeClock())
    caplog.set_level(logging.WARNING, "langchain_valkey_semcache")
    quoted = EmbeddingError("the model refused 'my secret question'")
    quoted.__cause__ = ValueError("my secret question")
    log.report(quoted, "lookup")
    log.report(ConfigurationError("ttl_seconds must be a positive int, got 0"), "store")
    first, second = caplog.records
    assert first.getMessage().endswith(": EmbeddingError (ValueError)")
    assert "secret" not in first.getMessage() and first.levelno == logging.WARNING
    wanted = ": ConfigurationError: ttl_seconds must be a positive int, got 0"
    assert second.getMessage().endswith(wanted) and second.levelno == logging.ERROR


def test_errors_of_one_kind_add_up_and_the_detail_goes_to_debug(
    caplog: pytest.LogCaptureFixture,
) -> None:
    counters = Counters()
    counters.stored(names.ERROR, 1, "EmbeddingError")
    counters.stored(names.ERROR, 2, "EmbeddingError")
    counters.looked_up(CacheLookup(None, None, Timings(), error="EmbeddingError"))
    assert counters.snapshot().by_error == {"EmbeddingError": 4}
    caplog.set_level(logging.DEBUG, "langchain_valkey_semcache")
    ErrorLog(FakeClock()).report(EmbeddingError("no cause"), "store")
    summary, detail = caplog.records
    assert summary.getMessage().endswith("continuing without it: EmbeddingError")
    assert detail.levelno == logging.DEBUG
    assert detail.getMessage() == "semantic cache store error detail: EmbeddingError('no cause')"
