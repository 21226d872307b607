"""Tenants (docs/tenancy.md): the runtime's JWT authorizer, the header allowlist that forwards
the token, and the app's TENANT_SOURCE, in both shapes of the stack."""

from __future__ import annotations

from typing import Any

import pytest
from cdk_nag import AwsSolutionsChecks
from infra_helpers import Synth, synthesize
from semcache_infra import config_from_context
from semcache_infra.config import ConfigError, TenancyConfig

DISCOVERY = (
    "https://cognito-idp.us-west-2.amazonaws.com/us-west-2_AbCdEf123"
    "/.well-known/openid-configuration"
)
JWT_CONTEXT = {
    "tenantSource": "jwt:custom:tenant_id",
    "cacheScope": "user",
    "jwtDiscoveryUrl": DISCOVERY,
    "jwtAllowedClients": "4abc1defclient, 5xyzclient",
    "jwtAllowedAudiences": "semcache-api",
}


@pytest.fixture(scope="module")
def synth_jwt(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    return synthesize(tmp_path_factory.mktemp("cdk-out-jwt"), JWT_CONTEXT)


def _runtime(synth: Synth) -> dict[str, Any]:
    _, runtime = synth.one("AWS::BedrockAgentCore::Runtime")
    return dict(runtime["Properties"])


def test_without_jwt_options_the_runtime_keeps_iam_and_no_tenants(synth: Synth) -> None:
    props = _runtime(synth)
    assert "AuthorizerConfiguration" not in props  # IAM (SigV4) invocation, as before
    assert "RequestHeaderConfiguration" not in props
    assert props["EnvironmentVariables"]["TENANT_SOURCE"] == "none"
    assert "CACHE_SCOPE" not in props["EnvironmentVariables"]


def test_jwt_options_add_the_authorizer_and_forward_authorization(synth_jwt: Synth) -> None:
    props = _runtime(synth_jwt)
    assert props["AuthorizerConfiguration"] == {
        "CustomJWTAuthorizer": {
            "DiscoveryUrl": DISCOVERY,
            "AllowedClients": ["4abc1defclient", "5xyzclient"],
            "AllowedAudience": ["semcache-api"],
        }
    }
    assert props["RequestHeaderConfiguration"] == {"RequestHeaderAllowlist": ["Authorization"]}
    env = props["EnvironmentVariables"]
    assert (env["TENANT_SOURCE"], env["CACHE_SCOPE"]) == ("jwt:custom:tenant_id", "user")


def test_cdk_nag_stays_clean_with_the_jwt_authorizer(synth_jwt: Synth) -> None:
    report = AwsSolutionsChecks().validate_scope(synth_jwt.stack)
    assert [v.rule_name for v in report.violations] == []


def test_tenancy_context_is_parsed_and_defaults_to_none() -> None:
    assert config_from_context({}.get, environ={}).tenancy == TenancyConfig()
    cfg = config_from_context(JWT_CONTEXT.get, environ={}).tenancy
    assert cfg.jwt_allowed_clients == ("4abc1defclient", "5xyzclient") and cfg.jwt
    assert config_from_context({"tenantSource": "payload"}.get, environ={}).tenancy == (
        TenancyConfig(tenant_source="payload")
    )


@pytest.mark.parametrize(
    ("context", "needle"),
    [
        ({"tenantSource": "header"}, "tenantSource must be one of"),
        ({"tenantSource": "jwt:"}, "tenantSource must be one of"),
        ({"tenantSource": "jwt:tenant"}, "needs jwtDiscoveryUrl"),
        ({"cacheScope": "everyone"}, "cacheScope must be"),
        ({"cacheScope": "user"}, "cacheScope=user needs"),
        ({"jwtAllowedClients": "c1"}, "need jwtDiscoveryUrl"),
        (
            {
                "jwtDiscoveryUrl": "http://idp.example/.well-known/openid-configuration",
                "jwtAllowedClients": "c1",
            },
            "https:// URL",
        ),
        (
            {"jwtDiscoveryUrl": "https://idp.example/jwks.json", "jwtAllowedClients": "c1"},
            "https:// URL",
        ),
        ({"jwtDiscoveryUrl": DISCOVERY}, "jwtAllowedAudiences or jwtAllowedClients"),
        (
            {"jwtDiscoveryUrl": DISCOVERY, "jwtAllowedClients": "c1", "tenantSource": "user-id"},
            "not a JWT authorizer",
        ),
    ],
)
def test_invalid_tenancy_context_is_rejected(context: dict[str, str], needle: str) -> None:
    with pytest.raises(ConfigError, match=needle):
        config_from_context(context.get, environ={})
