from __future__ import annotations

import copy
import math

import pytest
import valkey.exceptions as vex

from langchain_valkey_semcache import _protocol as proto
from langchain_valkey_semcache._errors import (
    CacheUnavailableError,
    ClusterDownError,
    ConfigurationError,
    EmbeddingError,
    IndexMismatchError,
    NoSearchModuleError,
    NotPrimaryError,
    PrimaryDownError,
    ProtocolError,
    ServerLoadingError,
)
from tests.unit import replies

SPEC = proto.IndexSpec("idx", "p:", 4, 16, 200)


def test_create_uses_the_portable_dialect() -> None:
    cmd = proto.create_index(SPEC)
    assert cmd[:8] == ("FT.CREATE", "idx", "ON", "HASH", "PREFIX", "1", "p:", "SCHEMA")
    text = " ".join(cmd)
    assert (
        "VECTOR HNSW 10 TYPE FLOAT32 DIM 4 DISTANCE_METRIC COSINE M 16 EF_CONSTRUCTION 200" in text
    )
    assert "TEXT" not in text and "SORTABLE" not in text and "FLOAT64" not in text


def test_knn_query_filters_inside_and_sends_only_used_params() -> None:
    cmd = proto.knn_search("idx", "abc123", "ns_9", b"\x00" * 16, 3, 100)
    assert cmd[2] == "(@part:{abc123} @ns:{ns_9})=>[KNN 3 @vec $vec EF_RUNTIME 100 AS score]"
    assert cmd[3:7] == ("PARAMS", "2", "vec", b"\x00" * 16)
    assert cmd[-2:] == ("DIALECT", "2") and "score" in cmd[cmd.index("RETURN") :]
    assert "HYBRID_POLICY" not in cmd[2]
    assert "HYBRID_POLICY BATCHES" in proto.knn_search("idx", "a", "b", b"", 3, 10, True)[2]


@pytest.mark.parametrize("value", ["a}b", "x|y", "*", "a b", "", "é", "a\\b", 'q"', "@x", "a-b"])
def test_tag_refuses_metacharacters(value: str) -> None:
    with pytest.raises(ValueError):
        proto.knn_search("idx", value, "ns", b"", 1, 1)


def test_parse_search_sorts_and_decodes() -> None:
    cands = proto.parse_search(replies.SEARCH)
    assert [c.key for c in cands] == ["t:1", "t:2"]
    assert cands[0].similarity == pytest.approx(1 - 0.00496286153793)
    assert cands[0].prompt == "hello" and cands[0].answer == b"[]"  # as stored
    assert cands[0].expires_at == math.inf
    assert proto.parse_search(replies.SEARCH_EMPTY) == []
    same = proto.parse_search(replies.SEARCH_IDENTICAL)[0]
    assert same.similarity == 1.0 and same.expires_at == 1700000000.5


@pytest.mark.parametrize(
    "reply",
    [None, [], ["x"], [1, b"k"], [1, b"k", [b"score"]], [1, b"k", [b"score", b"nan"]],
     [1, b"k", [b"score", b"7"]], [1, b"k", [b"prompt", b"x"]], [1, b"k", [b"score", b"0.1",
     b"expires_at", b"soon"]], [1, 5, [b"score", b"0.1"]],
     [1, b"k", [b"score", b"-0.5"]], [1, b"k", [b"score", b"2.5"]]],  # no COSINE distance
)  # fmt: skip
def test_parse_search_rejects_malformed(reply: object) -> None:
    with pytest.raises(ProtocolError):
        proto.parse_search(reply)


@pytest.mark.parametrize("score", [b"-0.001", b"2.001"])
def test_parse_search_tolerates_rounding_at_the_cosine_edges(score: bytes) -> None:
    [cand] = proto.parse_search([1, b"k", [b"score", score, b"prompt", b"p", b"answer", b"a"]])
    assert -1.0 <= cand.similarity <= 1.0


def test_parse_info_from_both_engines() -> None:
    rs = proto.parse_info(replies.REDISEARCH_INFO)
    assert (rs.num_docs, rs.indexing_failures, rs.dim, rs.metric) == (2, 0, 4, "COSINE")
    assert rs.fields == {"part", "ns", "vec"}
    vs = proto.parse_info(replies.VALKEY_SEARCH_INFO)
    assert (vs.num_docs, vs.dim, vs.metric) == (3, 1024, "COSINE")


