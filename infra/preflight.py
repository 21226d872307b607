#!/usr/bin/env python3
"""``make preflight``: read-only checks of an AWS account before the stack's first deploy.

    python infra/preflight.py [-c key=value ...]      # the same context as app.py / cdk

With the caller's credentials and the stack's context (``infra/cdk.json`` plus ``-c``), it
checks what can be known before ``make deploy`` and prints one line per check, with the fix:
credentials and region, the CDK bootstrap stack, access to both Bedrock models (the agreement
and authorization status Bedrock reports; never a model call), the inference profile's
destination regions against the execution role's statement, the VPC's AZ IDs against
AgentCore's supported list, the node type's vector search, and the ElastiCache and AgentCore
quotas that Service Quotas reports. Only Describe/Get/List calls; nothing is created.

Exit status: 0 when every check passes, 1 when one fails, 2 on bad usage (a bad ``-c``).
"""

from __future__ import annotations

import argparse
import fnmatch
import os
import re
import sys
import types
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

INFRA_DIR = Path(__file__).resolve().parent
# The package's __init__ imports the CDK (node starts: seconds); preflight needs only its
# pure modules, config.py and first_deploy.py.
if "semcache_infra" not in sys.modules:
    _package = types.ModuleType("semcache_infra")
    _package.__path__ = [str(INFRA_DIR / "semcache_infra")]
    sys.modules["semcache_infra"] = _package

import boto3  # noqa: E402
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError  # noqa: E402
from semcache_infra.config import (  # noqa: E402
    EMBEDDING_MODEL_ID,
    LLM_FOUNDATION_MODEL_ID,
    LLM_MODEL_ID,
    ConfigError,
    StackConfig,
    config_from_context,
    load_cdk_json_context,
)
from semcache_infra.first_deploy import (  # noqa: E402
    AGENTCORE_AZ_IDS,
    burstable_note,
    destination_model_arn,
    vector_search_problem,
)

# The synthesized template's CheckBootstrapVersion rule rejects bootstrap versions 1 to 5.
MIN_BOOTSTRAP_VERSION = 6
BOOTSTRAP_STACK = "CDKToolkit"
_STACK_OK = {"CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE", "IMPORT_COMPLETE"}


@dataclass(frozen=True)
class Result:
    status: str  # PASS, FAIL, or SKIP (nothing to check: does not fail the run)
    name: str
    detail: str
    fix: str = ""

    def line(self) -> str:
        text = f"{self.status:<4}  {self.name}: {self.detail}"
        return f"{text}  -> fix: {self.fix}" if self.fix else text


@dataclass(frozen=True)
class Account:
    """What the credentials check learned, for the checks after it."""

    account: str
    arn: str
    region: str

    @property
    def partition(self) -> str:
        return self.arn.split(":")[1]


class Clients:
    """boto3 clients by (service, region), made once; tests hand in stubbed ones."""

    def __init__(self, session: Any = None, made: dict[tuple[str, str], Any] | None = None) -> None:
        self._session = session
        self._made = {} if made is None else made

    def __call__(self, service: str, region: str) -> Any:
        if (service, region) not in self._made:
            if self._session is None:
                self._session = boto3.session.Session()
            self._made[service, region] = self._session.client(service, region_name=region)
        return self._made[service, region]


Check = Callable[[Clients, StackConfig, Account], Result]


