"""Template assertions for SemanticCacheStack (network, cache, secret, runtime, IAM, outputs)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from aws_cdk import assertions
from aws_cdk.assertions import Match
from infra_helpers import PLACEHOLDER_PACKAGE, load_app_module, synthesize
from semcache_infra import StackConfig, config_from_context
from semcache_infra.config import ConfigError

ACCOUNT = "123456789012"
REGION = "us-west-2"

EXPECTED_INTERFACE_SERVICES = {
    f"com.amazonaws.{REGION}.bedrock-runtime",
    f"com.amazonaws.{REGION}.logs",
    f"com.amazonaws.{REGION}.secretsmanager",
}
# The container artifact also pulls its image through ECR.
ECR_SERVICES = {f"com.amazonaws.{REGION}.ecr.api", f"com.amazonaws.{REGION}.ecr.dkr"}
ADOT_ENVIRONMENT = {
    "AGENT_OBSERVABILITY_ENABLED": "true",
    "OTEL_PYTHON_DISTRO": "aws_distro",
    "OTEL_PYTHON_CONFIGURATOR": "aws_configurator",
    "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
    "OTEL_TRACES_EXPORTER": "otlp",
}

HAIKU_PROFILE_ARN = (
    f"arn:aws:bedrock:{REGION}:{ACCOUNT}:inference-profile/"
    "us.anthropic.claude-haiku-4-5-20251001-v1:0"
)
EXPECTED_BEDROCK_RESOURCES = {
    f"arn:aws:bedrock:{REGION}::foundation-model/amazon.titan-embed-text-v2:0",
    HAIKU_PROFILE_ARN,
}
# The profile's destinations, in any region, only through the profile (AWS's documented form).
HAIKU_IN_ANY_REGION = "arn:aws:bedrock:*::foundation-model/anthropic.claude-haiku-4-5-20251001-v1:0"


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _ref(logical_id: str) -> dict[str, str]:
    return {"Ref": logical_id}


def _group_id(logical_id: str) -> dict[str, list[str]]:
    return {"Fn::GetAtt": [logical_id, "GroupId"]}


def _logical_id(synth, construct) -> str:
    return synth.stack.get_logical_id(construct.node.default_child)


def _policy_statements(synth) -> list[dict[str, Any]]:
    """All statements of all policies attached to the runtime execution role."""
    role_id = _logical_id(synth, synth.stack.execution_role)
    statements: list[dict[str, Any]] = []
    for res in synth.resources("AWS::IAM::Policy").values():
        if _ref(role_id) in res["Properties"]["Roles"]:
            statements += res["Properties"]["PolicyDocument"]["Statement"]
    role = synth.raw["Resources"][role_id]["Properties"]
    for inline in role.get("Policies", []):
        statements += inline["PolicyDocument"]["Statement"]
    return statements


# --------------------------------------------------------------------- config
class TestConfig:
    def test_defaults_come_from_cdk_json_offline(self) -> None:
        from semcache_infra import load_cdk_json_context

        ctx = load_cdk_json_context()
        cfg = config_from_context(ctx.get, environ={})
        assert cfg == StackConfig(
            env_name="dev",
            account=ACCOUNT,
            region=REGION,
            nat_gateways=1,
            cache_node_type="cache.r7g.large",
            cache_replicas=1,
            similarity_threshold=0.9,
            cache_judge=False,
        )
        assert cfg.stack_name == "SemanticCacheStack-dev"
        assert ctx[f"availability-zones:account={ACCOUNT}:region={REGION}"] == [
            "us-west-2a",
            "us-west-2b",
        ]

    def test_cli_credentials_and_explicit_context_win_over_offline_placeholders(self) -> None:
        ctx = {"offlineAccount": ACCOUNT, "offlineRegion": REGION}
        env = {"CDK_DEFAULT_ACCOUNT": "210987654321", "CDK_DEFAULT_REGION": "us-east-1"}
        cfg = config_from_context(ctx.get, environ=env)
        # The caller's account is used; the profile's default region is not.
        assert (cfg.account, cfg.region) == ("210987654321", REGION)
        env["CDK_DEPLOY_REGION"] = "us-east-1"
        cfg = config_from_context(ctx.get, environ=env)
        assert (cfg.account, cfg.region) == ("210987654321", "us-east-1")
        ctx.update(account="111122223333", region="us-east-2")
        cfg = config_from_context(ctx.get, environ=env)
        assert (cfg.account, cfg.region) == ("111122223333", "us-east-2")

    @pytest.mark.parametrize(
        "key,value",
        [
            ("env", "Prod-1"),
            ("natGateways", "0"),
            ("natGateways", "3"),
            ("natGateways", "one"),
            ("cacheReplicas", "-1"),
            ("cacheNodeType", "r7g.large"),
            ("similarityThreshold", "1.5"),
            ("similarityThreshold", "0"),
            ("cacheJudge", "maybe"),
            ("artifact", "docker"),
            ("valkeyVersion", "7.2"),
            ("valkeyVersion", "8.0"),
            ("vectorDims", "384"),
            ("vectorDims", "2048"),
            ("vectorDims", "large"),
        ],
    )
    def test_invalid_context_is_rejected(self, key: str, value: str) -> None:
        ctx = {key: value}
        with pytest.raises(ConfigError):
            config_from_context(ctx.get, environ={})


# -------------------------------------------------------------------- network
class TestNetwork:
    def test_stack_name_and_env(self, synth) -> None:
        assert synth.stack.stack_name == "SemanticCacheStack-dev"
        assert (synth.stack.account, synth.stack.region) == (ACCOUNT, REGION)
        assert synth.stack.availability_zones == ["us-west-2a", "us-west-2b"]

    def test_vpc_two_azs_public_and_private_subnets(self, synth) -> None:
        synth.template.resource_count_is("AWS::EC2::VPC", 1)
        subnets = synth.resources("AWS::EC2::Subnet").values()
        public = [s for s in subnets if s["Properties"].get("MapPublicIpOnLaunch") is True]
        private = [s for s in subnets if s["Properties"].get("MapPublicIpOnLaunch") is False]
        assert len(public) == 2 and len(private) == 2
        # Placed by AZ ID from AgentCore's supported list (test_infra_first_deploy.py).
        assert sorted(s["Properties"]["AvailabilityZoneId"] for s in private) == [
            "usw2-az1",
            "usw2-az2",
        ]

    def test_one_nat_gateway_by_default_and_private_default_routes_use_it(self, synth) -> None:
        synth.template.resource_count_is("AWS::EC2::NatGateway", 1)
        private_route_tables = [
            _ref(synth.stack.get_logical_id(s.node.find_child("RouteTable")))
            for s in synth.stack.vpc.private_subnets
        ]
        nat_routes = [
            r["Properties"]
            for r in synth.resources("AWS::EC2::Route").values()
            if "NatGatewayId" in r["Properties"]
        ]
        assert sorted(json.dumps(r["RouteTableId"]) for r in nat_routes) == sorted(
            json.dumps(rt) for rt in private_route_tables
        )
        for route in nat_routes:
            assert route["DestinationCidrBlock"] == "0.0.0.0/0"

    def test_nat_gateway_count_comes_from_context(self, synth_variant) -> None:
        synth_variant.template.resource_count_is("AWS::EC2::NatGateway", 2)

    def test_container_artifact_adds_the_ecr_endpoints(self, synth_container) -> None:
        services = {
            e["Properties"]["ServiceName"]
            for e in synth_container.resources("AWS::EC2::VPCEndpoint").values()
            if e["Properties"].get("VpcEndpointType") == "Interface"
        }
        assert services == EXPECTED_INTERFACE_SERVICES | ECR_SERVICES

    def test_interface_endpoints_in_private_subnets_behind_endpoint_sg(self, synth) -> None:
        private_ids = [
            _ref(synth.stack.get_logical_id(s.node.default_child))
            for s in synth.stack.vpc.private_subnets
        ]
        endpoint_sg = _logical_id(synth, synth.stack.endpoint_sg)
        interface = [
            e["Properties"]
            for e in synth.resources("AWS::EC2::VPCEndpoint").values()
            if e["Properties"].get("VpcEndpointType") == "Interface"
        ]
        assert {e["ServiceName"] for e in interface} == EXPECTED_INTERFACE_SERVICES
        for endpoint in interface:
            assert endpoint["SubnetIds"] == private_ids
            assert endpoint["PrivateDnsEnabled"] is True
            assert endpoint["SecurityGroupIds"] == [_group_id(endpoint_sg)]

    def test_s3_gateway_endpoint_on_private_route_tables(self, synth) -> None:
        gateways = [
            e["Properties"]
            for e in synth.resources("AWS::EC2::VPCEndpoint").values()
            if e["Properties"].get("VpcEndpointType") == "Gateway"
        ]
        assert len(gateways) == 1
        assert json.dumps(gateways[0]["ServiceName"]).endswith('".s3"]]}')
        assert len(gateways[0]["RouteTableIds"]) == 2
        for rt in gateways[0]["RouteTableIds"]:
            assert "PrivateSubnet" in rt["Ref"]

    def test_endpoint_sg_admits_https_from_runtime_sg_only(self, synth) -> None:
        self._assert_only_ingress(synth, synth.stack.endpoint_sg, port=443)

    def test_vpc_flow_logs_enabled(self, synth) -> None:
        synth.template.has_resource_properties(
            "AWS::EC2::FlowLog",
            {"ResourceType": "VPC", "LogDestinationType": "cloud-watch-logs"},
        )

    @staticmethod
    def _assert_only_ingress(synth, sg, *, port: int) -> None:
        sg_id = _logical_id(synth, sg)
        runtime_sg = _logical_id(synth, synth.stack.runtime_sg)
        inline = synth.raw["Resources"][sg_id]["Properties"].get("SecurityGroupIngress", [])
        assert inline == [], "no inline ingress rules (no CIDR-based access)"
        rules = [
            r["Properties"]
            for r in synth.resources("AWS::EC2::SecurityGroupIngress").values()
            if r["Properties"]["GroupId"] == _group_id(sg_id)
        ]
        assert len(rules) == 1, rules
        rule = rules[0]
        assert rule["IpProtocol"] == "tcp"
        assert (rule["FromPort"], rule["ToPort"]) == (port, port)
        assert rule["SourceSecurityGroupId"] == _group_id(runtime_sg)
        assert "CidrIp" not in rule and "CidrIpv6" not in rule
        # No egress at all (CDK renders "deny all" as a dummy ICMP rule).
        egress = synth.raw["Resources"][sg_id]["Properties"]["SecurityGroupEgress"]
        assert egress == [
            {
                "CidrIp": "255.255.255.255/32",
                "Description": "Disallow all traffic",
                "FromPort": 252,
                "IpProtocol": "icmp",
                "ToPort": 86,
            }
        ]


# ---------------------------------------------------------------------- cache
class TestCache:
    def test_replication_group_properties(self, synth) -> None:
        secret_id = _logical_id(synth, synth.stack.auth_secret)
        cache_sg = _logical_id(synth, synth.stack.cache_sg)
        synth.template.has_resource_properties(
            "AWS::ElastiCache::ReplicationGroup",
            {
                "Engine": "valkey",
                "EngineVersion": "9.0",
                "CacheNodeType": "cache.r7g.large",
                "ClusterMode": "disabled",
                "NumCacheClusters": 2,  # one shard: primary + one replica
                "MultiAZEnabled": True,
                "AutomaticFailoverEnabled": True,
                "Port": 6379,
                "TransitEncryptionEnabled": True,
                "TransitEncryptionMode": "required",
                "AtRestEncryptionEnabled": True,
                "SecurityGroupIds": [_group_id(cache_sg)],
                "AuthToken": {
                    "Fn::Join": [
                        "",
                        ["{{resolve:secretsmanager:", _ref(secret_id), ":SecretString:::}}"],
                    ]
                },
            },
        )
        _, rg = synth.one("AWS::ElastiCache::ReplicationGroup")
        props = rg["Properties"]
        assert "NumNodeGroups" not in props or props["NumNodeGroups"] == 1
        assert "CacheParameterGroupName" not in props or "valkey8" in str(
            props["CacheParameterGroupName"]
        )

    def test_not_serverless(self, synth) -> None:
        synth.template.resource_count_is("AWS::ElastiCache::ServerlessCache", 0)

    def test_subnet_group_uses_private_subnets(self, synth) -> None:
        private_ids = [
            _ref(synth.stack.get_logical_id(s.node.default_child))
            for s in synth.stack.vpc.private_subnets
        ]
        sg_id, subnet_group = synth.one("AWS::ElastiCache::SubnetGroup")
        assert subnet_group["Properties"]["SubnetIds"] == private_ids
        _, rg = synth.one("AWS::ElastiCache::ReplicationGroup")
        assert rg["Properties"]["CacheSubnetGroupName"] == _ref(sg_id)

    def test_cache_sg_admits_6379_from_runtime_sg_only(self, synth) -> None:
        TestNetwork._assert_only_ingress(synth, synth.stack.cache_sg, port=6379)

    def test_node_type_and_replicas_from_context(self, synth_variant) -> None:
        synth_variant.template.has_resource_properties(
            "AWS::ElastiCache::ReplicationGroup",
            {
                "EngineVersion": "8.2",
                "CacheNodeType": "cache.r7g.xlarge",
                "NumCacheClusters": 1,
                "MultiAZEnabled": False,
                "AutomaticFailoverEnabled": False,
            },
        )

    def test_auth_token_secret_is_generated_without_punctuation(self, synth) -> None:
        _, secret = synth.one("AWS::SecretsManager::Secret")
        gen = secret["Properties"]["GenerateSecretString"]
        assert gen["ExcludePunctuation"] is True
        assert gen["IncludeSpace"] is False
        assert 16 <= gen["PasswordLength"] <= 128
        assert "SecretStringTemplate" not in gen  # a raw string, not JSON
        assert "SecretString" not in secret["Properties"]

    def test_no_plaintext_secret_in_template(self, template_json) -> None:
        text = json.dumps(template_json)
        # The only way the AUTH token appears is the dynamic reference.
        assert text.count("{{resolve:secretsmanager:") == 1
        assert not re.search(r'"AuthToken":\s*"', text)


# -------------------------------------------------------------------- runtime
class TestRuntime:
    def test_runtime_in_vpc_mode_in_private_subnets(self, synth) -> None:
        private_ids = [
            _ref(synth.stack.get_logical_id(s.node.default_child))
            for s in synth.stack.vpc.private_subnets
        ]
        runtime_sg = _logical_id(synth, synth.stack.runtime_sg)
        _, runtime = synth.one("AWS::BedrockAgentCore::Runtime")
        net = runtime["Properties"]["NetworkConfiguration"]
        assert net["NetworkMode"] == "VPC"
        assert net["NetworkModeConfig"]["Subnets"] == private_ids
        assert net["NetworkModeConfig"]["SecurityGroups"] == [_group_id(runtime_sg)]
        assert runtime["Properties"]["ProtocolConfiguration"] == "HTTP"
        assert runtime["Properties"]["AgentRuntimeName"] == "semcache_agent_dev"

    def test_environment_variables(self, synth) -> None:
        rg_id, _ = synth.one("AWS::ElastiCache::ReplicationGroup")
        secret_id = _logical_id(synth, synth.stack.auth_secret)
        _, runtime = synth.one("AWS::BedrockAgentCore::Runtime")
        assert runtime["Properties"]["EnvironmentVariables"] == {
            "VALKEY_HOST": {"Fn::GetAtt": [rg_id, "PrimaryEndPoint.Address"]},
            "VALKEY_PORT": "6379",
            "VALKEY_SSL": "true",
            "VALKEY_AUTH_SECRET_ARN": _ref(secret_id),
            "EMBEDDING_MODEL_ID": "amazon.titan-embed-text-v2:0",
            "LLM_MODEL_ID": "us.anthropic.claude-haiku-4-5-20251001-v1:0",
            "SIMILARITY_THRESHOLD": "0.9",
            "CACHE_JUDGE": "false",
            "AWS_REGION": REGION,
            "VECTOR_DIMS": "1024",
            **ADOT_ENVIRONMENT,
            "TENANT_SOURCE": "none",
        }

    def test_vector_dims_from_context(self, synth_variant) -> None:
        # -c vectorDims=512: the runtime embeds 512-d vectors (the app's index agent_semcache_512d).
        _, runtime = synth_variant.one("AWS::BedrockAgentCore::Runtime")
        assert runtime["Properties"]["EnvironmentVariables"]["VECTOR_DIMS"] == "512"

    def test_a_vector_dim_titan_does_not_return_exits_2(self, tmp_path, capsys) -> None:
        code = load_app_module().main(["-c", "vectorDims=768", "--outdir", str(tmp_path)])
        err = capsys.readouterr().err.strip()
        assert code == 2 and "Traceback" not in err
        assert err == (
            "synth: vectorDims must be one of 256, 512, 1024 (what "
            "amazon.titan-embed-text-v2:0 returns), got 768"
        )

    def test_container_gets_no_adot_environment(self, synth_container) -> None:
        _, runtime = synth_container.one("AWS::BedrockAgentCore::Runtime")
        assert not set(ADOT_ENVIRONMENT) & set(runtime["Properties"]["EnvironmentVariables"])

    def test_similarity_threshold_from_context(self, synth_variant) -> None:
        synth_variant.template.has_resource_properties(
            "AWS::BedrockAgentCore::Runtime",
            {
                "AgentRuntimeName": "semcache_agent_prod",
                "EnvironmentVariables": Match.object_like(
                    {"SIMILARITY_THRESHOLD": "0.85", "CACHE_JUDGE": "true"}
                ),
            },
        )
        assert synth_variant.stack.stack_name == "SemanticCacheStack-prod"

    def test_code_is_the_package_file_asset_on_python_313(self, synth) -> None:
        assets = json.loads((synth.outdir / f"{synth.stack.artifact_id}.assets.json").read_text())
        assert assets.get("dockerImages", {}) == {}
        asset_hash = synth.stack.code_asset.asset_hash
        source = assets["files"][asset_hash]["source"]
        assert source["packaging"] == "file" and source["path"].endswith(".zip")
        staged = synth.outdir / source["path"]
        assert staged.read_bytes() == PLACEHOLDER_PACKAGE.read_bytes()
        _, runtime = synth.one("AWS::BedrockAgentCore::Runtime")
        code = runtime["Properties"]["AgentRuntimeArtifact"]["CodeConfiguration"]
        assert code["Runtime"] == "PYTHON_3_13"
        assert code["EntryPoint"] == ["opentelemetry-instrument", "main.py"]
        assert code["Code"]["S3"]["Prefix"] == f"{asset_hash}.zip"
        assert f"cdk-hnb659fds-assets-{ACCOUNT}-{REGION}" in json.dumps(code["Code"]["S3"])

    def test_missing_package_says_to_run_make_package(self, tmp_path) -> None:
        with pytest.raises(ConfigError, match="make package"):
            synthesize(tmp_path / "out", {"codePackage": str(tmp_path / "nothing.zip")})

    def test_container_is_the_arm64_agent_image_asset(self, synth_container) -> None:
        synth = synth_container
        assets = json.loads((synth.outdir / f"{synth.stack.artifact_id}.assets.json").read_text())
        images = assets["dockerImages"]
        assert len(images) == 1
        ((image_hash, image),) = images.items()
        assert image["source"]["platform"] == "linux/arm64"
        assert image["source"]["dockerFile"] == "infra/Dockerfile"
        _, runtime = synth.one("AWS::BedrockAgentCore::Runtime")
        uri = json.dumps(runtime["Properties"]["AgentRuntimeArtifact"]["ContainerConfiguration"])
        assert f"container-assets-{ACCOUNT}-{REGION}:{image_hash}" in uri

    def test_runtime_uses_the_stack_execution_role_and_waits_for_policy(self, synth) -> None:
        role_id = _logical_id(synth, synth.stack.execution_role)
        policy_id = _logical_id(synth, synth.stack.execution_policy)
        _, runtime = synth.one("AWS::BedrockAgentCore::Runtime")
        assert runtime["Properties"]["RoleArn"] == {"Fn::GetAtt": [role_id, "Arn"]}
        assert policy_id in runtime["DependsOn"]
        for endpoint in synth.stack.interface_endpoints.values():
            assert _logical_id(synth, endpoint) in runtime["DependsOn"]


# ------------------------------------------------------------------------ IAM
class TestExecutionRole:
    def test_trust_policy_is_agentcore_scoped_to_account_and_runtime(self, synth) -> None:
        role_id = _logical_id(synth, synth.stack.execution_role)
        role = synth.raw["Resources"][role_id]["Properties"]
        (stmt,) = role["AssumeRolePolicyDocument"]["Statement"]
        assert stmt["Principal"] == {"Service": "bedrock-agentcore.amazonaws.com"}
        assert stmt["Condition"]["StringEquals"] == {"aws:SourceAccount": ACCOUNT}
        assert stmt["Condition"]["ArnLike"] == {
            "aws:SourceArn": (
                f"arn:aws:bedrock-agentcore:{REGION}:{ACCOUNT}:runtime/semcache_agent_dev*"
            )
        }
        assert "ManagedPolicyArns" not in role

    def test_role_has_exactly_one_policy(self, synth) -> None:
        role_id = _logical_id(synth, synth.stack.execution_role)
        attached = [
            lid
            for lid, res in synth.resources("AWS::IAM::Policy").items()
            if _ref(role_id) in res["Properties"]["Roles"]
        ]
        assert attached == [_logical_id(synth, synth.stack.execution_policy)]

    def test_bedrock_invoke_is_scoped_to_titan_v2_and_haiku_45(self, synth) -> None:
        bedrock = [
            s
            for s in _policy_statements(synth)
            if any(a.startswith("bedrock:") for a in _as_list(s["Action"]))
        ]
        assert len(bedrock) == 2
        for stmt in bedrock:
            assert stmt["Effect"] == "Allow"
            assert sorted(_as_list(stmt["Action"])) == [
                "bedrock:InvokeModel",
                "bedrock:InvokeModelWithResponseStream",
            ]
        direct, through_profile = bedrock
        assert set(_as_list(direct["Resource"])) == EXPECTED_BEDROCK_RESOURCES
        assert "Condition" not in direct
        assert through_profile["Resource"] == HAIKU_IN_ANY_REGION
        assert through_profile["Condition"] == {
            "StringLike": {"bedrock:InferenceProfileArn": HAIKU_PROFILE_ARN}
        }

    def test_no_wildcard_actions_and_no_wildcard_bedrock_or_secret_resources(self, synth) -> None:
        for stmt in _policy_statements(synth):
            actions = _as_list(stmt["Action"])
            assert not any("*" in action for action in actions), actions
            if any(a.split(":")[0] in {"bedrock", "secretsmanager"} for a in actions):
                for resource in _as_list(stmt["Resource"]):
                    if resource == HAIKU_IN_ANY_REGION:  # the one model, through the profile
                        assert "bedrock:InferenceProfileArn" in json.dumps(stmt["Condition"])
                        continue
                    assert "*" not in json.dumps(resource), (actions, resource)

    def test_secret_read_is_the_auth_secret_only(self, synth) -> None:
        secret_id = _logical_id(synth, synth.stack.auth_secret)
        secrets = [
            s
            for s in _policy_statements(synth)
            if any(a.startswith("secretsmanager:") for a in _as_list(s["Action"]))
        ]
        assert secrets == [
            {
                "Action": "secretsmanager:GetSecretValue",
                "Effect": "Allow",
                "Resource": _ref(secret_id),
                "Sid": "ReadValkeyAuthToken",
            }
        ]

    def test_star_resources_only_where_aws_requires_them(self, synth) -> None:
        allowed = {
            "ecr:GetAuthorizationToken",
            "xray:PutTraceSegments",
            "xray:PutTelemetryRecords",
            "xray:GetSamplingRules",
            "xray:GetSamplingTargets",
            "xray:PutSpans",
            "xray:PutSpansForIndexing",
            "cloudwatch:PutMetricData",
        }
        for stmt in _policy_statements(synth):
            if "*" in _as_list(stmt["Resource"]):
                assert set(_as_list(stmt["Action"])) <= allowed, stmt
                if "cloudwatch:PutMetricData" in _as_list(stmt["Action"]):
                    assert stmt["Condition"] == {
                        "StringEquals": {"cloudwatch:namespace": "bedrock-agentcore"}
                    }

    def test_logs_are_scoped_to_this_runtimes_log_groups(self, synth) -> None:
        prefix = (
            f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:"
            "/aws/bedrock-agentcore/runtimes/semcache_agent_dev-"
        )
        for stmt in _policy_statements(synth):
            actions = set(_as_list(stmt["Action"]))
            if not any(a.startswith("logs:") for a in actions):
                continue
            for resource in _as_list(stmt["Resource"]):
                if actions == {"logs:DescribeLogGroups"}:
                    assert resource == f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:*"
                else:
                    assert resource.startswith(prefix), (actions, resource)

    def test_code_package_read_is_that_one_object(self, synth) -> None:
        reads = [s for s in _policy_statements(synth) if s["Sid"] == "ReadAgentCodePackage"]
        asset_hash = synth.stack.code_asset.asset_hash
        assert reads == [
            {
                "Sid": "ReadAgentCodePackage",
                "Effect": "Allow",
                "Action": "s3:GetObject",
                "Resource": (
                    f"arn:aws:s3:::cdk-hnb659fds-assets-{ACCOUNT}-{REGION}/{asset_hash}.zip"
                ),
            }
        ]
        actions = {a for s in _policy_statements(synth) for a in _as_list(s["Action"])}
        assert not {a for a in actions if a.startswith("ecr:")}
        assert {"xray:PutSpans", "xray:PutSpansForIndexing"} <= actions

    def test_ecr_pull_is_the_asset_repository_only(self, synth_container) -> None:
        synth = synth_container
        actions = {a for s in _policy_statements(synth) for a in _as_list(s["Action"])}
        assert not {a for a in actions if a.startswith("s3:") or a.startswith("xray:PutSpans")}
        pulls = [
            s for s in _policy_statements(synth) if "ecr:BatchGetImage" in _as_list(s["Action"])
        ]
        assert len(pulls) == 1
        assert pulls[0]["Resource"] == (
            f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/"
            f"cdk-hnb659fds-container-assets-{ACCOUNT}-{REGION}"
        )

    def test_no_iam_write_or_admin_actions(self, synth) -> None:
        for stmt in _policy_statements(synth):
            assert stmt["Effect"] == "Allow"
            for action in _as_list(stmt["Action"]):
                assert not action.startswith(("iam:", "sts:", "kms:", "elasticache:")), action
                assert action != "*"


# -------------------------------------------------------------------- outputs
class TestOutputs:
    def test_outputs(self, synth) -> None:
        runtime_id = _logical_id(synth, synth.stack.runtime)
        rg_id, _ = synth.one("AWS::ElastiCache::ReplicationGroup")
        outputs = synth.raw["Outputs"]
        assert outputs["RuntimeArn"]["Value"] == {"Fn::GetAtt": [runtime_id, "AgentRuntimeArn"]}
        assert outputs["RuntimeId"]["Value"] == {"Fn::GetAtt": [runtime_id, "AgentRuntimeId"]}
        assert outputs["ClusterEndpoint"]["Value"] == {
            "Fn::Join": [
                "",
                [
                    {"Fn::GetAtt": [rg_id, "PrimaryEndPoint.Address"]},
                    ":",
                    {"Fn::GetAtt": [rg_id, "PrimaryEndPoint.Port"]},
                ],
            ]
        }
        assert outputs["StackEnvironment"]["Value"] == "dev"

    def test_outputs_follow_env(self, synth_variant) -> None:
        synth_variant.template.has_output("StackEnvironment", {"Value": "prod"})

    def test_template_asserts_are_real(self, synth) -> None:
        # Guard against an assertion helper that silently passes.
        with pytest.raises(Exception, match="Engine"):
            synth.template.has_resource_properties(
                "AWS::ElastiCache::ReplicationGroup", {"Engine": "redis"}
            )
        assert isinstance(synth.template, assertions.Template)
