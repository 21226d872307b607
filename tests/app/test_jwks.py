"""The optional in-app signature check (JWT_VERIFY_DISCOVERY_URL), over HTTP on the real app,
against a locally generated RSA key and a discovery document + JWKS served on 127.0.0.1."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from agentcore_app.identity import Refused
from agentcore_app.jwks import SHA256_DIGEST_INFO, TokenVerifier, rs256_valid
from agentcore_app.settings import Settings, SettingsError
from tests.app import test_tenancy as tenancy
from tests.app.test_tenancy import Q, call, jwt

serve = tenancy.serve  # the app on a local port, with chosen settings (a fixture)


def _probably_prime(n: int) -> bool:
    if n < 2 or any(n % p == 0 for p in (2, 3, 5, 7, 11, 13, 17, 19, 23, 29)):
        return n in (2, 3, 5, 7, 11, 13, 17, 19, 23, 29)
    d, r = n - 1, 0
    while d % 2 == 0:
        d, r = d // 2, r + 1
    for _ in range(24):
        x = pow(secrets.randbelow(n - 3) + 2, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(r - 1):
            x = pow(x, 2, n)
            if x == n - 1:
                break
        else:
            return False
    return True


def _prime(bits: int) -> int:
    while True:
        candidate = secrets.randbits(bits) | (1 << (bits - 1)) | (1 << (bits - 2)) | 1
        if _probably_prime(candidate):
            return candidate


class RsaKey:
    """A 2048-bit RSA key, made here (no cryptography library is installed)."""

    def __init__(self, kid: str) -> None:
        e = 65537
        while True:
            p, q = _prime(1024), _prime(1024)
            phi = (p - 1) * (q - 1)
            if p != q and phi % e:
                break
        self.kid, self.n, self.e, self.d = kid, p * q, e, pow(e, -1, phi)

    def jwk(self) -> dict[str, str]:
        def b64(value: int) -> str:
            raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
            return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

        return {"kty": "RSA", "use": "sig", "alg": "RS256", "kid": self.kid,
                "n": b64(self.n), "e": b64(self.e)}  # fmt: skip

    def sign(self, claims: dict[str, Any], kid: str | None = None, alg: str = "RS256") -> str:
        def segment(data: dict[str, Any]) -> str:
            return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

        signed = f"{segment({'alg': alg, 'kid': kid or self.kid})}.{segment(claims)}"
        k = (self.n.bit_length() + 7) // 8
        digest = SHA256_DIGEST_INFO + hashlib.sha256(signed.encode()).digest()
        encoded = b"\x00\x01" + b"\xff" * (k - len(digest) - 3) + b"\x00" + digest
        signature = pow(int.from_bytes(encoded, "big"), self.d, self.n).to_bytes(k, "big")
        return f"{signed}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"


@pytest.fixture(scope="module")
def keys() -> tuple[RsaKey, RsaKey]:
    return RsaKey("k1"), RsaKey("k1")  # the second one is an impostor with the same kid


class Provider:
    """An OIDC discovery document and its JWKS on 127.0.0.1; counts the JWKS reads."""

    def __init__(self, jwks: list[dict[str, str]]) -> None:
        self.jwks = jwks
        self.reads = 0
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path == "/.well-known/openid-configuration":
                    body = {"issuer": provider.issuer, "jwks_uri": provider.issuer + "/jwks"}
                elif self.path == "/jwks":
                    provider.reads += 1
                    body = {"keys": provider.jwks}
                else:
                    self.send_error(404)
                    return
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.issuer = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.discovery_url = self.issuer + "/.well-known/openid-configuration"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def provider(keys: tuple[RsaKey, RsaKey]) -> Iterator[Provider]:
    idp = Provider([keys[0].jwk()])
    yield idp
    idp.server.shutdown()
    idp.server.server_close()


def _claims(issuer: str, tenant: str = "acme") -> dict[str, Any]:
    return {"iss": issuer, "sub": "alice", "tenant": tenant, "exp": int(time.time()) + 600}


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_signed_tokens_pass_and_forged_ones_are_401(
    serve: Callable[..., str], provider: Provider, keys: tuple[RsaKey, RsaKey]
) -> None:
    url = serve(TENANT_SOURCE="jwt:tenant", JWT_VERIFY_DISCOVERY_URL=provider.discovery_url)
    key, impostor = keys
    good = key.sign(_claims(provider.issuer))
    assert call(url, {"prompt": Q}, _auth(good))["cache_hit"] is False
    assert call(url, {"prompt": Q}, _auth(good))["cache_hit"] is True
    refused = {
        "signature is not valid": [
            impostor.sign(_claims(provider.issuer)),  # the right kid, another key
            jwt(_claims(provider.issuer)),  # a made-up signature
            good.rsplit(".", 1)[0] + "." + key.sign(_claims(provider.issuer, "x")).split(".")[2],
        ],
        "not RS256": [key.sign(_claims(provider.issuer), alg="none")],
        "issuer is not the provider's": [key.sign(_claims("https://evil.example"))],
        "is not the provider's": [key.sign(_claims(provider.issuer), kid="k9")],
    }
    for needle, tokens in refused.items():
        for token in tokens:
            result = call(url, {"prompt": Q}, _auth(token))
            assert result["http_status"] == 401 and needle in result["error"]["message"], result
    assert provider.reads == 1  # the unknown kid came within a minute: no second read
    assert call(url, {"prompt": Q})["http_status"] == 401  # no token: the tenant rule's 401


def test_an_unreachable_provider_is_503(serve: Callable[..., str], keys: Any) -> None:
    idp = Provider([keys[0].jwk()])
    idp.server.shutdown()
    idp.server.server_close()
    url = serve(TENANT_SOURCE="jwt:tenant", JWT_VERIFY_DISCOVERY_URL=idp.discovery_url)
    result = call(url, {"prompt": Q}, _auth(keys[0].sign(_claims(idp.issuer))))
    assert result["http_status"] == 503 and result["error"]["type"] == "unavailable"


def test_a_rotated_key_is_read_after_the_refresh_interval(keys: tuple[RsaKey, RsaKey]) -> None:
    old, new = keys[0], RsaKey("k2")
    docs: dict[str, Any] = {
        "https://idp/.well-known/openid-configuration": {
            "issuer": "https://idp", "jwks_uri": "https://idp/jwks"
        },
        "https://idp/jwks": {"keys": [old.jwk()]},
    }  # fmt: skip
    now = [1000.0]
    verifier = TokenVerifier(
        "https://idp/.well-known/openid-configuration", docs.__getitem__, lambda: now[0]
    )
    asyncio.run(verifier.verify(_auth(old.sign(_claims("https://idp")))))
    docs["https://idp/jwks"] = {"keys": [old.jwk(), new.jwk()]}
    rotated = _auth(new.sign(_claims("https://idp")))
    with pytest.raises(Refused, match="not the provider's"):
        asyncio.run(verifier.verify(rotated))  # within the minute: the old set
    now[0] += 61
    asyncio.run(verifier.verify(rotated))


def test_rs256_checks_the_whole_encoded_message(keys: tuple[RsaKey, RsaKey]) -> None:
    key = keys[0]
    assert not rs256_valid(b"x", b"\x00" * 10, key.n, key.e)
    assert not rs256_valid(b"x", (key.n + 1).to_bytes(256, "big"), key.n, key.e)
    digest = SHA256_DIGEST_INFO + hashlib.sha256(b"x").digest()

    def signed(encoded: bytes) -> bytes:
        return pow(int.from_bytes(encoded, "big"), key.d, key.n).to_bytes(256, "big")

    good = b"\x00\x01" + b"\xff" * (256 - len(digest) - 3) + b"\x00" + digest
    assert rs256_valid(b"x", signed(good), key.n, key.e)
    # The right hash under a wrong padding (what signature forgeries rely on) is refused.
    for bad in (b"\x00\x02" + good[2:], good[:40] + b"\x00" + good[41:]):
        assert not rs256_valid(b"x", signed(bad), key.n, key.e)


def test_verify_setting() -> None:
    on = Settings.from_env(
        {"TENANT_SOURCE": "jwt:t", "JWT_VERIFY_DISCOVERY_URL": "https://idp/.well-known/openid-configuration"}
    )  # fmt: skip
    assert on.jwt_verify_discovery_url == "https://idp/.well-known/openid-configuration"
    assert Settings.from_env({}).jwt_verify_discovery_url is None
    with pytest.raises(SettingsError, match="needs TENANT_SOURCE=jwt"):
        Settings.from_env({"JWT_VERIFY_DISCOVERY_URL": "https://idp/x"})
    with pytest.raises(SettingsError, match="JWT_VERIFY_DISCOVERY_URL"):
        Settings.from_env({"TENANT_SOURCE": "jwt:t", "JWT_VERIFY_DISCOVERY_URL": "http://idp/x"})
