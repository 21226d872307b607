"""Tenants from the caller's identity, over real HTTP on the real app and engine.

The runtime's JWT authorizer validates tokens before a request reaches the app; the app
decodes the claims, so the tokens here are built by hand (an unverified signature).
"""

from __future__ import annotations

import base64
import json
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.stub import ANY, Stubber

from agentcore_app.identity import USER_ID_HEADER, Policy, TenantSource, bearer_claims
from agentcore_app.invoke import identity_headers, invoke_arn, invoke_url, runtime_url
from agentcore_app.invoke import main as invoke_main
from agentcore_app.main import create_app
from agentcore_app.offline import OfflineChatModel
from agentcore_app.serve import serve_in_thread
from agentcore_app.settings import Settings, SettingsError
from langchain_valkey_semcache.engine import LocalEngine, free_port
from tests.app.env import local_settings as settings_for
from tests.support import TableEmbeddings, at_similarity, aws_client

Q = "What is semantic caching?"
PARA = "What does semantic caching mean?"
NEAR = "Explain semantic caching."


def jwt(claims: dict[str, Any]) -> str:
    """A JWT as the runtime forwards it (its signature was checked there, not here)."""

    def segment(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{segment({'alg': 'RS256', 'kid': 'k1'})}.{segment(claims)}.c2lnbmF0dXJl"


def bearer(tenant: str | None, sub: str = "u-1", **extra: Any) -> dict[str, str]:
    claims = {"sub": sub, "exp": int(time.time()) + 3600, **extra}
    if tenant is not None:
        claims["tenant"] = tenant
    return {"Authorization": f"Bearer {jwt(claims)}"}


def call(url: str, body: Any, headers: dict[str, str] | None = None) -> dict[str, Any]:
    return next(invoke_url(url, body, str(uuid.uuid4()), headers=headers))


def raw_post(url: str, data: bytes) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        url + "/invocations", data=data, method="POST",
        headers={"Content-Type": "application/json"},
    )  # fmt: skip
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


@pytest.fixture
def serve(engine: LocalEngine) -> Iterator[Callable[..., str]]:
    """``serve(TENANT_SOURCE=...)``: the app on a local port with those settings."""
    running: list[Any] = []
    table = TableEmbeddings(
        {Q: at_similarity(1.0), PARA: at_similarity(0.97), NEAR: at_similarity(0.92)}
    )

    def start(**env: str) -> str:
        app = create_app(
            settings_for(engine.port, **env), embeddings=table, model=OfflineChatModel(latency_ms=0)
        )
        app.state.cache.drop_index()
        port = free_port()
        running.append(serve_in_thread(app, port))
        return f"http://127.0.0.1:{port}"

    yield start
    for server, thread in running:
        server.should_exit = True
        thread.join(timeout=10)


def test_jwt_tenants_never_see_each_others_answers(serve: Callable[..., str]) -> None:
    url = serve(TENANT_SOURCE="jwt:tenant")
    a, b = bearer("tenant-a", sub="alice"), bearer("tenant-b", sub="bob")
    first = call(url, {"prompt": Q}, a)
    assert first["cache_hit"] is False
    assert call(url, {"prompt": Q}, b)["cache_hit"] is False  # B's own miss, stored for B
    assert call(url, {"prompt": PARA}, a)["cache_hit"] is True
    # Another user of tenant A shares A's namespace (CACHE_SCOPE=tenant, the default).
    again = call(url, {"prompt": Q}, bearer("tenant-a", sub="carol"))
    assert again["cache_hit"] is True and again["response"] == first["response"]


def test_a_body_tenant_cannot_override_the_token(serve: Callable[..., str]) -> None:
    url = serve(TENANT_SOURCE="jwt:tenant")
    assert call(url, {"prompt": Q}, bearer("victim-corp"))["cache_hit"] is False
    attack = call(url, {"prompt": Q, "tenant": "victim-corp"}, bearer("attacker"))
    assert attack["http_status"] == 403 and attack["error"]["type"] == "forbidden"
    assert "response" not in attack
    # Naming one's own tenant is allowed (and changes nothing).
    assert call(url, {"prompt": Q, "tenant": "victim-corp"}, bearer("victim-corp"))["cache_hit"]
    assert call(url, {"prompt": Q}, bearer("attacker"))["cache_hit"] is False


