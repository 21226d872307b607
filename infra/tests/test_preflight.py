"""``make preflight`` (infra/preflight.py): every check, passing and failing.

Real boto3 clients with botocore's ``Stubber``: the requests are built and validated against
the service models and the replies parsed as from AWS, with no network. A client the test did
not stub cannot be made (``Clients`` gets a session that refuses).
"""

from __future__ import annotations

import importlib.util
import io
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from infra_helpers import INFRA_DIR, REPO_ROOT
from semcache_infra import StackConfig

REGION = "us-west-2"
ACCOUNT = "111122223333"
CALLER = f"arn:aws:iam::{ACCOUNT}:user/deployer"
TITAN = "amazon.titan-embed-text-v2:0"
HAIKU = "anthropic.claude-haiku-4-5-20251001-v1:0"
PROFILE = "us.anthropic.claude-haiku-4-5-20251001-v1:0"
NOW = datetime(2026, 12, 1, tzinfo=UTC)


def _load_preflight() -> Any:
    spec = importlib.util.spec_from_file_location("semcache_preflight", INFRA_DIR / "preflight.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


preflight = _load_preflight()
SESSION = boto3.session.Session(
    aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
)


class _NoNetwork:
    def client(self, service: str, **kwargs: Any) -> Any:
        raise AssertionError(f"preflight asked for an unstubbed {service} client")


class Aws:
    """Stubbed real clients by service, handed to preflight as its Clients."""

    def __init__(self) -> None:
        self.made: dict[tuple[str, str], Any] = {}
        self.stubs: dict[str, Stubber] = {}
        self.clients = preflight.Clients(session=_NoNetwork(), made=self.made)

    def __call__(self, service: str) -> Stubber:
        if service not in self.stubs:
            client = SESSION.client(service, region_name=REGION)
            self.stubs[service] = Stubber(client)
            self.stubs[service].activate()
            self.made[service, REGION] = client
        return self.stubs[service]

    def done(self) -> None:
        for stub in self.stubs.values():
            stub.assert_no_pending_responses()
            stub.deactivate()


@pytest.fixture()
def aws() -> Any:
    stubs = Aws()
    yield stubs
    stubs.done()


CFG = StackConfig(region=REGION)
WHO = preflight.Account(ACCOUNT, CALLER, REGION)


# ------------------------------------------------------------------ canned replies
def identity(aws: Aws, account: str = ACCOUNT) -> None:
    reply = {"Account": account, "Arn": CALLER, "UserId": "AIDAEXAMPLE"}
    aws("sts").add_response("get_caller_identity", reply, {})


def bootstrap(aws: Aws, version: str = "29", status: str = "UPDATE_COMPLETE") -> None:
    stack = {
        "StackName": "CDKToolkit",
        "CreationTime": NOW,
        "StackStatus": status,
        "Outputs": [{"OutputKey": "BootstrapVersion", "OutputValue": version}],
    }
    aws("cloudformation").add_response(
        "describe_stacks", {"Stacks": [stack]}, {"StackName": "CDKToolkit"}
    )


def availability(aws: Aws, model: str, **overrides: Any) -> None:
    reply = {
        "modelId": model,
        "agreementAvailability": {"status": "AVAILABLE"},
        "authorizationStatus": "AUTHORIZED",
        "entitlementAvailability": "AVAILABLE",
        "regionAvailability": "AVAILABLE",
        **overrides,
    }
    aws("bedrock").add_response("get_foundation_model_availability", reply, {"modelId": model})


def profile(
    aws: Aws, regions: tuple[str, ...] = ("us-east-1", "us-east-2", "us-west-2"), model: str = HAIKU
) -> None:
    reply = {
        "inferenceProfileName": "US Anthropic Claude Haiku 4.5",
        "inferenceProfileArn": f"arn:aws:bedrock:{REGION}:{ACCOUNT}:inference-profile/{PROFILE}",
        "models": [{"modelArn": f"arn:aws:bedrock:{r}::foundation-model/{model}"} for r in regions],
        "inferenceProfileId": PROFILE,
        "status": "ACTIVE",
        "type": "SYSTEM_DEFINED",
    }
    aws("bedrock").add_response(
        "get_inference_profile", reply, {"inferenceProfileIdentifier": PROFILE}
    )


def zones(
    aws: Aws, ids: tuple[str, ...] = ("usw2-az1", "usw2-az2"), state: str = "available"
) -> None:
    names = {"usw2-az1": "us-west-2b", "usw2-az2": "us-west-2a", "usw2-az3": "us-west-2c"}
    reply = {
        "AvailabilityZones": [
            {"ZoneId": i, "ZoneName": names[i], "State": state, "RegionName": REGION} for i in ids
        ]
    }
    aws("ec2").add_response(
        "describe_availability_zones", reply, {"ZoneIds": ["usw2-az1", "usw2-az2"]}
    )


def quotas(aws: Aws, code: str, name: str | None, value: float = 300.0) -> None:
    listed = [] if name is None else [{"QuotaName": name, "Value": value, "QuotaCode": "L-1"}]
    aws("service-quotas").add_response(
        "list_service_quotas", {"Quotas": listed}, {"ServiceCode": code}
    )


def cache_clusters(aws: Aws, nodes: list[int]) -> None:
    clusters = [{"CacheClusterId": f"c{i}", "NumCacheNodes": n} for i, n in enumerate(nodes)]
    aws("elasticache").add_response("describe_cache_clusters", {"CacheClusters": clusters}, {})


def runtimes(aws: Aws, count: int) -> None:
    listed = [
        {
            "agentRuntimeArn": f"arn:aws:bedrock-agentcore:{REGION}:{ACCOUNT}:runtime/a{i}",
            "agentRuntimeId": f"a{i}",
            "agentRuntimeVersion": "1",
            "agentRuntimeName": f"a{i}",
            "description": "an agent",
            "lastUpdatedAt": NOW,
            "status": "READY",
        }
        for i in range(count)
    ]
    aws("bedrock-agentcore-control").add_response(
        "list_agent_runtimes", {"agentRuntimes": listed}, {}
    )


def everything_passes(aws: Aws) -> None:
    identity(aws)
    bootstrap(aws)
    availability(aws, TITAN)
    availability(aws, HAIKU)
    profile(aws)
    zones(aws)
    quotas(aws, "elasticache", "Nodes per Region")
    cache_clusters(aws, [1, 2])
    quotas(aws, "bedrock-agentcore", "Agent runtimes per account")
    runtimes(aws, 3)


# ---------------------------------------------------------------------- checks
class TestCredentials:
    def test_pass_names_account_and_region(self, aws: Aws) -> None:
        identity(aws)
        result, who = preflight.check_credentials(aws.clients, CFG, "")
        assert result.status == "PASS" and ACCOUNT in result.detail and REGION in result.detail
        assert who == WHO and who.partition == "aws"

    def test_rejected_credentials_fail(self, aws: Aws) -> None:
        aws("sts").add_client_error(
            "get_caller_identity", "InvalidClientTokenId", "The security token is invalid."
        )
        result, who = preflight.check_credentials(aws.clients, CFG, "")
        assert (result.status, who) == ("FAIL", None)
        assert "InvalidClientTokenId" in result.detail and "aws configure" in result.fix

    def test_credentials_of_another_account_fail(self, aws: Aws) -> None:
        identity(aws)
        result, who = preflight.check_credentials(aws.clients, CFG, "444455556666")
        assert (result.status, who) == ("FAIL", None)
        assert "444455556666" in result.detail


class TestBootstrap:
    def test_pass(self, aws: Aws) -> None:
        bootstrap(aws, "29")
        assert preflight.check_bootstrap(aws.clients, CFG, WHO).status == "PASS"

    def test_missing_stack_fails_with_the_bootstrap_command(self, aws: Aws) -> None:
        aws("cloudformation").add_client_error(
            "describe_stacks", "ValidationError", "Stack with id CDKToolkit does not exist"
        )
        result = preflight.check_bootstrap(aws.clients, CFG, WHO)
        assert result.status == "FAIL"
        assert result.fix == f"npx aws-cdk@2 bootstrap aws://{ACCOUNT}/{REGION}"

    @pytest.mark.parametrize(
        "version,status", [("5", "CREATE_COMPLETE"), ("29", "ROLLBACK_COMPLETE")]
    )
    def test_old_or_broken_bootstrap_fails(self, aws: Aws, version: str, status: str) -> None:
        bootstrap(aws, version, status)
        assert preflight.check_bootstrap(aws.clients, CFG, WHO).status == "FAIL"


class TestModelAccess:
    @pytest.mark.parametrize("model", [TITAN, HAIKU])
    def test_pass(self, aws: Aws, model: str) -> None:
        availability(aws, model)
        assert preflight.check_model_access(model)(aws.clients, CFG, WHO).status == "PASS"

    def test_fresh_account_fails_with_first_use_form_and_agreement(self, aws: Aws) -> None:
        availability(
            aws,
            HAIKU,
            authorizationStatus="NOT_AUTHORIZED",
            entitlementAvailability="NOT_AVAILABLE",
            agreementAvailability={"status": "NOT_AVAILABLE"},
        )
        result = preflight.check_model_access(HAIKU)(aws.clients, CFG, WHO)
        assert result.status == "FAIL"
        assert "first-use form" in result.fix
        assert f"create-foundation-model-agreement --model-id {HAIKU}" in result.fix

    def test_pending_agreement_fails_with_wait(self, aws: Aws) -> None:
        availability(aws, HAIKU, agreementAvailability={"status": "PENDING"})
        result = preflight.check_model_access(HAIKU)(aws.clients, CFG, WHO)
        assert result.status == "FAIL" and "pending" in result.detail and "wait" in result.fix

    def test_amazon_models_need_no_marketplace_agreement(self, aws: Aws) -> None:
        availability(aws, TITAN, agreementAvailability={"status": "NOT_AVAILABLE"})
        assert preflight.check_model_access(TITAN)(aws.clients, CFG, WHO).status == "PASS"
        availability(aws, HAIKU, agreementAvailability={"status": "NOT_AVAILABLE"})
        assert preflight.check_model_access(HAIKU)(aws.clients, CFG, WHO).status == "FAIL"

    def test_a_refused_call_is_a_failed_line_named_for_its_check(self, aws: Aws) -> None:
        aws("bedrock").add_client_error(
            "get_foundation_model_availability", "AccessDeniedException", "no"
        )
        result = preflight._run(preflight.check_model_access(HAIKU), aws.clients, CFG, WHO)
        assert result.status == "FAIL" and result.name == f"model access {HAIKU}"
        assert "AccessDeniedException" in result.detail

    def test_model_not_in_region_fails(self, aws: Aws) -> None:
        availability(aws, TITAN, regionAvailability="NOT_AVAILABLE")
        result = preflight.check_model_access(TITAN)(aws.clients, CFG, WHO)
        assert result.status == "FAIL" and "not offered" in result.detail


class TestInferenceProfile:
    def test_every_destination_is_covered(self, aws: Aws) -> None:
        profile(aws, ("us-east-1", "us-east-2", "us-west-2", "ca-central-1"))
        result = preflight.check_inference_profile(aws.clients, CFG, WHO)
        assert result.status == "PASS", result
        assert "ca-central-1, us-east-1, us-east-2, us-west-2" in result.detail

    def test_a_destination_outside_the_policy_fails(self, aws: Aws) -> None:
        profile(aws, ("us-east-1",), model="anthropic.claude-haiku-4-5-20251001-v2:0")
        result = preflight.check_inference_profile(aws.clients, CFG, WHO)
        assert result.status == "FAIL" and "LLM_FOUNDATION_MODEL_ID" in result.fix


class TestAvailabilityZones:
    def test_supported_ids_pass_and_show_their_names(self, aws: Aws) -> None:
        zones(aws)
        result = preflight.check_availability_zones(aws.clients, CFG, WHO)
        assert result.status == "PASS"
        assert "usw2-az1 = us-west-2b, usw2-az2 = us-west-2a" in result.detail

    def test_unknown_id_fails(self, aws: Aws) -> None:
        aws("ec2").add_client_error(
            "describe_availability_zones", "InvalidParameterValue", "Invalid zone id usw2-az2"
        )
        result = preflight.check_availability_zones(aws.clients, CFG, WHO)
        assert result.status == "FAIL" and "availabilityZoneIds" in result.fix

    def test_missing_or_impaired_zone_fails(self, aws: Aws) -> None:
        zones(aws, ("usw2-az1",))
        assert preflight.check_availability_zones(aws.clients, CFG, WHO).status == "FAIL"
        zones(aws, state="impaired")
        assert preflight.check_availability_zones(aws.clients, CFG, WHO).status == "FAIL"


class TestNodeType:
    def test_default_passes(self) -> None:
        assert preflight.check_node_type(None, CFG, WHO).status == "PASS"

    def test_data_tiering_fails(self) -> None:
        cfg = StackConfig(cache_node_type="cache.r6gd.xlarge")
        result = preflight.check_node_type(None, cfg, WHO)
        assert result.status == "FAIL" and "data-tiering" in result.detail


class TestQuotas:
    def test_cache_nodes_pass(self, aws: Aws) -> None:
        quotas(aws, "elasticache", "Nodes per Region", 300)
        cache_clusters(aws, [2, 3])
        result = preflight.check_cache_node_quota(aws.clients, CFG, WHO)
        assert result.status == "PASS" and "5 of 300 used" in result.detail

    def test_cache_nodes_fail_without_room_for_primary_and_replica(self, aws: Aws) -> None:
        quotas(aws, "elasticache", "Nodes per Region", 6)
        cache_clusters(aws, [5])
        assert preflight.check_cache_node_quota(aws.clients, CFG, WHO).status == "FAIL"

    def test_runtimes_pass_and_fail(self, aws: Aws) -> None:
        quotas(aws, "bedrock-agentcore", "Agent runtimes per account", 4)
        runtimes(aws, 3)
        assert preflight.check_runtime_quota(aws.clients, CFG, WHO).status == "PASS"
        quotas(aws, "bedrock-agentcore", "Agent runtimes per account", 3)
        runtimes(aws, 3)
        assert preflight.check_runtime_quota(aws.clients, CFG, WHO).status == "FAIL"

    def test_unreported_quota_is_skipped_not_failed(self, aws: Aws) -> None:
        quotas(aws, "bedrock-agentcore", None)
        assert preflight.check_runtime_quota(aws.clients, CFG, WHO).status == "SKIP"


# ------------------------------------------------------------------------- main
def _main(aws: Aws, *argv: str) -> tuple[int, list[str]]:
    out = io.StringIO()
    code = preflight.main(list(argv), clients=aws.clients, environ={}, out=out)
    return code, out.getvalue().splitlines()


def test_all_pass_exits_0_with_one_line_per_check(aws: Aws) -> None:
    everything_passes(aws)
    code, lines = _main(aws)
    assert code == 0, lines
    assert len(lines) == 1 + len(preflight.CHECKS)
    assert all(line.startswith("PASS") for line in lines), lines


def test_one_failure_exits_1_and_the_other_checks_still_run(aws: Aws) -> None:
    identity(aws)
    aws("cloudformation").add_client_error(
        "describe_stacks", "AccessDenied", "not authorized to perform cloudformation:DescribeStacks"
    )
    availability(aws, TITAN)
    availability(aws, HAIKU)
    profile(aws)
    zones(aws)
    quotas(aws, "elasticache", "Nodes per Region")
    cache_clusters(aws, [])
    quotas(aws, "bedrock-agentcore", None)
    code, lines = _main(aws)
    assert code == 1
    assert [line.split()[0] for line in lines] == ["PASS", "FAIL"] + ["PASS"] * 6 + ["SKIP"]
    assert "AccessDenied" in lines[1] and "fix:" in lines[1]


def test_failed_credentials_stop_after_one_line(aws: Aws) -> None:
    aws("sts").add_client_error("get_caller_identity", "ExpiredToken", "expired")
    code, lines = _main(aws)
    assert (code, len(lines)) == (1, 1)


def test_bad_usage_exits_2(aws: Aws, capsys: pytest.CaptureFixture[str]) -> None:
    assert _main(aws, "-c", "natGateways=9")[0] == 2
    assert _main(aws, "-c", "novalue")[0] == 2
    assert _main(aws, "-c", "availabilityZoneIds=usw2-az4,usw2-az1")[0] == 2
    with pytest.raises(SystemExit) as exited:
        _main(aws, "--no-such-flag")
    assert exited.value.code == 2
    assert "preflight: natGateways" in capsys.readouterr().err


def test_without_credentials_one_clear_line_and_no_traceback(tmp_path: Path) -> None:
    """The real script, with nothing to find credentials in."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "AWS_CONFIG_FILE": str(tmp_path / "none"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    proc = subprocess.run(
        [sys.executable, str(INFRA_DIR / "preflight.py")],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr == ""
    assert proc.stdout.splitlines() == [
        "FAIL  credentials: no AWS credentials found  -> fix: aws configure (or export "
        "AWS_PROFILE=<profile>), then aws sts get-caller-identity"
    ]
