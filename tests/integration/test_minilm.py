"""Similarity behaviour with the real offline all-MiniLM-L6-v2 model."""

from __future__ import annotations

import pytest

from langchain_valkey_semcache import ValkeySemanticCache
from langchain_valkey_semcache.embeddings import MiniLMEmbeddings
from langchain_valkey_semcache.engine import LocalEngine

SEED = "What is semantic caching?"


@pytest.fixture(scope="module")
def minilm() -> MiniLMEmbeddings:
    return MiniLMEmbeddings()


@pytest.mark.parametrize(
    ("question", "served"),
    [
        ("What is semantic caching?", True),
        ("What does semantic caching mean?", True),
        ("Is semantic caching difficult?", False),  # the seed served this: wrong
        ("How do I implement semantic caching?", False),
        ("Is cheese naan delicious?", False),
    ],
)
def test_default_threshold_on_real_embeddings(
    engine: LocalEngine, index_name: str, minilm: MiniLMEmbeddings, question: str, served: bool
) -> None:
    cache = ValkeySemanticCache(minilm, url=engine.url, index_name=index_name)
    cache.store(SEED, "Semantic caching reuses answers of equivalent questions.")
    result = cache.search(question)
    assert (result.hit is not None) is served, result.best_similarity


def test_minilm_vectors_are_unit_384(minilm: MiniLMEmbeddings) -> None:
    vec = minilm.embed_query("hello")
    assert len(vec) == 384
    assert sum(x * x for x in vec) == pytest.approx(1.0, abs=1e-4)