def test_parse_info_reads_the_index_memory_where_the_engine_reports_it() -> None:
    # RediSearch: vector_index_sz_mb + total_index_memory_sz_mb (MiB); the other *_sz_mb
    # fields are parts of the second.
    rs = proto.parse_info(replies.REDISEARCH_MEMORY_INFO)
    assert rs.index_bytes == round((4.691539764404297 + 0.1938152313232422) * 2**20) == 5122666
    only_vectors = [*replies.REDISEARCH_INFO, b"vector_index_sz_mb", 1.5]  # RESP3: a double
    assert proto.parse_info(only_vectors).index_bytes == 1_572_864
    unreadable = [*replies.REDISEARCH_INFO, b"vector_index_sz_mb", b"nan"]
    assert proto.parse_info(unreadable).index_bytes is None  # the rest of FT.INFO still reads
    for reply in (replies.REDISEARCH_INFO, replies.VALKEY_SEARCH_INFO,
                  replies.VALKEY_SEARCH_12_INFO):  # fmt: skip
        assert proto.parse_info(reply).index_bytes is None


def test_check_index_explains_mismatch() -> None:
    proto.check_index(proto.parse_info(replies.REDISEARCH_INFO), SPEC)
    with pytest.raises(IndexMismatchError, match=r"DIM 4 .*1024.*drop_index"):
        proto.check_index(
            proto.parse_info(replies.REDISEARCH_INFO), proto.IndexSpec("idx", "p:", 1024, 16, 200)
        )


def _without(reply: list[object], *names: bytes) -> list[object]:
    """``reply`` (a flat name/value list, nested lists included) without the named pairs."""
    out: list[object] = []
    for i in range(0, len(reply), 2):
        name, value = reply[i], reply[i + 1]
        if name in names:
            continue
        if isinstance(value, list) and value and isinstance(value[0], list):
            value = [_without(v, *names) for v in value]  # type: ignore[arg-type]
        out += [name, value]
    return out


def test_parse_info_tolerates_what_an_engine_may_leave_out() -> None:
    for left_out in (b"attribute", b"identifier"):  # either name of a field is enough
        info = proto.parse_info(_without(replies.REDISEARCH_INFO, left_out))
        assert info.fields == {"part", "ns", "vec"}
        proto.check_index(info, SPEC)
    left_out = (b"num_docs", b"hash_indexing_failures", b"distance_metric")
    bare = proto.parse_info(_without(replies.REDISEARCH_INFO, *left_out))
    assert (bare.num_docs, bare.indexing_failures, bare.metric, bare.dim) == (0, 0, None, 4)
    proto.check_index(bare, SPEC)  # no metric reported: nothing to object to
    text_dim = copy.deepcopy(replies.VALKEY_SEARCH_INFO)
    attrs = text_dim[text_dim.index(b"attributes") + 1]
    vec = attrs[2]  # type: ignore[index]
    index = vec[vec.index(b"index") + 1]
    index[index.index(b"dimensions") + 1] = b"1024"
    assert proto.parse_info(text_dim).dim == 1024


def test_check_index_refuses_another_metric() -> None:
    info = proto.parse_info(replies.REDISEARCH_INFO)
    l2 = proto.IndexInfo(info.num_docs, 0, info.dim, "L2", info.fields)
    with pytest.raises(IndexMismatchError, match="DISTANCE_METRIC L2"):
        proto.check_index(l2, SPEC)
    with pytest.raises(IndexMismatchError, match="fields"):
        proto.check_index(proto.IndexInfo(0, 0, 4, "COSINE", frozenset({"part", "vec"})), SPEC)


def test_parse_modules() -> None:
    # The version is for display: it cannot tell the engines apart (66049 > 21005).
    assert proto.parse_modules(replies.MODULES_REDISEARCH) == proto.Engine(True, 21005)
    assert proto.parse_modules(replies.MODULES_VALKEY_SEARCH) == proto.Engine(True, 10000)
    assert proto.parse_modules(replies.MODULES_VALKEY_SEARCH_12) == proto.Engine(True, 66049)
    assert proto.parse_modules(replies.MODULES_NONE) == proto.Engine(False)
    for reply in (replies.MODULES_REDISEARCH, replies.MODULES_VALKEY_SEARCH_12):
        assert proto.parse_modules(reply).name is None
        assert not proto.parse_modules(reply).hybrid_policy


