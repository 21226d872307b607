"""Titan Text Embeddings V2 through langchain-aws, on a real boto3 client with Stubber."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.stub import Stubber
from langchain_aws import BedrockEmbeddings

from langchain_valkey_semcache import ValkeySemanticCache
from langchain_valkey_semcache.engine import LocalEngine
from tests.conftest import Api
from tests.support import TITAN_V2, at_similarity, aws_client, expect_titan


@pytest.fixture
def bedrock() -> tuple[Any, Stubber, list[dict[str, Any]]]:
    client = aws_client("bedrock-runtime")
    bodies: list[dict[str, Any]] = []
    client.meta.events.register(
        "provide-client-params.bedrock-runtime.InvokeModel",
        lambda params, **_: bodies.append(json.loads(params["body"])),
    )
    return client, Stubber(client), bodies


async def test_titan_v2_through_the_cache(
    engine: LocalEngine,
    index_name: str,
    mode: str,
    bedrock: tuple[Any, Stubber, list[dict[str, Any]]],
) -> None:
    client, stub, bodies = bedrock
    emb = BedrockEmbeddings(client=client, model_id=TITAN_V2, dimensions=1024,
                            model_kwargs={"normalize": True})  # fmt: skip
    cache = ValkeySemanticCache(emb, url=engine.url, index_name=index_name, dims=1024)
    api = Api(cache, mode)
    expect_titan(stub, at_similarity(1.0, 1024))  # the miss
    expect_titan(stub, at_similarity(0.93, 1024))  # the paraphrase
    with stub:
        assert (await api.search("What is semantic caching?")).hit is None
        await api.store("What is semantic caching?", "Reusing answers by meaning.")
        assert (await api.check("What is semantic caching?")).exact
        hit = await api.check("Explain semantic caching")
        assert hit is not None and hit.similarity == pytest.approx(0.93, abs=1e-4)
        stub.assert_no_pending_responses()
    assert bodies == [
        {"inputText": "What is semantic caching?", "dimensions": 1024, "normalize": True},
        {"inputText": "Explain semantic caching", "dimensions": 1024, "normalize": True},
    ]


@pytest.mark.parametrize(
    "code", ["ThrottlingException", "ValidationException", "ModelTimeoutException"]
)
async def test_bedrock_errors_are_counted_misses(
    engine: LocalEngine,
    index_name: str,
    mode: str,
    code: str,
    bedrock: tuple[Any, Stubber, list[dict[str, Any]]],
) -> None:
    client, stub, _ = bedrock
    emb = BedrockEmbeddings(client=client, model_id=TITAN_V2)
    cache = ValkeySemanticCache(emb, url=engine.url, index_name=index_name)
    stub.add_client_error("invoke_model", service_error_code=code, http_status_code=400)
    with stub:
        assert (await Api(cache, mode).search("What is semantic caching?")).hit is None
    assert cache.stats().by_error == {"EmbeddingError": 1}
