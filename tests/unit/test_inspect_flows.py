"""The admin command's flows (``_inspect``) driven by scripted replies, no server."""

from __future__ import annotations

import math

import pytest

from langchain_valkey_semcache import _inspect as inspect_
from langchain_valkey_semcache._effects import VerifierFailed
from langchain_valkey_semcache._errors import ConfigurationError
from tests.unit import replies
from tests.unit.scripted import run
from tests.unit.test_flows import ANSWER, MISSING, VEC, core, search_reply

# What every inspect flow asks first: MODULE LIST, FT.INFO, then the cache's own check.
CHECKED = [[replies.MODULES_VALKEY_SEARCH_12], [replies.VALKEY_SEARCH_12_INFO],
           [replies.VALKEY_SEARCH_12_INFO], None]  # fmt: skip
CHECKED_NAMES = ["MODULE LIST", "FT.INFO", "FT.INFO", "OnPrimaries FT.INFO"]


def test_index_info_names_the_indexes_there_when_missing() -> None:
    with pytest.raises(inspect_.NotFoundError, match=r"no index 'idx' .*indexes: agent_semcache"):
        run(inspect_.index_info(core()), MISSING, [[b"agent_semcache"]])
    with pytest.raises(inspect_.NotFoundError, match=r"indexes: unknown"):
        run(inspect_.index_info(core()), MISSING, ConfigurationError("ACL"))


def test_index_report_counts_on_every_primary_and_samples_memory() -> None:
    keys = ["t:a:1", "t:a:2", "t:b:1"]
    report, names = run(inspect_.index_report(core(), sample=10), *CHECKED, keys,
                        [300, 500, None])  # fmt: skip
    assert names == [*CHECKED_NAMES, "Scan", "MEMORY+MEMORY+MEMORY"]
    assert (report.entries, report.sampled, report.bytes_per_entry) == (3, 2, 400.0)
    assert (report.engine, report.engine_version, report.info.dim) == ("valkey-search", 66049, 4)


def test_index_report_adds_the_index_memory_per_document_where_ft_info_has_it() -> None:
    info = [replies.REDISEARCH_MEMORY_INFO]
    checked = [[replies.MODULES_REDISEARCH], info, info, [replies.SEARCH_EMPTY], None]
    report, names = run(inspect_.index_report(core()), *checked, ["t:a:1", "t:a:2"], [300, 500])
    assert names == ["MODULE LIST", "FT.INFO", "FT.INFO", "FT.SEARCH", "OnPrimaries FT.INFO",
                     "Scan", "MEMORY+MEMORY"]  # fmt: skip
    # 5,122,666 bytes over FT.INFO's 2,000 documents (this node's), not the 2 keys SCAN found.
    assert report.index_bytes_per_entry == 5122666 / 2000
    assert report.total_bytes_per_entry == 400.0 + 5122666 / 2000
    # valkey-search reports none: the index's share and the total are unknown, the hash's is not.
    report, _ = run(inspect_.index_report(core()), *CHECKED, ["t:a:1"], [300])
    assert (report.bytes_per_entry, report.index_bytes_per_entry) == (300.0, None)
    assert report.total_bytes_per_entry is None


def test_index_report_without_memory_usage_permission() -> None:
    refused = ConfigurationError("the Valkey user lacks a permission")
    report, _ = run(inspect_.index_report(core()), *CHECKED, ["t:a:1"], refused)
    assert report.bytes_per_entry is None and report.sampled == 0


def test_namespace_rows_spread_of_ttls() -> None:
    keys = ["t:a:1", "t:a:2", "t:a:3", "t:b:1", "t:b:2"]
    rows, names = run(inspect_.namespace_rows(core()), keys, [1000, 3000, -1, 5000, -2])
    assert names == ["Scan", "PTTL+PTTL+PTTL+PTTL+PTTL"]
    a, b = rows
    assert (a.digest, a.entries, a.no_expiry, a.ttl_min_seconds, a.ttl_max_seconds) == (
        "a", 3, 1, 1.0, 3.0)  # fmt: skip
    assert (b.digest, b.entries, b.ttl_median_seconds) == ("b", 1, 5.0)  # -2: gone since


def test_nearest_asks_the_verifier_of_each_entry_and_marks_the_one_served() -> None:
    found = search_reply(
        ("t:1", 0.01, ANSWER, 100.0),  # expired at now=200
        ("t:2", 0.02, ANSWER, math.inf),  # the verifier rejects it
        ("t:3", 0.03, ANSWER, math.inf),  # served
        ("t:4", 0.04, ANSWER, math.inf),  # would be, after the served one
        ("t:5", 0.5, None, math.inf),  # below, no answer: not asked
    )
    flow = inspect_.nearest(core(), "a question", llm_string=None, context="", namespace=None,
                            threshold=0.9, now=200.0)  # fmt: skip
    out, names = run(flow, *CHECKED, VEC, [found], True, False, True, VerifierFailed("x"))
    assert names == [*CHECKED_NAMES, "Embed", "FT.SEARCH", "Verify", "Verify", "Verify", "Verify"]
    assert [n.served for n in out] == [False, False, True, False, False]
    assert [n.verdict for n in out] == [True, False, True, False, None]
    assert [n.expired for n in out] == [True, False, False, False, False]
    assert [n.above_threshold for n in out] == [True, True, True, True, False]


def test_nearest_without_verifier_and_an_empty_question() -> None:
    found = search_reply(("t:1", 0.01, ANSWER, math.inf))
    flow = inspect_.nearest(core(), "q", llm_string="m", context="", namespace="acme",
                            threshold=0.9, now=0.0)  # fmt: skip
    out, _ = run(flow, *CHECKED, VEC, [found], None)
    assert out[0].served and out[0].verdict is None
    empty = inspect_.nearest(core(), "  ", llm_string=None, context="", namespace=None,
                             threshold=0.9, now=0.0)  # fmt: skip
    with pytest.raises(inspect_.NotFoundError, match="empty"):
        run(empty, *CHECKED)
