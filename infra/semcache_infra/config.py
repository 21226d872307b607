"""Stack configuration read from CDK context.

Every knob has a default in ``infra/cdk.json`` and can be overridden with
``-c key=value`` (CDK CLI or ``python infra/app.py``).  Values coming from the
command line are strings, so everything is parsed and validated here, once.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .first_deploy import availability_zone_ids_problem, default_availability_zone_ids

INFRA_DIR = Path(__file__).resolve().parent.parent
REPO_ROOT = INFRA_DIR.parent
CDK_JSON = INFRA_DIR / "cdk.json"

# Offline defaults: a dummy account and a pinned region so that synth works
# without AWS credentials.  Account: ``-c account=`` > CDK_DEPLOY_ACCOUNT >
# CDK_DEFAULT_ACCOUNT (the CLI sets it from the caller's credentials) > the
# placeholder.  Region: ``-c region=`` > CDK_DEPLOY_REGION > ``offlineRegion``.
DEFAULT_ENV_NAME = "dev"
DEFAULT_NAT_GATEWAYS = 1
DEFAULT_CACHE_NODE_TYPE = "cache.r7g.large"
DEFAULT_CACHE_REPLICAS = 1
DEFAULT_SIMILARITY_THRESHOLD = 0.9
DEFAULT_CACHE_JUDGE = False
# What the runtime runs: the direct-code package of `make package` (default, no Docker) or
# the ARM64 container image built from infra/Dockerfile.
ARTIFACTS = ("code", "container")
DEFAULT_ARTIFACT = "code"
DEFAULT_CODE_PACKAGE = REPO_ROOT / "dist" / "agentcore-arm64.zip"

VALKEY_PORT = 6379
# ElastiCache for Valkey versions with vector search (node-based): 9.0 runs the newer
# valkey-search (1.2 series: full-text, numeric and tag filters, 1000 indexes); 8.2 the 1.0
# series (10 indexes, 16 terms per query string). The cache uses one index and 2 TAG terms.
VALKEY_ENGINE_VERSIONS = ("9.0", "8.2")
DEFAULT_VALKEY_VERSION = "9.0"
# Titan Text Embeddings V2 returns 1024 (default), 512 or 256 dimensions: context
# ``vectorDims``, the runtime's VECTOR_DIMS. The app names its index by it (agent_semcache at
# 1024, agent_semcache_<dims>d otherwise), so a change starts a fresh index.
TITAN_V2_DIMS = (256, 512, 1024)
DEFAULT_VECTOR_DIMS = 1024
EMBEDDING_MODEL_ID = "amazon.titan-embed-text-v2:0"
LLM_MODEL_ID = "us.anthropic.claude-haiku-4-5-20251001-v1:0"
# The foundation model behind the US cross-region inference profile. The execution role may
# invoke it in any region the profile routes to, only through the profile (see
# first_deploy.destination_model_arn); `make preflight` reads the profile's destinations.
LLM_FOUNDATION_MODEL_ID = "anthropic.claude-haiku-4-5-20251001-v1:0"

_ENV_NAME_RE = re.compile(r"^[a-z][a-z0-9]{0,15}$")
_NODE_TYPE_RE = re.compile(r"^cache\.[a-z0-9]+\.[a-z0-9]+$")


class ConfigError(ValueError):
    """Raised for an invalid context value."""


# Tenants (docs/tenancy.md): where the app takes a request's tenant from (its TENANT_SOURCE)
# and the runtime's inbound JWT authorizer. Without a discovery URL the runtime keeps IAM
# (SigV4) invocation and the app one shared namespace.
TENANT_SOURCES = ("none", "user-id", "payload", "jwt:<claim>")
CACHE_SCOPES = ("tenant", "user")
_CLAIM_RE = re.compile(r"^[A-Za-z0-9_:.\-/]{1,128}$")
_DISCOVERY_SUFFIX = "/.well-known/openid-configuration"


@dataclass(frozen=True)
class TenancyConfig:
    """Context keys ``tenantSource``, ``cacheScope``, ``jwtDiscoveryUrl``,
    ``jwtAllowedAudiences`` and ``jwtAllowedClients`` (comma-separated lists)."""

    tenant_source: str = "none"
    cache_scope: str = "tenant"
    jwt_discovery_url: str | None = None
    jwt_allowed_audiences: tuple[str, ...] = ()
    jwt_allowed_clients: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        source = self.tenant_source
        claim = source[4:] if source.startswith("jwt:") else None
        if source not in TENANT_SOURCES[:3] and not (claim and _CLAIM_RE.match(claim)):
            raise ConfigError(
                f"tenantSource must be one of {', '.join(TENANT_SOURCES)}, got {source!r}"
            )
        if self.cache_scope not in CACHE_SCOPES:
            raise ConfigError(f"cacheScope must be tenant or user, got {self.cache_scope!r}")
        if self.cache_scope == "user" and not (claim or source == "user-id"):
            raise ConfigError("cacheScope=user needs tenantSource=jwt:<claim> or user-id")
        url = self.jwt_discovery_url
        if claim and not url:
            raise ConfigError(
                f"tenantSource={source} needs jwtDiscoveryUrl (the runtime's JWT authorizer)"
            )
        if url is None:
            if self.jwt_allowed_audiences or self.jwt_allowed_clients:
                raise ConfigError("jwtAllowedAudiences/jwtAllowedClients need jwtDiscoveryUrl")
            return
        if not (url.startswith("https://") and url.endswith(_DISCOVERY_SUFFIX)):
            raise ConfigError(
                f"jwtDiscoveryUrl must be an https:// URL ending in {_DISCOVERY_SUFFIX}, "
                f"got {url!r}"
            )
        if not (self.jwt_allowed_audiences or self.jwt_allowed_clients):
            raise ConfigError(
                "jwtDiscoveryUrl needs jwtAllowedAudiences or jwtAllowedClients (or both): "
                "the authorizer must check whom a token was issued for"
            )
        if source == "user-id":
            raise ConfigError(
                "tenantSource=user-id is for IAM (SigV4) callers, not a JWT authorizer: "
                "use tenantSource=jwt:<claim>"
            )

    @property
    def jwt(self) -> bool:
        return self.jwt_discovery_url is not None


def _as_list(value: Any) -> tuple[str, ...]:
    items = value if isinstance(value, (list, tuple)) else str(value).split(",")
    return tuple(str(item).strip() for item in items if str(item).strip())


def tenancy_from_context(ctx: Any) -> TenancyConfig:
    """The tenancy keys of the context (``ctx(key, default)``)."""
    return TenancyConfig(
        tenant_source=str(ctx("tenantSource", "none")).strip(),
        cache_scope=str(ctx("cacheScope", "tenant")).strip(),
        jwt_discovery_url=str(ctx("jwtDiscoveryUrl", "")).strip() or None,
        jwt_allowed_audiences=_as_list(ctx("jwtAllowedAudiences", "")),
        jwt_allowed_clients=_as_list(ctx("jwtAllowedClients", "")),
    )


@dataclass(frozen=True)
class StackConfig:
    env_name: str = DEFAULT_ENV_NAME
    account: str = "123456789012"
    region: str = "us-west-2"
    nat_gateways: int = DEFAULT_NAT_GATEWAYS
    cache_node_type: str = DEFAULT_CACHE_NODE_TYPE
    cache_replicas: int = DEFAULT_CACHE_REPLICAS
    similarity_threshold: float = DEFAULT_SIMILARITY_THRESHOLD
    cache_judge: bool = DEFAULT_CACHE_JUDGE
    valkey_version: str = DEFAULT_VALKEY_VERSION
    vector_dims: int = DEFAULT_VECTOR_DIMS
    artifact: str = DEFAULT_ARTIFACT
    code_package: Path = DEFAULT_CODE_PACKAGE
    # Empty: the first two of AgentCore's supported AZ IDs for the region (first_deploy.py).
    availability_zone_ids: tuple[str, ...] = ()
    tenancy: TenancyConfig = TenancyConfig()

    def __post_init__(self) -> None:
        if self.valkey_version not in VALKEY_ENGINE_VERSIONS:
            raise ConfigError(
                f"valkeyVersion must be one of {', '.join(VALKEY_ENGINE_VERSIONS)} (ElastiCache "
                f"for Valkey with vector search), got {self.valkey_version!r}"
            )
        if self.vector_dims not in TITAN_V2_DIMS:
            raise ConfigError(
                f"vectorDims must be one of {', '.join(map(str, TITAN_V2_DIMS))} (what "
                f"{EMBEDDING_MODEL_ID} returns), got {self.vector_dims!r}"
            )
        if self.artifact not in ARTIFACTS:
            raise ConfigError(
                f"artifact must be one of {', '.join(ARTIFACTS)}, got {self.artifact!r}"
            )
        if not _ENV_NAME_RE.match(self.env_name):
            raise ConfigError(
                "env must be 1-16 lowercase letters/digits starting with a letter, "
                f"got {self.env_name!r}"
            )
        if not (1 <= self.nat_gateways <= 2):
            raise ConfigError(f"natGateways must be 1 or 2 (two AZs), got {self.nat_gateways}")
        if not _NODE_TYPE_RE.match(self.cache_node_type):
            raise ConfigError(f"cacheNodeType looks wrong: {self.cache_node_type!r}")
        if not (0 <= self.cache_replicas <= 5):
            raise ConfigError(f"cacheReplicas must be between 0 and 5, got {self.cache_replicas}")
        if not (0.0 < self.similarity_threshold <= 1.0):
            raise ConfigError(
                f"similarityThreshold must be in (0, 1], got {self.similarity_threshold}"
            )
        az_problem = availability_zone_ids_problem(self.region, self.availability_zone_ids)
        if az_problem:
            raise ConfigError(az_problem)

    @property
    def stack_name(self) -> str:
        return f"SemanticCacheStack-{self.env_name}"

    @property
    def runtime_name(self) -> str:
        # AgentCore runtime names: [a-zA-Z][a-zA-Z0-9_]{0,47}; no hyphens.
        return f"semcache_agent_{self.env_name}"

    @property
    def multi_az(self) -> bool:
        return self.cache_replicas >= 1

    @property
    def az_ids(self) -> tuple[str, ...]:
        """The two AZ IDs of the VPC's subnets (context ``availabilityZoneIds`` or the default)."""
        return self.availability_zone_ids or default_availability_zone_ids(self.region)


