"""The EF_RUNTIME fitted to the index size (no server)."""

from __future__ import annotations

import pytest

from langchain_valkey_semcache import CacheConfig, ConfigurationError, ValkeySemanticCache
from langchain_valkey_semcache._index import ef_for
from tests.support import TableEmbeddings

K = 3


def test_wide_vectors_get_a_wider_beam() -> None:
    assert ef_for(50_000, 1024, K) > ef_for(50_000, 384, K)
    assert ef_for(10_000, 384, K) == 40, "measured: 40 suffices to 10k at 384-d"
    assert ef_for(10_000, 1024, K) == 80, "measured: 40 is short at 10k x 1024-d, 80 is not"
    assert ef_for(1_000, 1024, K) == ef_for(1_000, 384, K) == 40, "tiny indexes: 40 for both"
    assert ef_for(50_000, 768, K) == 2 * ef_for(50_000, 767, K), "768-d is wide"
    assert ef_for(None, 384, K) == ef_for(10**9, 384, K), "unknown size: the widest beam"
    assert ef_for(0, 8, 50) == 50, "never below the candidates asked for"
    steps = [ef_for(n, 384, K) for n in (0, 10**3, 10**4, 10**5, 10**6, 10**7)]
    assert steps == sorted(steps)


def test_config_takes_none_or_a_bounded_int() -> None:
    assert CacheConfig().hnsw_ef_runtime is None
    assert CacheConfig(hnsw_ef_runtime=4096).hnsw_ef_runtime == 4096
    for bad in (0, 4097, True, 1.5, "auto"):
        with pytest.raises(ConfigurationError, match="hnsw_ef_runtime"):
            CacheConfig(hnsw_ef_runtime=bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("dims", [384, 1024])
def test_the_cache_fits_the_beam_to_its_own_dimension(dims: int) -> None:
    # No connection is made until the first call; the size is unknown: the widest beam.
    cache = ValkeySemanticCache(TableEmbeddings(dims=dims), url="valkey://127.0.0.1:1", dims=dims)
    assert cache.ef_runtime_in_force == ef_for(None, dims, K)
    assert ef_for(None, 1024, K) > ef_for(None, 384, K)
