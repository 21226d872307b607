"""The app's configuration, read from the environment and validated once at start."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from .identity import NO_TENANTS, SCOPES, SOURCES, Policy, TenantSource, parse_tenant_source

TITAN_V2 = "amazon.titan-embed-text-v2:0"
LOCAL_MINILM = "local-minilm"
TITAN_V2_DIMS = 1024  # the model's default; it also gives 512 and 256
TITAN_V2_DIM_CHOICES = (256, 512, 1024)
OFFLINE_LLM = "offline"
DEFAULT_LLM = "us.anthropic.claude-haiku-4-5-20251001-v1:0"
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class SettingsError(ValueError):
    """One or more environment variables are wrong; the message lists each."""


@dataclass(frozen=True)
class Settings:
    valkey_host: str = "localhost"
    valkey_port: int = 6379
    valkey_ssl: bool = False  # from_env: TLS unless the host is this machine
    valkey_username: str | None = None
    valkey_password: str | None = None
    valkey_auth_secret_arn: str | None = None
    embedding_model_id: str = TITAN_V2
    llm_model_id: str = DEFAULT_LLM
    similarity_threshold: float = 0.9
    aws_region: str = "us-west-2"
    vector_dims: int = TITAN_V2_DIMS
    cache_ttl_seconds: int | None = None
    max_prompt_chars: int = 4000
    offline_llm_latency_ms: int = 1500
    cache_judge: bool = False
    cache_judge_max_calls_per_minute: int = 60
    cache_judge_trust_above: float = 0.97
    otel_console: bool = False
    tenant_source: TenantSource = NO_TENANTS
    cache_scope: str = "tenant"
    min_similarity_floor: float | None = None  # None: the cache's similarity_threshold
    jwt_verify_discovery_url: str | None = None  # on: the app checks signatures too

    @property
    def policy(self) -> Policy:
        """Who may use which namespace, and how loose a request's threshold may be."""
        floor = self.min_similarity_floor
        return Policy(
            self.tenant_source,
            self.cache_scope,
            self.similarity_threshold if floor is None else floor,
        )

    @property
    def index_name(self) -> str:
        """The cache's index (and key prefix): ``agent_semcache`` at Titan's default 1024
        dimensions, ``agent_semcache_<dims>d`` at any other, so that changing VECTOR_DIMS
        starts a fresh index instead of failing on the old one's DIM."""
        base = "agent_semcache"
        return base if self.vector_dims == TITAN_V2_DIMS else f"{base}_{self.vector_dims}d"

    @property
    def valkey_url(self) -> str:
        scheme = "valkeys" if self.valkey_ssl else "valkey"
        return f"{scheme}://{self.valkey_host}:{self.valkey_port}"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read the seed's variables (plus auth and limits); raise one error naming all faults."""
        env = os.environ if environ is None else environ
        problems: list[str] = []

        def get(name: str, default: Any, parse: Any, check: Any = None, hint: str = "") -> Any:
            raw = env.get(name)
            if raw is None or raw.strip() == "":
                return default
            try:
                value = parse(raw.strip())
            except (TypeError, ValueError):
                problems.append(f"{name}={raw!r} is not valid{': ' + hint if hint else ''}")
                return default
            if check is not None and not check(value):
                problems.append(f"{name}={raw!r} is out of range: {hint}")
                return default
            return value

        def boolean(raw: str) -> bool:
            if raw.lower() in _TRUE | _FALSE:
                return raw.lower() in _TRUE
            raise ValueError(raw)

        optional_int = lambda raw: int(raw)  # noqa: E731
        host = get("VALKEY_HOST", "localhost", str)
        settings = cls(
            valkey_host=host,
            valkey_port=get("VALKEY_PORT", 6379, int, lambda p: 0 < p < 65536, "a port 1-65535"),
            # ElastiCache requires TLS in transit; a server on this machine rarely has it.
            valkey_ssl=get("VALKEY_SSL", host not in LOCAL_HOSTS, boolean, None, "true or false"),
            valkey_username=env.get("VALKEY_USERNAME") or None,
            valkey_password=env.get("VALKEY_PASSWORD") or None,
            valkey_auth_secret_arn=get(
                "VALKEY_AUTH_SECRET_ARN",
                None,
                str,
                lambda a: a.startswith("arn:"),
                "a Secrets Manager ARN",
            ),
            embedding_model_id=get("EMBEDDING_MODEL_ID", TITAN_V2, str),
            llm_model_id=get("LLM_MODEL_ID", DEFAULT_LLM, str),
            similarity_threshold=get(
                "SIMILARITY_THRESHOLD",
                0.9,
                float,
                lambda t: math.isfinite(t) and 0 <= t <= 1,
                "a cosine similarity in [0, 1]",
            ),
            aws_region=get("AWS_REGION", "us-west-2", str),
            vector_dims=get("VECTOR_DIMS", None, int, lambda d: 0 < d <= 8192, "a positive int"),
            cache_ttl_seconds=get(
                "CACHE_TTL_SECONDS", None, optional_int, lambda t: t > 0, "seconds > 0"
            ),
            max_prompt_chars=get(
                "MAX_PROMPT_CHARS", 4000, int, lambda n: 0 < n <= 100_000, "1-100000"
            ),
            offline_llm_latency_ms=get(
                "OFFLINE_LLM_LATENCY_MS", 1500, int, lambda n: 0 <= n <= 60_000, "0-60000 ms"
            ),
            cache_judge=get("CACHE_JUDGE", False, boolean, None, "true or false"),
            cache_judge_max_calls_per_minute=get(
                "CACHE_JUDGE_MAX_CALLS_PER_MINUTE", 60, int, lambda n: n >= 0, "calls >= 0"
            ),
            cache_judge_trust_above=get(
                "CACHE_JUDGE_TRUST_ABOVE",
                0.97,
                float,
                lambda t: math.isfinite(t) and 0 < t <= 1,
                "a cosine similarity in (0, 1]",
            ),
            otel_console=get("SEMCACHE_OTEL_CONSOLE", False, boolean, None, "true or false"),
            tenant_source=get(
                "TENANT_SOURCE",
                NO_TENANTS,
                parse_tenant_source,
                None,
                " or ".join(SOURCES),
            ),
            cache_scope=get("CACHE_SCOPE", "tenant", str, SCOPES.__contains__, " or ".join(SCOPES)),
            min_similarity_floor=get(
                "MIN_SIMILARITY_FLOOR",
                None,
                float,
                lambda t: math.isfinite(t) and 0 <= t <= 1,
                "a cosine similarity in [0, 1]",
            ),
            jwt_verify_discovery_url=get(
                "JWT_VERIFY_DISCOVERY_URL",
                None,
                str,
                lambda u: u.startswith("https://") or urlparse(u).hostname in LOCAL_HOSTS,
                "an https:// OIDC discovery URL",
            ),
        )
        if settings.cache_judge and settings.llm_model_id == OFFLINE_LLM:
            problems.append("CACHE_JUDGE=true needs a Bedrock LLM_MODEL_ID, not the offline model")
        floor = settings.min_similarity_floor
        if floor is not None and floor > settings.similarity_threshold:
            problems.append(
                f"MIN_SIMILARITY_FLOOR={floor} is above SIMILARITY_THRESHOLD="
                f"{settings.similarity_threshold}: raise the threshold instead"
            )
        if settings.cache_scope == "user" and not settings.tenant_source.from_identity:
            problems.append(
                f"CACHE_SCOPE=user needs the user's identity: TENANT_SOURCE=jwt:<claim> or "
                f"user-id, not {settings.tenant_source}"
            )
        if settings.jwt_verify_discovery_url and settings.tenant_source.kind != "jwt":
            problems.append("JWT_VERIFY_DISCOVERY_URL needs TENANT_SOURCE=jwt:<claim>")
        dims = settings.vector_dims
        if settings.embedding_model_id == LOCAL_MINILM:
            if dims not in (None, 384):
                problems.append(f"VECTOR_DIMS={dims} but {LOCAL_MINILM} embeds 384-d vectors")
            dims = 384
        elif settings.embedding_model_id == TITAN_V2:
            if dims is not None and dims not in TITAN_V2_DIM_CHOICES:
                problems.append(
                    f"VECTOR_DIMS={dims}: Titan Text Embeddings V2 gives 256, 512 or 1024"
                )
            dims = dims or TITAN_V2_DIMS
        if problems:
            raise SettingsError("invalid configuration:\n  - " + "\n  - ".join(problems))
        return cls(**{**settings.__dict__, "vector_dims": dims or TITAN_V2_DIMS})