# ---------------------------------------------------------------------------- checks
def check_credentials(
    clients: Clients, cfg: StackConfig, expected_account: str
) -> tuple[Result, Account | None]:
    """The caller's account (None when the credentials fail: nothing else can be checked)."""
    name = "credentials"
    fix = "aws configure (or export AWS_PROFILE=<profile>), then aws sts get-caller-identity"
    try:
        identity = clients("sts", cfg.region).get_caller_identity()
    except NoCredentialsError:
        return Result("FAIL", name, "no AWS credentials found", fix), None
    except (ClientError, BotoCoreError) as exc:
        return Result("FAIL", name, f"the credentials do not work: {_reason(exc)}", fix), None
    who = Account(identity["Account"], identity["Arn"], cfg.region)
    if expected_account and expected_account != who.account:
        detail = (
            f"the credentials are for account {who.account}, the stack targets {expected_account}"
        )
        fix = "use credentials of the target account, or drop -c account / CDK_DEPLOY_ACCOUNT"
        return Result("FAIL", name, detail, fix), None
    return Result("PASS", name, f"account {who.account} as {who.arn}; region {cfg.region}"), who


def check_bootstrap(clients: Clients, cfg: StackConfig, who: Account) -> Result:
    name = "cdk bootstrap"
    fix = f"npx aws-cdk@2 bootstrap aws://{who.account}/{cfg.region}"
    try:
        stacks = clients("cloudformation", cfg.region).describe_stacks(StackName=BOOTSTRAP_STACK)
    except ClientError as exc:
        if "does not exist" in _reason(exc):
            return Result("FAIL", name, f"no {BOOTSTRAP_STACK} stack in {cfg.region}", fix)
        raise
    stack = stacks["Stacks"][0]
    if stack["StackStatus"] not in _STACK_OK:
        return Result("FAIL", name, f"{BOOTSTRAP_STACK} is {stack['StackStatus']}", fix)
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    version = int(outputs.get("BootstrapVersion", "0"))
    if version < MIN_BOOTSTRAP_VERSION:
        detail = f"bootstrap version {version}, the template needs {MIN_BOOTSTRAP_VERSION} or later"
        return Result("FAIL", name, detail, fix)
    return Result("PASS", name, f"{BOOTSTRAP_STACK} version {version} in {cfg.region}")


def check_model_access(model_id: str) -> Check:
    def check(clients: Clients, cfg: StackConfig, who: Account) -> Result:
        name = f"model access {model_id}"
        bedrock = clients("bedrock", cfg.region)
        reply = bedrock.get_foundation_model_availability(modelId=model_id)
        agreement = reply.get("agreementAvailability", {})
        problems, fixes = [], []
        if reply.get("regionAvailability") != "AVAILABLE":
            problems.append(f"not offered in {cfg.region}")
            fixes.append("deploy to a region that offers it (-c region=)")
        if reply.get("authorizationStatus") != "AUTHORIZED":
            problems.append("not authorized for this account")
            if model_id.startswith("anthropic."):
                fixes.append(
                    "submit Anthropic's one-time first-use form (Bedrock console, Model "
                    "catalog, the model's page)"
                )
            else:
                fixes.append("enable the model (Bedrock console, Model catalog)")
        if model_id.startswith("amazon."):
            pass  # Amazon's own models are not sold through AWS Marketplace
        elif agreement.get("status") == "PENDING":
            problems.append("its AWS Marketplace agreement is pending")
            fixes.append("wait a few minutes and run make preflight again")
        elif (
            agreement.get("status") != "AVAILABLE"
            or reply.get("entitlementAvailability") != "AVAILABLE"
        ):
            why = agreement.get("errorMessage") or agreement.get("status", "none")
            problems.append(f"no AWS Marketplace subscription ({why})")
            fixes.append(
                "once, with credentials allowed aws-marketplace:Subscribe: aws bedrock "
                f"list-foundation-model-agreement-offers --model-id {model_id} --region "
                f"{cfg.region}, then aws bedrock create-foundation-model-agreement "
                f"--model-id {model_id} --offer-token <offerToken> --region {cfg.region}"
            )
        if problems:
            return Result("FAIL", name, "; ".join(problems), "; ".join(fixes))
        return Result("PASS", name, f"authorized, agreement available in {cfg.region}")

    check.__name__ = f"check_model_access {model_id}"
    return check


