"""Every command the cache sends, word for word: the portable dialect of ENGINE.md, pinned
(the engines' own acceptance of it is the integration suite's)."""

from __future__ import annotations

import math

import pytest

from langchain_valkey_semcache import _protocol as proto
from langchain_valkey_semcache._errors import EmbeddingError

VEC = proto.encode_vector([1.0, 0.0, 0.0, 0.0], 4)


def test_create_index() -> None:
    assert proto.create_index(proto.IndexSpec("idx", "t:", 4, 16, 200)) == (
        "FT.CREATE", "idx", "ON", "HASH", "PREFIX", "1", "t:", "SCHEMA",
        "part", "TAG", "ns", "TAG",
        "vec", "VECTOR", "HNSW", "10", "TYPE", "FLOAT32", "DIM", "4",
        "DISTANCE_METRIC", "COSINE", "M", "16", "EF_CONSTRUCTION", "200",
    )  # fmt: skip


def test_knn_search_and_the_probe() -> None:
    assert proto.knn_search("idx", "p1", "n1", VEC, 3, 40) == (
        "FT.SEARCH", "idx", "(@part:{p1} @ns:{n1})=>[KNN 3 @vec $vec EF_RUNTIME 40 AS score]",
        "PARAMS", "2", "vec", VEC, "RETURN", "4", "score", "prompt", "answer", "expires_at",
        "LIMIT", "0", "3", "DIALECT", "2",
    )  # fmt: skip
    every = proto.knn_search("idx", None, "n1", VEC, 5, 80, batches=True)
    assert every[2] == "(@ns:{n1})=>[KNN 5 @vec $vec EF_RUNTIME 80 HYBRID_POLICY BATCHES AS score]"
    assert proto.knn_probe("idx", 4) == proto.knn_search(
        "idx", "probe", "probe", VEC, 1, 10, batches=True
    )


def test_entry_commands() -> None:
    hset, ttl = proto.write_entry("t:k", prompt="q", answer="[]", part="p", ns="n", vector=VEC,
                                  expires_at=None, ttl_seconds=None)  # fmt: skip
    assert hset == ("HSET", "t:k", "prompt", "q", "answer", "[]", "part", "p", "ns", "n",
                    "vec", VEC, "expires_at", "inf")  # fmt: skip
    assert ttl == ("PERSIST", "t:k")
    hset, ttl = proto.write_entry("t:k", prompt="q", answer="[]", part="p", ns="n", vector=VEC,
                                  expires_at=1.5, ttl_seconds=60)  # fmt: skip
    assert hset[-2:] == ("expires_at", "1.5") and ttl == ("EXPIRE", "t:k", "60")
    assert proto.get_entry("t:k") == ("HMGET", "t:k", "prompt", "answer", "part", "ns",
                                      "expires_at")  # fmt: skip
    assert proto.new_entries([5, 1, 0, 1, 6, True, "x", 1]) == 2  # created: HSET added fields


def test_the_other_commands() -> None:
    assert proto.info_index("idx") == ("FT.INFO", "idx")
    assert proto.drop_index("idx") == ("FT.DROPINDEX", "idx")
    assert proto.list_indexes() == ("FT._LIST",)
    assert proto.module_list() == ("MODULE", "LIST")
    assert proto.unlink("t:k") == ("UNLINK", "t:k")
    assert proto.pttl("t:k") == ("PTTL", "t:k")
    assert proto.memory_usage("t:k") == ("MEMORY", "USAGE", "t:k", "SAMPLES", "0")
    assert proto.server_info("cluster") == ("INFO", "cluster")
    assert [proto.names_no_key(c) for c in (("FT.SEARCH",), ("module", "list"), ("HSET",), ())] == [
        True, True, False, False,
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("vector", "dim", "message"),
    [
        (["a", "b"], None, "embedding is not a vector of numbers: "),
        ([[1.0, 2.0]], None, r"embedding must be a non-empty 1-d vector, got shape \(1, 2\)"),
        ([], None, r"embedding must be a non-empty 1-d vector, got shape \(0,\)"),
        ([1.0, 2.0], 3, "embedding has 2 dimensions, the index expects 3"),
        ([1.0, math.nan], None, "embedding contains NaN or infinite values"),
        ([0.0, 0.0], None, "embedding is the zero vector; cosine similarity is undefined"),
    ],
)
def test_what_is_not_a_vector(vector: list, dim: int | None, message: str) -> None:
    with pytest.raises(EmbeddingError, match=f"^{message}"):
        proto.encode_vector(vector, dim)


def test_tag_values() -> None:
    assert proto.tag("abc_123") == "abc_123"
    with pytest.raises(
        ValueError, match=r"TAG values must match \[A-Za-z0-9_\]\{1,128\}, got 'a b'"
    ):
        proto.tag("a b")


def test_translated_errors_keep_what_the_server_said() -> None:
    import valkey.exceptions as vex

    down = proto.translate(vex.ConnectionError("Connection refused"))
    assert str(down) == "Valkey unavailable: ConnectionError: Connection refused"
    missing = proto.translate(vex.ResponseError("Unknown index name"))
    assert isinstance(missing, proto.IndexMissingError) and str(missing) == "Unknown index name"
    assert str(proto.translate(vex.ResponseError("odd"))) == "server error: odd"
