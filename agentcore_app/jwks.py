"""Optional: verify the bearer token's signature in the app too (``JWT_VERIFY_DISCOVERY_URL``).

The runtime's JWT authorizer has verified every token before the app sees it, so this is off by
default (it needs the identity provider reachable from the runtime's subnets). When on, the app
reads the provider's OIDC discovery document, then its JWKS, and checks each token's RS256
signature against the key its ``kid`` names and its ``iss`` against the discovery document's
issuer. An unknown ``kid`` re-reads the keys (key rotation), at most once a minute.
RSASSA-PKCS1-v1_5 with SHA-256 (RFC 8017, section 8.2.2) needs no library beyond the standard one.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import json
import threading
import time
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any

from .identity import AUTHORIZATION, Refused

# DER of DigestInfo{sha256, NULL} before the 32-byte hash (RFC 8017, section 9.2, note 1).
SHA256_DIGEST_INFO = bytes.fromhex("3031300d060960864801650304020105000420")
REFRESH_SECONDS = 60.0


def _b64url(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def _as_int(segment: str) -> int:
    return int.from_bytes(_b64url(segment), "big")


def rs256_valid(signed: bytes, signature: bytes, n: int, e: int) -> bool:
    """Whether ``signature`` is an RSASSA-PKCS1-v1_5 SHA-256 signature of ``signed``."""
    k = (n.bit_length() + 7) // 8
    if len(signature) != k:
        return False
    s = int.from_bytes(signature, "big")
    if s >= n:
        return False
    encoded = pow(s, e, n).to_bytes(k, "big")
    digest = SHA256_DIGEST_INFO + hashlib.sha256(signed).digest()
    expected = b"\x00\x01" + b"\xff" * (k - len(digest) - 3) + b"\x00" + digest
    return hmac.compare_digest(encoded, expected)


def fetch_json(url: str, timeout: float = 5.0) -> Any:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return json.loads(response.read())


def _unauthorized(message: str) -> Refused:
    return Refused(401, "unauthorized", message)


class TokenVerifier:
    """Checks bearer tokens against the keys of one OIDC discovery URL."""

    def __init__(
        self,
        discovery_url: str,
        fetch: Callable[[str], Any] = fetch_json,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.discovery_url = discovery_url
        self._fetch = fetch
        self._clock = clock
        self._lock = threading.Lock()
        self._keys: dict[str, tuple[int, int]] = {}
        self._issuer: str | None = None
        self._loaded_at: float | None = None

    def _load(self) -> None:
        """Read the discovery document and the JWKS (blocking; run off the event loop)."""
        with self._lock:
            now = self._clock()
            if self._loaded_at is not None and now - self._loaded_at < REFRESH_SECONDS:
                return
            self._loaded_at = now
            discovery = self._fetch(self.discovery_url)
            jwks = self._fetch(discovery["jwks_uri"])
            self._issuer = str(discovery["issuer"])
            self._keys = {
                str(key["kid"]): (_as_int(key["n"]), _as_int(key["e"]))
                for key in jwks.get("keys", [])
                if key.get("kty") == "RSA" and key.get("use", "sig") == "sig" and "kid" in key
            }

    async def verify(self, headers: Mapping[str, str]) -> None:
        """Refuse (401) a token whose signature or issuer is wrong; 503 when the keys cannot
        be read. No ``Authorization`` is left to the tenant rules (they say what is missing)."""
        raw = headers.get(AUTHORIZATION, "").strip()
        scheme, _, token = raw.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return
        parts = token.strip().split(".")
        if len(parts) != 3:
            raise _unauthorized("the bearer token is not a JWT (header.claims.signature)")
        try:
            header = json.loads(_b64url(parts[0]))
            claims = json.loads(_b64url(parts[1]))
            signature = _b64url(parts[2])
        except (binascii.Error, ValueError):
            raise _unauthorized("the bearer token is not base64url JSON") from None
        if not isinstance(header, dict) or not isinstance(claims, dict):
            raise _unauthorized("the bearer token's header and claims must be JSON objects")
        if header.get("alg") != "RS256":
            raise _unauthorized(f"the bearer token's alg is {header.get('alg')!r}, not RS256")
        kid = str(header.get("kid", ""))
        if kid not in self._keys:
            try:
                await asyncio.to_thread(self._load)
            except Exception as exc:
                raise Refused(
                    503,
                    "unavailable",
                    f"the identity provider's keys could not be read ({type(exc).__name__})",
                ) from exc
        key = self._keys.get(kid)
        if key is None:
            raise _unauthorized(f"the bearer token's key {kid!r} is not the provider's")
        signed = f"{parts[0]}.{parts[1]}".encode("ascii", "replace")
        if not rs256_valid(signed, signature, *key):
            raise _unauthorized("the bearer token's signature is not valid")
        if claims.get("iss") != self._issuer:
            raise _unauthorized("the bearer token's issuer is not the provider's")
