"""The app as production builds it: ``create_app(settings)`` with nothing injected.

Titan embeddings, ``ChatBedrockConverse`` (plain and streaming) and the Secrets Manager
password are real boto3 clients answered by botocore ``Stubber``; the cache is Engine B
(TLS + password). Only the client factory is redirected to the stubbed clients.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from agentcore_app.invoke import invoke_url
from agentcore_app.main import create_app
from agentcore_app.serve import serve_in_thread as _serve
from agentcore_app.settings import DEFAULT_LLM, Settings
from langchain_valkey_semcache.engine import LocalEngine, free_port
from tests.engine_b import PASSWORD, engine_b_fixture
from tests.support import (
    at_similarity,
    aws_client,
    expect_converse,
    expect_converse_stream,
    expect_titan,
)

ARN = "arn:aws:secretsmanager:us-west-2:123456789012:secret:valkey-auth-AbCdEf"
Q = "What is semantic caching?"
PARA = "What does semantic caching mean?"
OTHER = "How do I size an ElastiCache node?"
FAILING = "Why would the model fail?"
tls_engine = engine_b_fixture()
TITAN_BODIES: list[dict[str, Any]] = []


@pytest.fixture
def stubs(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Stubber]]:
    """Stubbers on real clients; every boto3 session hands out these clients."""
    clients = {name: aws_client(name) for name in ("bedrock-runtime", "bedrock", "secretsmanager")}

    def client(self: Any, service_name: str, *args: Any, **kwargs: Any) -> Any:
        return clients[service_name]

    monkeypatch.setattr(boto3.session.Session, "client", client)
    clients["bedrock-runtime"].meta.events.register(
        "provide-client-params.bedrock-runtime.InvokeModel",
        lambda params, **_: TITAN_BODIES.append(json.loads(params["body"])),
    )
    TITAN_BODIES.clear()
    stubbers = {name: Stubber(c) for name, c in clients.items()}
    for stub in stubbers.values():
        stub.activate()
    yield stubbers
    for stub in stubbers.values():
        stub.deactivate()


@pytest.fixture
def app_url(
    tls_engine: tuple[LocalEngine, Path],
    stubs: dict[str, Stubber],
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[str]:
    engine, ca = tls_engine
    monkeypatch.setenv("VALKEY_CA_FILE", str(ca))
    settings = Settings.from_env({
        "VALKEY_HOST": "127.0.0.1", "VALKEY_PORT": str(engine.port), "VALKEY_SSL": "true",
        "VALKEY_AUTH_SECRET_ARN": ARN, "AWS_REGION": "us-west-2",
    })  # fmt: skip
    assert (settings.embedding_model_id, settings.llm_model_id) == (
        "amazon.titan-embed-text-v2:0",
        DEFAULT_LLM,
    )  # the shipped defaults
    secret = json.dumps({"username": "default", "password": PASSWORD})
    stubs["secretsmanager"].add_response(
        "get_secret_value", {"SecretString": secret}, {"SecretId": ARN}
    )
    app = create_app(settings)
    stubs["secretsmanager"].assert_no_pending_responses()
    app.state.cache.drop_index()
    port = free_port()
    server, thread = _serve(app, port)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def call(url: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    return list(invoke_url(url, body, str(uuid.uuid4())))


@pytest.mark.tls
def test_production_wiring_over_tls_with_bedrock(app_url: str, stubs: dict[str, Stubber]) -> None:
    runtime = stubs["bedrock-runtime"]  # one client: embeddings and the chat model, in order
    expect_titan(runtime, at_similarity(1.0, 1024))
    expect_converse(runtime, DEFAULT_LLM, "Reusing answers to equivalent questions.")
    [first] = call(app_url, {"prompt": Q})
    assert first["cache_hit"] is False and first["model_id"] == DEFAULT_LLM
    assert first["response"] == "Reusing answers to equivalent questions."

    expect_titan(runtime, at_similarity(0.97, 1024))  # a paraphrase: FT.SEARCH over TLS
    [para] = call(app_url, {"prompt": PARA})
    assert para["cache_hit"] is True and para["response"] == first["response"]
    assert para["similarity_score"] == pytest.approx(0.97, abs=1e-3)

    expect_titan(runtime, at_similarity(0.3, 1024))
    expect_converse_stream(runtime, DEFAULT_LLM, ["Pick ", "by ", "memory."])
    events = call(app_url, {"prompt": OTHER, "stream": True})
    assert [e["delta"] for e in events if "delta" in e] == ["Pick ", "by ", "memory."]
    assert events[-1]["done"] is True and events[-1]["cache_hit"] is False
    assert events[-1]["response"] == "Pick by memory."
    again = call(app_url, {"prompt": OTHER, "stream": True})  # exact repeat: no AWS call
    assert again[0] == {"delta": "Pick by memory."} and again[-1]["cache_hit"] is True

    expect_titan(runtime, at_similarity(0.1, 1024))
    runtime.add_client_error("converse", "AccessDeniedException", "no access", 403)
    [failed] = call(app_url, {"prompt": FAILING})
    assert failed["http_status"] == 502 and failed["error"]["type"] == "agent_error"
    expect_titan(runtime, at_similarity(0.2, 1024))
    runtime.add_client_error("converse_stream", "AccessDeniedException", "no access", 403)
    streamed = call(app_url, {"prompt": FAILING + " (streamed)", "stream": True})
    assert streamed[-1] == {"error": {"type": "agent_error", "message": "the model call failed"}}
    runtime.assert_no_pending_responses()
    assert TITAN_BODIES[0] == {"inputText": Q, "dimensions": 1024, "normalize": True}
    assert len(TITAN_BODIES) == 5  # one per miss or paraphrase: none for the exact repeat