def check_inference_profile(clients: Clients, cfg: StackConfig, who: Account) -> Result:
    name = "inference profile"
    profile = clients("bedrock", cfg.region).get_inference_profile(
        inferenceProfileIdentifier=LLM_MODEL_ID
    )
    granted = destination_model_arn(who.partition, LLM_FOUNDATION_MODEL_ID)
    models = [m["modelArn"] for m in profile.get("models", [])]
    regions = sorted({arn.split(":")[3] for arn in models})
    outside = [arn for arn in models if not fnmatch.fnmatchcase(arn, granted)]
    if profile.get("status") != "ACTIVE" or not models:
        detail = f"{LLM_MODEL_ID} is {profile.get('status')} with {len(models)} models"
        return Result("FAIL", name, detail, "choose an active profile (LLM_MODEL_ID in config.py)")
    if outside:
        return Result(
            "FAIL",
            name,
            f"{LLM_MODEL_ID} routes to {', '.join(outside)}, outside the role's {granted}",
            "set LLM_FOUNDATION_MODEL_ID in infra/semcache_infra/config.py to the profile's model",
        )
    detail = f"{LLM_MODEL_ID} routes to {', '.join(regions)}; the role allows {granted} via it"
    return Result("PASS", name, detail)


def check_availability_zones(clients: Clients, cfg: StackConfig, who: Account) -> Result:
    name = "availability zones"
    ids = list(cfg.az_ids)
    fix = (
        "-c availabilityZoneIds=<id>,<id> with AZ IDs of this region that AgentCore supports "
        f"({', '.join(AGENTCORE_AZ_IDS.get(cfg.region, ('see its VPC documentation',)))})"
    )
    try:
        zones = clients("ec2", cfg.region).describe_availability_zones(ZoneIds=ids)
    except ClientError as exc:
        return Result("FAIL", name, f"{ids}: {_reason(exc)}", fix)
    found = {z["ZoneId"]: z for z in zones.get("AvailabilityZones", [])}
    missing = [i for i in ids if i not in found]
    down = [i for i in ids if i in found and found[i].get("State") != "available"]
    if missing or down:
        detail = f"not in this account's {cfg.region}: {missing}; not available: {down}"
        return Result("FAIL", name, detail, fix)
    pairs = ", ".join(f"{i} = {found[i]['ZoneName']}" for i in ids)
    if cfg.region not in AGENTCORE_AZ_IDS:
        return Result("PASS", name, f"{pairs} (given; {cfg.region} has no list here to check)")
    return Result("PASS", name, f"{pairs}: both supported by AgentCore Runtime in VPC mode")


def check_node_type(clients: Clients, cfg: StackConfig, who: Account) -> Result:
    name = "cache node type"
    problem = vector_search_problem(cfg.cache_node_type)
    if problem:
        return Result("FAIL", name, problem, "-c cacheNodeType=cache.r7g.large (the default)")
    note = burstable_note(cfg.cache_node_type)
    detail = f"{cfg.cache_node_type} runs vector search" + (f" ({note})" if note else "")
    return Result("PASS", name, detail)


def _quota(clients: Clients, region: str, service_code: str, pattern: str) -> Any:
    """The first quota of ``service_code`` whose name matches ``pattern``, or None."""
    pages = clients("service-quotas", region).get_paginator("list_service_quotas")
    for page in pages.paginate(ServiceCode=service_code):
        for quota in page.get("Quotas", []):
            if re.search(pattern, quota.get("QuotaName", ""), re.IGNORECASE):
                return quota
    return None


def _quota_result(name: str, quota: Any, used: int, need: int, fix: str) -> Result:
    if quota is None:
        return Result("SKIP", name, "Service Quotas reports no such quota here; not checked")
    limit = int(quota["Value"])
    detail = f"{used} of {limit} used ({quota['QuotaName']}), the stack needs {need}"
    if limit - used < need:
        return Result("FAIL", name, detail, fix)
    return Result("PASS", name, detail)