def test_engine_named_by_the_shape_of_ft_info() -> None:
    assert proto.parse_info(replies.REDISEARCH_INFO).engine == proto.REDISEARCH
    assert proto.parse_info(replies.VALKEY_SEARCH_INFO).engine == proto.VALKEY_SEARCH
    info = proto.parse_info(replies.VALKEY_SEARCH_12_INFO)
    assert (info.engine, info.dim, info.num_docs, info.fields) == (
        proto.VALKEY_SEARCH,
        4,
        0,
        frozenset({"part", "ns", "vec"}),
    )


def test_hybrid_policy_only_in_the_probe_and_when_asked() -> None:
    vec = proto.encode_vector([1.0, 0.0, 0.0, 0.0], 4)
    assert "HYBRID_POLICY" not in proto.knn_search("idx", "p", "n", vec, 3, 10)[2]
    assert "HYBRID_POLICY BATCHES" in proto.knn_search("idx", "p", "n", vec, 3, 10, True)[2]
    probe = proto.knn_probe("idx", 4)
    assert "HYBRID_POLICY BATCHES" in probe[2] and probe[1] == "idx"
    err = proto.translate(vex.ResponseError(replies.ERR_HYBRID_POLICY))
    assert isinstance(err, ProtocolError)


def test_keyless_commands_are_routed_by_the_driver() -> None:
    vec = proto.encode_vector([1.0, 0.0, 0.0, 0.0], 4)
    for command in (proto.create_index(SPEC), proto.info_index("i"), proto.drop_index("i"),
                    proto.module_list(), proto.knn_search("i", "p", "n", vec, 3, 10)):  # fmt: skip
        assert proto.names_no_key(command)
    assert not proto.names_no_key(proto.get_entry("k"))
    assert not proto.names_no_key(("UNLINK", "k"))


@pytest.mark.parametrize(
    "text", [replies.ERR_ACL_VALKEY_SEARCH_10, replies.ERR_ACL_VALKEY_SEARCH_12]
)
def test_valkey_search_permission_errors_name_the_acl_rules(text: str) -> None:
    err = proto.translate(vex.ResponseError(text))
    assert isinstance(err, ConfigurationError)
    assert "ACL" in str(err) and "+@search" in str(err)


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (vex.ResponseError(replies.ERR_UNKNOWN_INDEX_REDISEARCH), proto.IndexMissingError),
        (vex.ResponseError(replies.ERR_UNKNOWN_INDEX_VALKEY_SEARCH), proto.IndexMissingError),
        (vex.ResponseError(replies.ERR_EXISTS), proto.IndexExistsError),
        (vex.ResponseError(replies.ERR_NO_MODULE), NoSearchModuleError),
        (vex.ResponseError(replies.ERR_BLOB), ProtocolError),
        (vex.ConnectionError("refused"), CacheUnavailableError),
        (vex.TimeoutError("slow"), CacheUnavailableError),
        (vex.AuthenticationError("WRONGPASS"), CacheUnavailableError),
        (vex.BusyLoadingError("Valkey is loading the dataset in memory"), ServerLoadingError),
        (vex.ReadOnlyError(replies.ERR_READONLY), NotPrimaryError),
        (vex.ResponseError(f"READONLY {replies.ERR_READONLY}"), NotPrimaryError),
        (vex.ResponseError(replies.ERR_MASTERDOWN), PrimaryDownError),
        (vex.MasterDownError("Link with MASTER is down"), PrimaryDownError),
        (vex.ResponseError("CLUSTERDOWN Hash slot not served"), ClusterDownError),
        (vex.ClusterDownError("The cluster is down"), ClusterDownError),
    ],
)
def test_translate_server_wording(exc: Exception, kind: type) -> None:
    assert type(proto.translate(exc)) is kind


def test_failover_errors_are_unavailable_and_name_their_state() -> None:
    for kind in (NotPrimaryError, ServerLoadingError, PrimaryDownError, ClusterDownError):
        assert issubclass(kind, CacheUnavailableError)
    err = proto.translate(vex.ReadOnlyError(replies.ERR_READONLY_PIPELINE))
    assert type(err) is NotPrimaryError and "no longer the primary" in str(err)