def aws_credentials_found() -> bool:
    """Whether boto3's default chain finds credentials (no AWS call is made)."""
    try:
        import boto3  # type: ignore[import-untyped]

        return boto3.Session().get_credentials() is not None
    except Exception:  # a broken profile or config file: the same as none
        return False


def check_credentials(
    settings: Settings, found: Callable[[], bool] = aws_credentials_found
) -> None:
    """Fail at start, in one line, when a configured AWS service has no credentials to use."""
    needs = [
        name
        for name, value, local in (
            ("EMBEDDING_MODEL_ID", settings.embedding_model_id, LOCAL_MINILM),
            ("LLM_MODEL_ID", settings.llm_model_id, OFFLINE_LLM),
        )
        if value != local
    ]
    needs += ["VALKEY_AUTH_SECRET_ARN"] if settings.valkey_auth_secret_arn else []
    if needs and not found():
        raise SettingsError(
            f"no AWS credentials found, and {', '.join(needs)} need them (Bedrock defaults); "
            f"configure AWS credentials, or set EMBEDDING_MODEL_ID={LOCAL_MINILM} and "
            f"LLM_MODEL_ID={OFFLINE_LLM} (`make run` serves the app that way, no AWS account)"
        )


def read_secret(arn: str, region: str, client: Any = None) -> tuple[str | None, str]:
    """(username, password) from a Secrets Manager secret: a raw token or JSON."""
    import boto3  # type: ignore[import-untyped]

    sm = client or boto3.client("secretsmanager", region_name=region)
    raw = sm.get_secret_value(SecretId=arn)["SecretString"]
    try:
        data = json.loads(raw)
    except ValueError:
        return None, raw
    if isinstance(data, dict):
        token = data.get("password") or data.get("authToken") or data.get("token")
        if isinstance(token, str) and token:
            return data.get("username"), token
    raise SettingsError(f"secret {arn} holds no password/authToken field")