def check_cache_node_quota(clients: Clients, cfg: StackConfig, who: Account) -> Result:
    quota = _quota(clients, cfg.region, "elasticache", r"nodes per region")
    used = 0
    if quota is not None:
        pages = clients("elasticache", cfg.region).get_paginator("describe_cache_clusters")
        for page in pages.paginate():
            used += sum(c.get("NumCacheNodes", 0) for c in page.get("CacheClusters", []))
    fix = "request an increase in Service Quotas (ElastiCache, nodes per Region)"
    return _quota_result("elasticache quota", quota, used, 1 + cfg.cache_replicas, fix)


def check_runtime_quota(clients: Clients, cfg: StackConfig, who: Account) -> Result:
    quota = _quota(clients, cfg.region, "bedrock-agentcore", r"agent ?runtimes")
    used = 0
    if quota is not None:
        control = clients("bedrock-agentcore-control", cfg.region)
        token: str | None = None
        while True:
            page = control.list_agent_runtimes(**({"nextToken": token} if token else {}))
            used += len(page.get("agentRuntimes", []))
            token = page.get("nextToken")
            if not token:
                break
    fix = "delete an unused runtime, or request an increase in Service Quotas (AgentCore)"
    return _quota_result("agentcore quota", quota, used, 1, fix)


CHECKS: tuple[Check, ...] = (
    check_bootstrap,
    check_model_access(EMBEDDING_MODEL_ID),
    check_model_access(LLM_FOUNDATION_MODEL_ID),
    check_inference_profile,
    check_availability_zones,
    check_node_type,
    check_cache_node_quota,
    check_runtime_quota,
)


def _reason(exc: Exception) -> str:
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return f"{error.get('Code', '?')}: {error.get('Message', '')}".strip()
    return str(exc)


def _run(check: Check, clients: Clients, cfg: StackConfig, who: Account) -> Result:
    """A check whose call itself fails (no permission, throttling) is a failed line."""
    try:
        return check(clients, cfg, who)
    except (ClientError, BotoCoreError) as exc:
        label = check.__name__.removeprefix("check_").replace("_", " ")
        fix = "the caller needs read access for this check (Describe/Get/List), or try again"
        return Result("FAIL", label, _reason(exc), fix)


# ------------------------------------------------------------------------------ main
def main(
    argv: Sequence[str] | None = None,
    *,
    clients: Clients | None = None,
    environ: Mapping[str, str] | None = None,
    out: Any = None,
) -> int:
    out = out or sys.stdout
    environ = os.environ if environ is None else environ
    parser = argparse.ArgumentParser(description="Read-only checks before a first deploy.")
    parser.add_argument("-c", "--context", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args(argv)  # bad usage: argparse exits 2
    context = load_cdk_json_context()
    try:
        for pair in args.context:
            key, sep, value = pair.partition("=")
            if not sep or not key:
                raise ConfigError(f"-c expects key=value, got {pair!r}")
            context[key] = value
        # The account comes from the credentials below; only an explicit one is compared.
        offline_env = {k: v for k, v in environ.items() if not k.startswith("CDK_DEFAULT_")}
        cfg = config_from_context(context.get, environ=offline_env)
    except ConfigError as exc:
        print(f"preflight: {exc}", file=sys.stderr)
        return 2
    clients = clients or Clients()
    expected = str(context.get("account") or environ.get("CDK_DEPLOY_ACCOUNT") or "")
    try:
        first, who = check_credentials(clients, cfg, expected)
    except BotoCoreError as exc:  # e.g. a profile that does not exist: one line, no trace
        first, who = Result("FAIL", "credentials", str(exc), "check AWS_PROFILE"), None
    print(first.line(), file=out)
    if who is None:
        return 1
    results = [_run(check, clients, cfg, who) for check in CHECKS]
    for result in results:
        print(result.line(), file=out)
    return 1 if any(r.status == "FAIL" for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