def _as_int(name: str, value: Any) -> int:
    try:
        return int(str(value))
    except ValueError as exc:
        raise ConfigError(f"{name} must be an integer, got {value!r}") from exc


def _as_float(name: str, value: Any) -> float:
    try:
        return float(str(value))
    except ValueError as exc:
        raise ConfigError(f"{name} must be a number, got {value!r}") from exc


def _as_bool(name: str, value: Any) -> bool:
    text = str(value).strip().lower()
    if text in ("true", "false"):
        return text == "true"
    raise ConfigError(f"{name} must be true or false, got {value!r}")


def config_from_context(get: Any, environ: Mapping[str, str] | None = None) -> StackConfig:
    """Build a :class:`StackConfig` from a context getter (``node.try_get_context``)."""
    environ = os.environ if environ is None else environ

    def ctx(key: str, default: Any) -> Any:
        value = get(key)
        return default if value is None or value == "" else value

    account = (
        get("account")
        or environ.get("CDK_DEPLOY_ACCOUNT")
        or environ.get("CDK_DEFAULT_ACCOUNT")
        or ctx("offlineAccount", "123456789012")
    )
    # The region is pinned (cdk.json, us-west-2) unless chosen explicitly: the
    # CLI's CDK_DEFAULT_REGION is whatever the caller's profile says (us-east-1
    # when nothing is configured), which must not move the stack silently.
    region = get("region") or environ.get("CDK_DEPLOY_REGION") or ctx("offlineRegion", "us-west-2")
    return StackConfig(
        env_name=str(ctx("env", DEFAULT_ENV_NAME)),
        account=str(account),
        region=str(region),
        nat_gateways=_as_int("natGateways", ctx("natGateways", DEFAULT_NAT_GATEWAYS)),
        cache_node_type=str(ctx("cacheNodeType", DEFAULT_CACHE_NODE_TYPE)),
        cache_replicas=_as_int("cacheReplicas", ctx("cacheReplicas", DEFAULT_CACHE_REPLICAS)),
        similarity_threshold=_as_float(
            "similarityThreshold", ctx("similarityThreshold", DEFAULT_SIMILARITY_THRESHOLD)
        ),
        cache_judge=_as_bool("cacheJudge", ctx("cacheJudge", DEFAULT_CACHE_JUDGE)),
        valkey_version=str(ctx("valkeyVersion", DEFAULT_VALKEY_VERSION)),
        vector_dims=_as_int("vectorDims", ctx("vectorDims", DEFAULT_VECTOR_DIMS)),
        artifact=str(ctx("artifact", DEFAULT_ARTIFACT)),
        # A relative path is taken from the repository root.
        code_package=REPO_ROOT / str(ctx("codePackage", DEFAULT_CODE_PACKAGE)),
        availability_zone_ids=_as_id_list(ctx("availabilityZoneIds", "")),
        tenancy=tenancy_from_context(ctx),
    )


def _as_id_list(value: Any) -> tuple[str, ...]:
    items = value if isinstance(value, list) else str(value).split(",")
    return tuple(str(item).strip() for item in items if str(item).strip())


def load_cdk_json_context(path: Path = CDK_JSON) -> dict[str, Any]:
    """The ``context`` block of ``infra/cdk.json`` (feature flags, offline AZs, defaults).

    The CDK CLI passes this to the app itself; when the app runs without the
    CLI (``python infra/app.py``, tests) we load it here so that both paths
    synthesize the same template.
    """
    with path.open(encoding="utf-8") as fh:
        return dict(json.load(fh).get("context", {}))