@pytest.mark.parametrize(
    ("headers", "needle"),
    [
        ({}, "Authorization: Bearer"),
        ({"Authorization": "Basic dXNlcjpwdw=="}, "Bearer <token>"),
        ({"Authorization": "Bearer not-a-jwt"}, "not a JWT"),
        ({"Authorization": "Bearer a.!!!.c"}, "not base64url JSON"),
        ({"Authorization": f"Bearer {jwt({'sub': 'x'})}"}, "no 'tenant' claim"),
        (bearer(""), "no 'tenant' claim"),
        ({"Authorization": f"Bearer {jwt({'tenant': ['a']})}"}, "no 'tenant' claim"),
        (bearer("a", exp=int(time.time()) - 3600), "expired"),
    ],
)
def test_no_usable_token_is_401(
    serve: Callable[..., str], headers: dict[str, str], needle: str
) -> None:
    url = serve(TENANT_SOURCE="jwt:tenant")
    result = call(url, {"prompt": Q}, headers)
    assert result["http_status"] == 401 and result["error"]["type"] == "unauthorized"
    assert needle in result["error"]["message"]


def test_without_tenants_a_body_tenant_is_400(serve: Callable[..., str]) -> None:
    url = serve()  # TENANT_SOURCE=none, the default
    result = call(url, {"prompt": Q, "tenant": "victim-corp"})
    assert result["http_status"] == 400 and result["error"]["type"] == "bad_request"
    assert "TENANT_SOURCE=jwt:<claim>" in result["error"]["message"]
    assert call(url, {"prompt": Q})["cache_hit"] is False  # one shared namespace
    assert call(url, {"prompt": Q}, bearer("other"))["cache_hit"] is True


def test_min_similarity_below_the_floor_is_400(serve: Callable[..., str]) -> None:
    url = serve()  # floor: the cache's threshold, 0.9
    assert call(url, {"prompt": Q})["cache_hit"] is False
    loose = call(url, {"prompt": NEAR, "min_similarity": 0.0})
    assert loose["http_status"] == 400
    assert "below this deployment's floor 0.9" in loose["error"]["message"]
    assert call(url, {"prompt": NEAR, "min_similarity": 0.89})["http_status"] == 400
    assert call(url, {"prompt": PARA, "min_similarity": 0.9})["cache_hit"] is True  # at it
    assert call(url, {"prompt": PARA, "min_similarity": 0.99})["cache_hit"] is False  # above


def test_an_explicit_floor_allows_looser_requests(serve: Callable[..., str]) -> None:
    url = serve(SIMILARITY_THRESHOLD="0.95", MIN_SIMILARITY_FLOOR="0.9")
    assert call(url, {"prompt": Q})["cache_hit"] is False
    assert call(url, {"prompt": NEAR})["cache_hit"] is False  # 0.92 < 0.95
    assert call(url, {"prompt": NEAR, "min_similarity": 0.91})["cache_hit"] is True
    assert call(url, {"prompt": NEAR, "min_similarity": 0.85})["http_status"] == 400


def test_user_id_header_is_the_tenant(serve: Callable[..., str]) -> None:
    url = serve(TENANT_SOURCE="user-id")
    missing = call(url, {"prompt": Q})
    assert missing["http_status"] == 401 and USER_ID_HEADER in missing["error"]["message"]
    assert call(url, {"prompt": Q}, {USER_ID_HEADER: "u-1"})["cache_hit"] is False
    assert call(url, {"prompt": Q}, {USER_ID_HEADER: "u-2"})["cache_hit"] is False
    assert call(url, {"prompt": Q}, {USER_ID_HEADER.lower(): "u-1"})["cache_hit"] is True
    spoof = call(url, {"prompt": Q, "tenant": "u-1"}, {USER_ID_HEADER: "u-2"})
    assert spoof["http_status"] == 403


def test_per_user_scope_keeps_users_of_one_tenant_apart(serve: Callable[..., str]) -> None:
    url = serve(TENANT_SOURCE="jwt:custom:tenant_id", CACHE_SCOPE="user")

    def token(tenant: str, sub: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {jwt({'custom:tenant_id': tenant, 'sub': sub})}"}

    assert call(url, {"prompt": Q}, token("acme", "alice"))["cache_hit"] is False
    assert call(url, {"prompt": Q}, token("acme", "bob"))["cache_hit"] is False
    assert call(url, {"prompt": Q}, token("acme", "alice"))["cache_hit"] is True
    # A tenant/user pair cannot be forged by moving the split (as a joined string could).
    for (t1, u1), (t2, u2) in [
        (("a:b", "c"), ("a", "b:c")),
        (('a", "b', "c"), ("a", 'b", "c')),
        (("a", "b"), ('["a", "b"]', '["a", "b"]')),  # a tenant that spells a pair
    ]:
        assert call(url, {"prompt": Q}, token(t1, u1))["cache_hit"] is False
        assert call(url, {"prompt": Q}, token(t2, u2))["cache_hit"] is False
    no_sub = {"Authorization": f"Bearer {jwt({'custom:tenant_id': 'acme'})}"}
    assert call(url, {"prompt": Q}, no_sub)["http_status"] == 401


def test_payload_source_trusts_the_body(serve: Callable[..., str]) -> None:
    url = serve(TENANT_SOURCE="payload")
    call(url, {"prompt": Q, "tenant": "acme"})
    assert call(url, {"prompt": Q, "tenant": "other}|*"})["cache_hit"] is False
    assert call(url, {"prompt": Q, "tenant": "acme"})["cache_hit"] is True
    assert call(url, {"prompt": Q})["cache_hit"] is False  # no tenant: the shared namespace


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        (b"", "the body is empty"),
        (b"  \n", "the body is empty"),
        (b"{nope", "not valid JSON"),
        (b'{"prompt": "caf\xe9"}', "not valid JSON"),
    ],
)
def test_a_body_that_is_not_json_gets_the_one_error_shape(
    serve: Callable[..., str], data: bytes, needle: str
) -> None:
    status, body = raw_post(serve(), data)
    assert status == 400 and set(body) == {"error"}
    assert body["error"]["type"] == "bad_request" and needle in body["error"]["message"]


