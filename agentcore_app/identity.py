"""Who is asking: the cache namespace from the caller's identity, never from the body.

``TENANT_SOURCE`` says where a request's tenant comes from (docs/tenancy.md):

* ``none`` (default): one shared namespace; a body ``"tenant"`` is refused (400);
* ``jwt:<claim>``: that claim of the bearer token in ``Authorization``. The runtime's JWT
  authorizer has validated the token (signature, issuer, audience or client, expiry) before
  the request reaches the app, so the app only decodes it; no token or no claim is 401;
* ``user-id``: the ``X-Amzn-Bedrock-AgentCore-Runtime-User-Id`` header, which only principals
  granted ``bedrock-agentcore:InvokeAgentRuntimeForUser`` may set; missing is 401;
* ``payload``: the body's ``"tenant"`` is trusted (a deployment whose only caller is a
  trusted backend).

With an identity source a body ``"tenant"`` must equal the identity's tenant (else 403).
``CACHE_SCOPE=user`` makes the namespace tenant + user (the token's ``sub``, or the user-id
header) for agents whose answers depend on who asks. A request's ``min_similarity`` may be
stricter than ``MIN_SIMILARITY_FLOOR``, never looser (400).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

USER_ID_HEADER = "X-Amzn-Bedrock-AgentCore-Runtime-User-Id"
AUTHORIZATION = "Authorization"
SOURCES = ("none", "payload", "user-id", "jwt:<claim>")
SCOPES = ("tenant", "user")
USER_CLAIM = "sub"
MAX_TENANT_CHARS = 128
MAX_TOKEN_CHARS = 16_384
CLOCK_SKEW_SECONDS = 60
HOW_TO_ENABLE = (
    "tenants are off on this deployment (TENANT_SOURCE=none): the tenant comes from the "
    "caller's identity, set TENANT_SOURCE=jwt:<claim> or user-id (docs/tenancy.md)"
)
_CLAIM_RE = re.compile(r"^[A-Za-z0-9_:.\-/]{1,128}$")


class Refused(Exception):
    """The request is refused before any cache or model call: an HTTP status, an error
    type and a message saying what to send."""

    def __init__(self, status: int, kind: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.kind = kind
        self.message = message


def _unauthorized(message: str) -> Refused:
    return Refused(401, "unauthorized", message)


@dataclass(frozen=True)
class TenantSource:
    kind: str  # "none", "payload", "user-id" or "jwt"
    claim: str | None = None

    def __str__(self) -> str:
        return f"jwt:{self.claim}" if self.kind == "jwt" else self.kind

    @property
    def from_identity(self) -> bool:
        return self.kind in ("jwt", "user-id")


NO_TENANTS = TenantSource("none")


def parse_tenant_source(raw: str) -> TenantSource:
    """``none``, ``payload``, ``user-id`` or ``jwt:<claim>``; ValueError otherwise."""
    text = raw.strip()
    if text in ("none", "payload", "user-id"):
        return TenantSource(text)
    if text.startswith("jwt:") and _CLAIM_RE.match(text[4:]):
        return TenantSource("jwt", text[4:])
    raise ValueError(raw)


@dataclass(frozen=True)
class Policy:
    """The deployment's rules for tenants and thresholds (from ``Settings``)."""

    source: TenantSource
    scope: str  # "tenant" or "user"
    min_similarity_floor: float

    def admit(self, request: Any, headers: Mapping[str, str]) -> Any:
        """``request`` with ``tenant`` replaced by the cache namespace this caller may use,
        its ``min_similarity`` checked against the floor; :class:`Refused` otherwise."""
        threshold = request.min_similarity
        if threshold is not None and threshold < self.min_similarity_floor:
            raise Refused(
                400,
                "bad_request",
                f'"min_similarity" {threshold} is below this deployment\'s floor '
                f"{self.min_similarity_floor}; ask for a stricter threshold, not a looser one",
            )
        return replace(request, tenant=self.namespace(request.tenant, headers))

    def namespace(self, asked: str | None, headers: Mapping[str, str]) -> str | None:
        if self.source.kind == "none":
            if asked is not None:
                raise Refused(400, "bad_request", f'"tenant" is not accepted: {HOW_TO_ENABLE}')
            return None
        if self.source.kind == "payload":
            return asked
        tenant, user = self._identity(headers)
        if asked is not None and asked != tenant:
            raise Refused(
                403,
                "forbidden",
                f'"tenant" {asked!r} is not the tenant of your identity; omit "tenant" '
                "(it comes from your identity)",
            )
        if self.scope == "user":
            # Always a JSON pair: no tenant/user split can be read two ways, and no plain
            # tenant string can spell a pair (every namespace of this scope is a pair).
            return json.dumps([tenant, user], ensure_ascii=False)
        return tenant

    def _identity(self, headers: Mapping[str, str]) -> tuple[str, str]:
        """(tenant, user) of the caller."""
        if self.source.kind == "user-id":
            user_id = headers.get(USER_ID_HEADER, "").strip()
            if not user_id:
                raise _unauthorized(f"this deployment needs the {USER_ID_HEADER} header")
            return _bounded(user_id, USER_ID_HEADER), user_id
        claims = bearer_claims(headers)
        claim = self.source.claim or ""
        tenant = _claim_text(claims, claim)
        if tenant is None:
            raise _unauthorized(f"the bearer token has no {claim!r} claim (a non-empty string)")
        user = _claim_text(claims, USER_CLAIM) if self.scope == "user" else tenant
        if user is None:
            raise _unauthorized(f"the bearer token has no {USER_CLAIM!r} claim")
        return _bounded(tenant, f"the {claim!r} claim"), user


