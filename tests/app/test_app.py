"""The AgentCore app over real HTTP on a local port, its client command and its settings."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.response import StreamingBody
from botocore.stub import ANY, Stubber
from langchain_aws import ChatBedrockConverse

from agentcore_app.agent import make_verifier
from agentcore_app.invoke import invoke_arn, invoke_url
from agentcore_app.invoke import main as invoke_main
from agentcore_app.main import BadRequest, create_app, parse_request
from agentcore_app.offline import OfflineChatModel
from agentcore_app.serve import serve_in_thread as _serve
from agentcore_app.settings import Settings, SettingsError, read_secret
from langchain_valkey_semcache.engine import LocalEngine, free_port
from langchain_valkey_semcache.guards import GuardVerifier
from langchain_valkey_semcache.judge import JudgeVerifier, bedrock_judge_model
from langchain_valkey_semcache.verification import AllOf
from tests.app.env import local_settings as _settings
from tests.support import TableEmbeddings, at_similarity, aws_client, expect_converse

Q = "What is semantic caching?"
PARA = "What does semantic caching mean?"
OTHER = "Is semantic caching difficult?"


@pytest.fixture
def table() -> TableEmbeddings:
    return TableEmbeddings(
        {Q: at_similarity(1.0), PARA: at_similarity(0.97), OTHER: at_similarity(0.85)}
    )


@pytest.fixture
def server(engine: LocalEngine, table: TableEmbeddings) -> Iterator[str]:
    app = create_app(_settings(engine.port), embeddings=table, model=OfflineChatModel(latency_ms=0))
    app.state.cache.drop_index()
    port = free_port()
    srv, thread = _serve(app, port)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)


def call(url: str, body: Any) -> dict[str, Any]:
    return next(invoke_url(url, body, str(uuid.uuid4())))


def test_seed_session_over_http(server: str, table: TableEmbeddings) -> None:
    first = call(server, {"prompt": Q})
    assert first["cache_hit"] is False and first["model_id"] == "offline"
    assert "offline demo model" in first["response"]
    assert set(first["timing_ms"]) == {
        "cache_search",
        "embedding",
        "vector_search",
        "verification",
        "agent_invocation",
        "cache_store",
        "total",
    }
    calls = len(table.calls)
    again = call(server, {"prompt": Q})
    assert again["cache_hit"] is True and again["similarity_score"] == 1.0
    assert again["response"] == first["response"] and len(table.calls) == calls
    assert set(again["timing_ms"]) == {
        "cache_search", "embedding", "vector_search", "verification", "total"
    }  # fmt: skip
    assert call(server, {"prompt": OTHER})["cache_hit"] is False
    para = call(server, {"prompt": PARA})
    assert para["cache_hit"] is True and para["similarity_score"] == pytest.approx(0.97, abs=1e-3)
    strict = call(server, {"prompt": PARA, "min_similarity": 0.99})
    assert strict["cache_hit"] is False


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({}, '"prompt" is required'),
        ({"prompt": 42}, '"prompt" is required'),
        ({"prompt": "   "}, "must not be empty"),
        ({"prompt": "x" * 5000}, "the limit is 4000"),
        ({"prompt": Q, "min_similarity": 1.5}, "between 0 and 1"),
        ({"prompt": Q, "min_similarity": "high"}, "between 0 and 1"),
        ({"prompt": Q, "min_similarity": True}, "between 0 and 1"),
        ({"prompt": Q, "tenant": ""}, '"tenant"'),
        ({"prompt": Q, "tenant": 7}, '"tenant"'),
        ({"prompt": Q, "stream": "yes"}, '"stream"'),
        (["not", "an", "object"], "JSON object"),
    ],
)
def test_bad_payloads_get_clear_errors(server: str, body: Any, needle: str) -> None:
    result = call(server, body)
    assert result["http_status"] == 400 and result["error"]["type"] == "bad_request"
    assert needle in result["error"]["message"]
    assert "Traceback" not in json.dumps(result)


def test_invalid_json_is_rejected(server: str) -> None:
    import urllib.error
    import urllib.request

    request = urllib.request.Request(
        server + "/invocations",
        data=b"{nope",
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(request, timeout=10)
    assert info.value.code == 400
    error = json.loads(info.value.read())["error"]  # the shape of every bad payload
    assert error["type"] == "bad_request" and "not valid JSON" in error["message"]


def test_streaming_sends_deltas_then_the_summary(server: str) -> None:
    events = list(invoke_url(server, {"prompt": Q, "stream": True}, "s"))
    deltas = [e["delta"] for e in events if "delta" in e]
    done = events[-1]
    assert len(deltas) > 3 and done["done"] is True and done["cache_hit"] is False
    assert "".join(deltas) == done["response"]
    cached = list(invoke_url(server, {"prompt": Q, "stream": True}, "s"))
    assert cached[-1]["cache_hit"] is True and cached[0]["delta"] == done["response"]


def test_unreachable_cache_keeps_the_agent_answering(table: TableEmbeddings) -> None:
    settings = _settings(free_port())
    app = create_app(settings, embeddings=table, model=OfflineChatModel(latency_ms=0))
    port = free_port()
    srv, thread = _serve(app, port)
    try:
        result = call(f"http://127.0.0.1:{port}", {"prompt": Q})
        assert result["cache_hit"] is False and "offline demo model" in result["response"]
    finally:
        srv.should_exit = True
        thread.join(timeout=10)


def test_client_command_prints_like_the_seed(
    server: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert invoke_main([Q, "--url", server, "--session-id", "abc"]) == 0
    assert invoke_main([Q, "--url", server, "-m", "0.95"]) == 0
    out = capsys.readouterr().out
    assert "Session ID: abc" in out and "Cache Miss ✗" in out and "Cache Hit ✓" in out
    assert "Model Used: offline" in out and "Similarity Score: 1.0000" in out
    for label in ("Cache Search", "Embedding Generation", "Vector Search", "LLM Call", "Total"):
        assert f"{label}: " in out
    assert invoke_main(["  ", "--url", server]) == 1
    assert "must not be empty" in capsys.readouterr().out


def test_client_command_against_a_runtime_arn() -> None:
    client = aws_client("bedrock-agentcore")
    body = json.dumps(
        {"response": "hi", "cache_hit": True, "similarity_score": 0.95, "timing_ms": {"total": 3.0}}
    ).encode()
    arn = "arn:aws:bedrock-agentcore:us-west-2:123456789012:runtime/semcache-abc"
    with Stubber(client) as stub:
        stub.add_response(
            "invoke_agent_runtime",
            {
                "contentType": "application/json",
                "statusCode": 200,
                "response": StreamingBody(io.BytesIO(body), len(body)),
            },
            {"agentRuntimeArn": arn, "runtimeSessionId": "s" * 33, "payload": ANY},
        )
        result = list(invoke_arn(arn, "us-west-2", {"prompt": Q}, "s" * 33, client=client))
    assert result == [json.loads(body)]


def test_settings_errors_name_every_problem() -> None:
    with pytest.raises(SettingsError) as info:
        Settings.from_env(
            {
                "VALKEY_PORT": "http",
                "SIMILARITY_THRESHOLD": "0.8x",
                "VALKEY_SSL": "maybe",
                "VECTOR_DIMS": "300",
                "VALKEY_AUTH_SECRET_ARN": "token",
            }
        )
    message = str(info.value)
    for name in (
        "VALKEY_PORT",
        "SIMILARITY_THRESHOLD",
        "VALKEY_SSL",
        "VECTOR_DIMS",
        "VALKEY_AUTH_SECRET_ARN",
    ):
        assert name in message
    with pytest.raises(SettingsError, match="384"):
        Settings.from_env({"EMBEDDING_MODEL_ID": "local-minilm", "VECTOR_DIMS": "1024"})
    with pytest.raises(SettingsError, match=r"\[0, 1\]"):
        Settings.from_env({"SIMILARITY_THRESHOLD": "80"})
    seed = Settings.from_env({})
    assert (seed.valkey_port, seed.valkey_ssl, seed.vector_dims, seed.similarity_threshold) == (
        6379,
        False,  # localhost: no TLS (tests/app/test_run.py covers remote hosts)
        1024,
        0.9,
    )


def test_the_index_name_carries_a_dimension_other_than_titans_default() -> None:
    """A VECTOR_DIMS change lands in a fresh index (and key prefix), not on the old DIM."""
    from agentcore_app.agent import make_cache

    names = {dims: Settings.from_env({"VECTOR_DIMS": dims}).index_name for dims in ("1024", "512")}
    assert names == {"1024": "agent_semcache", "512": "agent_semcache_512d"}
    local = Settings.from_env({"EMBEDDING_MODEL_ID": "local-minilm"})
    assert local.index_name == "agent_semcache_384d"
    settings = Settings.from_env({"VECTOR_DIMS": "256"})
    cache = make_cache(settings, TableEmbeddings(), verifier=GuardVerifier())
    assert (cache.config.index_name, cache.config.prefix, cache.config.dims) == (
        "agent_semcache_256d", "agent_semcache_256d:", 256)  # fmt: skip


def test_server_refuses_to_start_with_bad_settings() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "agentcore_app", "--port", "1"],
        env={"PATH": "/usr/bin", "VALKEY_PORT": "99999"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2 and "VALKEY_PORT='99999' is out of range" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_auth_token_from_secrets_manager() -> None:
    client = aws_client("secretsmanager")
    arn = "arn:aws:secretsmanager:us-west-2:123456789012:secret:valkey-auth-AbCdEf"
    with Stubber(client) as stub:
        stub.add_response("get_secret_value", {"SecretString": "tok3n"}, {"SecretId": arn})
        stub.add_response(
            "get_secret_value",
            {"SecretString": '{"username": "app", "password": "pw"}'},
            {"SecretId": arn},
        )
        stub.add_response("get_secret_value", {"SecretString": '{"other": 1}'}, {"SecretId": arn})
        assert read_secret(arn, "us-west-2", client) == (None, "tok3n")
        assert read_secret(arn, "us-west-2", client) == ("app", "pw")
        with pytest.raises(SettingsError):
            read_secret(arn, "us-west-2", client)


def test_parse_request_accepts_the_documented_shape() -> None:
    req = parse_request({"prompt": Q, "min_similarity": 0.8, "tenant": "t", "stream": True}, 100)
    assert (req.prompt, req.min_similarity, req.tenant, req.stream) == (Q, 0.8, "t", True)
    with pytest.raises(BadRequest):
        parse_request({"prompt": Q, "min_similarity": float("nan")}, 100)


def test_judge_setting_gates_hits_over_http(engine: LocalEngine) -> None:
    model_id = "us.anthropic.claude-haiku-4-5-20251001-v1:0"
    settings = _settings(engine.port, LLM_MODEL_ID=model_id, CACHE_JUDGE="true",
                         CACHE_JUDGE_TRUST_ABOVE="0.99")  # fmt: skip
    # "How does it work?" passes the guards (both open questions): only the judge can refuse it.
    # (OTHER, "Is semantic caching difficult?", is refused by the guards before any judge call.)
    how = "How does semantic caching work?"
    table = TableEmbeddings(
        {Q: at_similarity(1.0), PARA: at_similarity(0.97), how: at_similarity(0.95),
         OTHER: at_similarity(0.96)}
    )  # fmt: skip
    client = aws_client("bedrock-runtime")
    stub = Stubber(client)
    judge = bedrock_judge_model(model_id, "us-west-2", client)
    app = create_app(settings, embeddings=table, model=OfflineChatModel(latency_ms=0),
                     judge_model=judge)  # fmt: skip
    app.state.cache.drop_index()
    port = free_port()
    srv, thread = _serve(app, port)
    url = f"http://127.0.0.1:{port}"
    try:
        with stub:
            assert call(url, {"prompt": Q})["cache_hit"] is False
            assert call(url, {"prompt": Q})["cache_hit"] is True  # exact: no judge call
            expect_converse(stub, model_id, "YES")
            assert call(url, {"prompt": PARA})["cache_hit"] is True  # 0.97: judged, YES
            expect_converse(stub, model_id, "NO")
            assert call(url, {"prompt": how})["cache_hit"] is False  # 0.95: judged, NO
            assert call(url, {"prompt": OTHER})["cache_hit"] is False  # refused by the guards
            stub.assert_no_pending_responses()
    finally:
        srv.should_exit = True
        thread.join(timeout=10)


def test_judge_settings() -> None:
    judged = Settings.from_env({"CACHE_JUDGE": "true", "CACHE_JUDGE_MAX_CALLS_PER_MINUTE": "10"})
    verifier = make_verifier(judged)
    assert isinstance(verifier, AllOf)
    guards, judge = verifier.verifiers
    assert isinstance(guards, GuardVerifier) and isinstance(judge, JudgeVerifier)
    assert (judge.max_calls, judge.per_seconds, judge.trust_above) == (10, 60, 0.97)
    assert isinstance(judge.llm, ChatBedrockConverse) and judge.llm.max_tokens == 3
    assert judge.llm.model_id == judged.llm_model_id
    assert isinstance(make_verifier(Settings.from_env({})), GuardVerifier)
    with pytest.raises(SettingsError) as info:
        Settings.from_env({
            "CACHE_JUDGE": "true", "LLM_MODEL_ID": "offline",
            "CACHE_JUDGE_TRUST_ABOVE": "2", "CACHE_JUDGE_MAX_CALLS_PER_MINUTE": "-1",
        })  # fmt: skip
    for needle in ("needs a Bedrock LLM_MODEL_ID", "CACHE_JUDGE_TRUST_ABOVE",
                   "CACHE_JUDGE_MAX_CALLS_PER_MINUTE"):  # fmt: skip
        assert needle in str(info.value)