def test_client_sends_the_token_and_the_user_id(
    serve: Callable[..., str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = serve(TENANT_SOURCE="jwt:tenant")
    assert invoke_main([Q, "--url", url]) == 1
    assert "Authorization: Bearer" in capsys.readouterr().out
    token = bearer("acme")["Authorization"].removeprefix("Bearer ")
    assert invoke_main([Q, "--url", url, "--token", token]) == 0
    monkeypatch.setenv("SEMCACHE_BEARER_TOKEN", token)
    assert invoke_main([Q, "--url", url]) == 0
    assert "Cache Hit ✓" in capsys.readouterr().out
    by_user = serve(TENANT_SOURCE="user-id")
    assert invoke_main([Q, "--url", by_user, "--user-id", "u-7"]) == 0
    assert identity_headers(None, None) == {}


def test_client_user_id_and_token_against_a_runtime_arn() -> None:
    arn = "arn:aws:bedrock-agentcore:us-west-2:123456789012:runtime/semcache-abc"
    assert runtime_url(arn, "us-west-2") == (
        "https://bedrock-agentcore.us-west-2.amazonaws.com/runtimes/"
        "arn%3Aaws%3Abedrock-agentcore%3Aus-west-2%3A123456789012%3Aruntime%2Fsemcache-abc"
        "/invocations?qualifier=DEFAULT"
    )
    import io

    from botocore.response import StreamingBody

    client = aws_client("bedrock-agentcore")
    body = json.dumps({"response": "hi", "cache_hit": False}).encode()
    with Stubber(client) as stub:
        stub.add_response(
            "invoke_agent_runtime",
            {
                "contentType": "application/json",
                "statusCode": 200,
                "response": StreamingBody(io.BytesIO(body), len(body)),
            },
            {"agentRuntimeArn": arn, "runtimeSessionId": "s" * 33, "payload": ANY,
             "runtimeUserId": "u-7"},
        )  # fmt: skip
        got = list(invoke_arn(arn, "us-west-2", {"prompt": Q}, "s" * 33, client, user_id="u-7"))
    assert got == [json.loads(body)]


def test_tenancy_settings() -> None:
    default = Settings.from_env({})
    assert default.policy == Policy(TenantSource("none"), "tenant", 0.9)
    chosen = Settings.from_env(
        {"TENANT_SOURCE": "jwt:custom:tenant_id", "CACHE_SCOPE": "user",
         "SIMILARITY_THRESHOLD": "0.92", "MIN_SIMILARITY_FLOOR": "0.85"}
    )  # fmt: skip
    assert chosen.policy == Policy(TenantSource("jwt", "custom:tenant_id"), "user", 0.85)
    assert str(chosen.tenant_source) == "jwt:custom:tenant_id"
    with pytest.raises(SettingsError) as info:
        Settings.from_env(
            {"TENANT_SOURCE": "header", "CACHE_SCOPE": "everyone", "MIN_SIMILARITY_FLOOR": "2"}
        )
    for name in ("TENANT_SOURCE='header'", "CACHE_SCOPE", "MIN_SIMILARITY_FLOOR"):
        assert name in str(info.value)
    with pytest.raises(SettingsError, match="raise the threshold instead"):
        Settings.from_env({"MIN_SIMILARITY_FLOOR": "0.95"})
    with pytest.raises(SettingsError, match="CACHE_SCOPE=user needs"):
        Settings.from_env({"TENANT_SOURCE": "payload", "CACHE_SCOPE": "user"})
    for bad in ("jwt:", "jwt:a b", "JWT:tenant", "user_id"):
        with pytest.raises(SettingsError, match="TENANT_SOURCE"):
            Settings.from_env({"TENANT_SOURCE": bad})


def test_bearer_claims_reads_the_header_case_insensitively() -> None:
    from agentcore_app.identity import _Folded

    token = jwt({"tenant": "t", "exp": 100})
    assert bearer_claims(_Folded({"authorization": f"bearer {token}"}), now=100)["tenant"] == "t"
