"""Which client takes a command when replicas serve the lookups' reads (no server)."""

from __future__ import annotations

import pytest

from langchain_valkey_semcache import CacheConfig, ConfigurationError
from langchain_valkey_semcache import _protocol as proto
from langchain_valkey_semcache._routing import RoundRobin, reads_only, target

VEC = proto.encode_vector([1.0, 0.0], 2)


def test_only_a_lookups_reads_go_to_the_reader() -> None:
    search = proto.knn_search("idx", "p", "n", VEC, 3, 10)
    assert reads_only([proto.get_entry("k")]) and reads_only([search])
    for writes in (
        [("HSET", "k", "a", "b"), ("EXPIRE", "k", "5")],
        [proto.get_entry("k"), ("UNLINK", "k")],
        [proto.info_index("idx")],
        [proto.create_index(proto.IndexSpec("idx", "p:", 2, 16, 200))],
        [],
    ):
        assert not reads_only(writes)
    assert target("primary", "replica", [search]) == "replica"
    assert target("primary", "replica", [proto.info_index("idx")]) == "primary"
    assert target("primary", None, [search]) == "primary"


def test_replicas_are_taken_in_turn() -> None:
    assert RoundRobin([]).pick() is None
    turns = RoundRobin(["a", "b"])
    assert [turns.pick() for _ in range(5)] == ["a", "b", "a", "b", "a"]


@pytest.mark.parametrize(
    "urls", [["valkey://r:6379"], ("http://r",), ("valkey://r", 5), "valkey://r"]
)
def test_replica_urls_must_be_a_tuple_of_valkey_urls(urls: object) -> None:
    with pytest.raises(ConfigurationError, match="replica_urls"):
        CacheConfig(replica_urls=urls)  # type: ignore[arg-type]
    assert CacheConfig(replica_urls=("valkey://r:6379", "rediss://r2:6380")).replica_urls