def _claim_text(claims: Mapping[str, Any], name: str) -> str | None:
    value = claims.get(name)
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return None
    text = str(value).strip()
    return text or None


def _bounded(tenant: str, where: str) -> str:
    if len(tenant) > MAX_TENANT_CHARS:
        raise Refused(403, "forbidden", f"{where} is longer than {MAX_TENANT_CHARS} characters")
    return tenant


def _b64url(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def bearer_claims(headers: Mapping[str, str], now: float | None = None) -> dict[str, Any]:
    """The claims of ``Authorization: Bearer <JWT>``, decoded, not verified (the runtime's
    authorizer verified the signature); an expired token is refused all the same."""
    raw = headers.get(AUTHORIZATION, "").strip()
    if not raw:
        raise _unauthorized("this deployment needs Authorization: Bearer <token>")
    scheme, _, token = raw.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise _unauthorized("the Authorization header must be 'Bearer <token>'")
    parts = token.split(".")
    if len(token) > MAX_TOKEN_CHARS or len(parts) != 3:
        raise _unauthorized("the bearer token is not a JWT (header.claims.signature)")
    try:
        claims = json.loads(_b64url(parts[1]))
    except (binascii.Error, ValueError):
        raise _unauthorized("the bearer token's claims are not base64url JSON") from None
    if not isinstance(claims, dict):
        raise _unauthorized("the bearer token's claims are not a JSON object")
    exp = claims.get("exp")
    if isinstance(exp, bool) or not isinstance(exp, (int, float)):
        return claims
    if exp + CLOCK_SKEW_SECONDS < (time.time() if now is None else now):
        raise _unauthorized("the bearer token has expired")
    return claims


def request_headers(context: Any) -> Mapping[str, str]:
    """The request's headers, case-insensitive, from BedrockAgentCoreApp's ``context``: the
    Starlette request (it has them all, the user-id header included)."""
    request = getattr(context, "request", None)
    if request is not None:
        return request.headers  # type: ignore[no-any-return]
    return _Folded(getattr(context, "request_headers", None) or {})


class _Folded(dict[str, str]):
    """A header dict read case-insensitively."""

    def __init__(self, headers: Mapping[str, str]) -> None:
        super().__init__({k.lower(): v for k, v in headers.items()})

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        return super().get(key.lower(), default)