def test_a_pipeline_error_is_read_by_the_server_words_not_the_command() -> None:
    # The failed command (a user's prompt: "busy room loading") is never classified.
    text = replies.ERR_READONLY_PIPELINE.replace(replies.ERR_READONLY, "ERR some other error")
    err = proto.translate(vex.ResponseError(text))
    assert type(err) is ProtocolError
    assert type(proto.translate(vex.ReadOnlyError(replies.ERR_READONLY_PIPELINE))) is (
        NotPrimaryError
    )
    assert "busy room" not in str(proto.translate(vex.ReadOnlyError(replies.ERR_READONLY_PIPELINE)))


def test_no_module_message_names_elasticache_requirement() -> None:
    err = proto.translate(vex.ResponseError(replies.ERR_NO_MODULE))
    assert "Valkey 8.2+" in str(err) and "node-based" in str(err)


@pytest.mark.parametrize(
    ("vector", "dim"),
    [([math.nan, 1.0], 2), ([math.inf, 1.0], 2), ([1.0], 2), ([0.0, 0.0], 2), ([], None),
     ([[1.0, 2.0]], None), (["a", "b"], 2)],
)  # fmt: skip
def test_encode_vector_rejects(vector: list[float], dim: int | None) -> None:
    with pytest.raises(EmbeddingError):
        proto.encode_vector(vector, dim)


def test_encode_vector_little_endian_float32() -> None:
    assert proto.encode_vector([1.0, -2.0], 2) == b"\x00\x00\x80\x3f\x00\x00\x00\xc0"


def test_entry_round_trip() -> None:
    hset, ttl = proto.write_entry("k", prompt="q", answer="[]", part="p1", ns="n1", vector=b"v",
                                  expires_at=None, ttl_seconds=None)  # fmt: skip
    assert hset[:2] == ("HSET", "k") and ttl == ("PERSIST", "k")
    mapping = dict(zip(hset[2::2], hset[3::2], strict=True))
    reply = [str(mapping[f]).encode() for f in proto.ENTRY_FIELDS]
    entry = proto.parse_entry(reply)
    assert entry == proto.StoredEntry("q", b"[]", "p1", "n1", math.inf)
    assert proto.parse_entry([None] * len(proto.ENTRY_FIELDS)) is None
    assert proto.parse_entry([b"q", None, b"p", b"n", b"inf"]) is None
    with pytest.raises(ProtocolError):
        proto.parse_entry([b"q"])


def test_missing_acl_permission_is_a_configuration_error() -> None:
    from langchain_valkey_semcache import ConfigurationError

    err = proto.translate(vex.NoPermissionError("No permissions to access a key"))
    assert isinstance(err, ConfigurationError) and "ACL" in str(err)


def test_knn_query_across_partitions_filters_the_namespace_only() -> None:
    cmd = proto.knn_search("idx", None, "n1", b"\0" * 16, 5, 150)
    assert cmd[2] == "(@ns:{n1})=>[KNN 5 @vec $vec EF_RUNTIME 150 AS score]"


def test_vector_settings_from_both_engines() -> None:
    hnsw = {"algorithm": "HNSW", "data_type": "FLOAT32", "m": 16, "ef_construction": 200}
    assert proto.parse_info(replies.REDISEARCH_INFO).vector == hnsw
    for reply in (replies.VALKEY_SEARCH_INFO, replies.VALKEY_SEARCH_12_INFO):
        info = proto.parse_info(reply)
        assert info.vector == {**hnsw, "ef_runtime": 10}
        assert dict(info.schema) == {"part": "TAG", "ns": "TAG", "vec": "VECTOR"}
    assert proto.parse_info(replies.VALKEY_SEARCH_12_INFO).dim == 4


def test_list_indexes() -> None:
    assert proto.list_indexes() == ("FT._LIST",)
    assert proto.parse_list(replies.FT_LIST) == ["agent_semcache", "idx"]
    with pytest.raises(ProtocolError):
        proto.parse_list(b"idx")


def test_filter_stays_within_elasticache_82_query_limits() -> None:
    """ElastiCache for Valkey 8.2 allows 16 terms per query string: the cache uses two."""
    vec = proto.encode_vector([1.0, 0.0, 0.0, 0.0], 4)
    query = proto.knn_search("idx", "a" * 64, "b" * 64, vec, 3, 150)[2]
    prefilter = query.split("=>")[0]
    assert prefilter.count("@") == 2 and len(prefilter.split()) == 2
    assert len(query) < 1024
