"""SemanticCacheStack: VPC + ElastiCache for Valkey 9.0 (or 8.2) + AgentCore Runtime.

Layout
------
* VPC over two AZs: public subnets (NAT gateway only) and private subnets with
  egress.  Interface endpoints for bedrock-runtime, CloudWatch Logs and Secrets
  Manager (plus ECR api and dkr for the container artifact), and an S3 gateway
  endpoint (the code package and ECR layers live in S3), so the agent's AWS
  traffic stays on the AWS network.
* ElastiCache for Valkey 9.0 (``-c valkeyVersion=8.2`` for 8.2), node-based
  (Serverless has no vector search):
  a cluster-mode-disabled replication group (one shard, primary + replicas),
  TLS required, encrypted at rest, AUTH token generated in Secrets Manager and
  passed via a CloudFormation dynamic reference (never in the template).
* Bedrock AgentCore Runtime (L2 ``aws_bedrockagentcore.Runtime``) in VPC mode,
  running either the direct-code package of ``make package`` (context
  ``artifact=code``, the default: a .zip uploaded as a CDK file asset, CPython 3.13,
  started as ``opentelemetry-instrument main.py``) or the ARM64 image built from
  ``infra/Dockerfile`` (``artifact=container``).
* A least-privilege execution role owned by this stack.  The L2 construct
  would add its own, broader default statements (e.g. every runtime's log
  groups); we hand it ``role.without_policy_updates()`` so that the policy
  below is the complete and only policy of the role.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aws_cdk as cdk
from agentcore_package import ADOT_ENVIRONMENT, ENTRYPOINT, PYTHON_VERSION
from aws_cdk import Validations
from aws_cdk import aws_bedrockagentcore as agentcore
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_elasticache as elasticache
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from .config import (
    EMBEDDING_MODEL_ID,
    LLM_FOUNDATION_MODEL_ID,
    LLM_MODEL_ID,
    REPO_ROOT,
    VALKEY_PORT,
    ConfigError,
    StackConfig,
    TenancyConfig,
)
from .first_deploy import (
    burstable_note,
    destination_model_arn,
    llm_profile_arn,
    vector_search_problem,
)

# The Docker build context is the repository root.  Docker-ignore semantics
# (last matching pattern wins): exclude everything, re-include only what
# infra/Dockerfile copies, then exclude the usual heavy or irrelevant paths
# again, so that e.g. a `.venv` (gigabytes), `.git`, `cdk.out`, tests, bench
# and caches can never be staged into cdk.out or sent to the Docker daemon.
DOCKER_ASSET_INCLUDE: tuple[str, ...] = (
    "pyproject.toml",
    "README.md",
    "langchain_valkey_semcache",
    "agentcore_app",
    "infra/Dockerfile",
)
DOCKER_ASSET_EXCLUDE: tuple[str, ...] = (
    "*",
    *(f"!{path}" for path in DOCKER_ASSET_INCLUDE),
    ".venv",
    "**/.venv",
    "venv",
    ".git",
    "**/.git",
    ".github",
    ".ci",
    "cdk.out",
    "infra/cdk.out",
    "**/cdk.out",
    "tests",
    "**/tests",
    "infra/tests",
    "bench",
    "node_modules",
    "**/node_modules",
    "**/__pycache__",
    "**/*.pyc",
    "**/*.pyo",
    "**/.pytest_cache",
    "**/.mypy_cache",
    "**/.ruff_cache",
    "**/*.egg-info",
    "**/.DS_Store",
    "**/.env",
)

# AWS-managed namespace the AgentCore runtime publishes its metrics to.
AGENTCORE_METRICS_NAMESPACE = "bedrock-agentcore"


class SemanticCacheStack(cdk.Stack):
    """VPC, Valkey replication group, AUTH secret and the AgentCore runtime."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StackConfig,
        docker_context: Path = REPO_ROOT,
        acknowledge_nag_findings: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            env=cdk.Environment(account=config.account, region=config.region),
            description=(
                "LangChain semantic cache on ElastiCache for Valkey with a LangGraph "
                f"agent on Bedrock AgentCore Runtime ({config.env_name})"
            ),
            **kwargs,
        )
        self.config = config
        self._acknowledge = acknowledge_nag_findings
        cdk.Tags.of(self).add("project", "langchain-valkey-semcache")
        cdk.Tags.of(self).add("environment", config.env_name)

        self._build_network()
        self._apply_first_deploy_facts()
        self._build_cache()
        self._build_runtime(docker_context)
        self._build_outputs()
        if acknowledge_nag_findings:
            self._acknowledge_stack_level_findings()

    # ------------------------------------------------------------------ network
    def _build_network(self) -> None:
        cfg = self.config
        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            ip_addresses=ec2.IpAddresses.cidr("10.40.0.0/16"),
            max_azs=2,
            nat_gateways=cfg.nat_gateways,
            subnet_configuration=[
                ec2.SubnetConfiguration(
                    name="Public", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=24
                ),
                ec2.SubnetConfiguration(
                    name="Private",
                    subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS,
                    cidr_mask=22,
                ),
            ],
        )
        self.private_subnets = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS)

        flow_log_group = logs.LogGroup(
            self,
            "VpcFlowLogGroup",
            retention=logs.RetentionDays.ONE_MONTH,
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        self.vpc.add_flow_log(
            "FlowLog",
            destination=ec2.FlowLogDestination.to_cloud_watch_logs(flow_log_group),
            traffic_type=ec2.FlowLogTrafficType.REJECT,
        )

        # Security groups.  The runtime's ENIs get their own group; the cache
        # and the interface endpoints only admit traffic from it.
        self.runtime_sg = ec2.SecurityGroup(
            self,
            "RuntimeSecurityGroup",
            vpc=self.vpc,
            description="AgentCore Runtime ENIs (semantic cache agent)",
            allow_all_outbound=True,
        )
        self.cache_sg = ec2.SecurityGroup(
            self,
            "CacheSecurityGroup",
            vpc=self.vpc,
            description="ElastiCache for Valkey: 6379 from the AgentCore runtime only",
            allow_all_outbound=False,
        )
        self.cache_sg.add_ingress_rule(
            self.runtime_sg,
            ec2.Port.tcp(VALKEY_PORT),
            "Valkey (TLS) from the AgentCore runtime",
        )
        self.endpoint_sg = ec2.SecurityGroup(
            self,
            "EndpointSecurityGroup",
            vpc=self.vpc,
            description="Interface VPC endpoints: HTTPS from the AgentCore runtime only",
            allow_all_outbound=False,
        )
        self.endpoint_sg.add_ingress_rule(
            self.runtime_sg, ec2.Port.tcp(443), "HTTPS from the AgentCore runtime"
        )

        self.vpc.add_gateway_endpoint(
            "S3GatewayEndpoint",
            service=ec2.GatewayVpcEndpointAwsService.S3,
            subnets=[self.private_subnets],
        )
        interface_services = {
            "BedrockRuntimeEndpoint": ec2.InterfaceVpcEndpointAwsService.BEDROCK_RUNTIME,
            "CloudWatchLogsEndpoint": ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
            "SecretsManagerEndpoint": ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
        }
        if cfg.artifact == "container":  # the image pull; a code package needs neither
            interface_services["EcrApiEndpoint"] = ec2.InterfaceVpcEndpointAwsService.ECR
            interface_services["EcrDockerEndpoint"] = ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER
        self.interface_endpoints = {
            name: self.vpc.add_interface_endpoint(
                name,
                service=service,
                subnets=self.private_subnets,
                private_dns_enabled=True,
                security_groups=[self.endpoint_sg],
                open=False,
            )
            for name, service in interface_services.items()
        }

    def _apply_first_deploy_facts(self) -> None:
        """What a fresh account would otherwise reject at deploy or at run time
        (first_deploy.py): a node type without vector search stops the synth, and every
        subnet is placed by AZ *ID*, from AgentCore's supported list, not by AZ name (names
        map to different IDs in each account)."""
        cfg = self.config
        problem = vector_search_problem(cfg.cache_node_type)
        if problem:
            raise ConfigError(problem)
        note = burstable_note(cfg.cache_node_type)
        if note:
            cdk.Annotations.of(self).add_warning_v2("semcache:BurstableCacheNode", note)
        for subnets in (self.vpc.public_subnets, self.vpc.private_subnets):
            for subnet, az_id in zip(subnets, cfg.az_ids, strict=True):
                cfn_subnet = subnet.node.default_child
                assert isinstance(cfn_subnet, ec2.CfnSubnet)
                cfn_subnet.add_property_deletion_override("AvailabilityZone")
                cfn_subnet.add_property_override("AvailabilityZoneId", az_id)

    # -------------------------------------------------------------------- cache
    def _build_cache(self) -> None:
        cfg = self.config
        # Valkey AUTH tokens: 16-128 printable characters, no spaces and none
        # of / " @ -> alphanumerics only.
        self.auth_secret = secretsmanager.Secret(
            self,
            "ValkeyAuthToken",
            description=f"AUTH token of the semantic cache Valkey cluster ({cfg.env_name})",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                password_length=64,
                exclude_punctuation=True,
                include_space=False,
                require_each_included_type=True,
            ),
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )

        private_subnet_ids = self.vpc.select_subnets(
            subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS
        ).subnet_ids
        self.cache_subnet_group = elasticache.CfnSubnetGroup(
            self,
            "CacheSubnetGroup",
            description=f"Private subnets of the semantic cache ({cfg.env_name})",
            subnet_ids=private_subnet_ids,
        )

        self.replication_group = elasticache.CfnReplicationGroup(
            self,
            "ValkeyReplicationGroup",
            replication_group_description=(
                f"Semantic cache: Valkey {cfg.valkey_version} vector search ({cfg.env_name})"
            ),
            engine="valkey",
            engine_version=cfg.valkey_version,
            cache_node_type=cfg.cache_node_type,
            # Cluster mode disabled: one shard, a primary and `cache_replicas`
            # replicas; the app connects to the primary endpoint.
            cluster_mode="disabled",
            num_cache_clusters=1 + cfg.cache_replicas,
            automatic_failover_enabled=cfg.multi_az,
            multi_az_enabled=cfg.multi_az,
            port=VALKEY_PORT,
            transit_encryption_enabled=True,
            transit_encryption_mode="required",
            at_rest_encryption_enabled=True,
            # CloudFormation resolves this `{{resolve:secretsmanager:...}}`
            # dynamic reference at deploy time; the token never appears in the
            # template.
            auth_token=self.auth_secret.secret_value.unsafe_unwrap(),
            cache_subnet_group_name=self.cache_subnet_group.ref,
            security_group_ids=[self.cache_sg.security_group_id],
            snapshot_retention_limit=1,
            auto_minor_version_upgrade=True,
        )

        self.valkey_host = self.replication_group.attr_primary_end_point_address
        self.valkey_port = self.replication_group.attr_primary_end_point_port

    # ------------------------------------------------------------------ runtime
    def _bedrock_statements(self) -> list[iam.PolicyStatement]:
        """Titan V2 in this region, and Haiku in AWS's documented form for a geographic
        cross-region profile: the profile, plus the foundation model in *every* region but
        only when the call comes through that profile (the profile may route to any of its
        destination regions; `make preflight` lists them)."""
        region, account, partition = self.region, self.account, self.partition
        actions = ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"]
        profile_arn = llm_profile_arn(partition, region, account, LLM_MODEL_ID)
        return [
            iam.PolicyStatement(
                sid="BedrockInvokeModels",
                actions=actions,
                resources=[
                    f"arn:{partition}:bedrock:{region}::foundation-model/{EMBEDDING_MODEL_ID}",
                    profile_arn,
                ],
            ),
            iam.PolicyStatement(
                sid="BedrockInvokeThroughProfile",
                actions=actions,
                resources=[destination_model_arn(partition, LLM_FOUNDATION_MODEL_ID)],
                conditions={"StringLike": {"bedrock:InferenceProfileArn": profile_arn}},
            ),
        ]

    def _build_runtime(self, docker_context: Path) -> None:
        cfg = self.config
        region, account, partition = self.region, self.account, self.partition
        runtime_name = cfg.runtime_name
        log_group_prefix = f"/aws/bedrock-agentcore/runtimes/{runtime_name}-"
        log_groups_arn = f"arn:{partition}:logs:{region}:{account}:log-group:{log_group_prefix}*"
        log_streams_arn = f"{log_groups_arn}:log-stream:*"
        all_log_groups_arn = f"arn:{partition}:logs:{region}:{account}:log-group:*"
        identity_directory_arn = (
            f"arn:{partition}:bedrock-agentcore:{region}:{account}"
            ":workload-identity-directory/default"
        )
        workload_identity_arn = f"{identity_directory_arn}/workload-identity/{runtime_name}-*"

        artifact, artifact_statements = self._artifact(docker_context)

        self.execution_role = iam.Role(
            self,
            "RuntimeExecutionRole",
            description=f"Execution role of the semantic cache AgentCore runtime ({cfg.env_name})",
            assumed_by=iam.ServicePrincipal(
                "bedrock-agentcore.amazonaws.com",
                conditions={
                    "StringEquals": {"aws:SourceAccount": account},
                    "ArnLike": {
                        "aws:SourceArn": (
                            f"arn:{partition}:bedrock-agentcore:{region}:{account}:runtime/{runtime_name}*"
                        )
                    },
                },
            ),
            max_session_duration=cdk.Duration.hours(8),
        )

        statements = [
            *self._bedrock_statements(),
            iam.PolicyStatement(
                sid="ReadValkeyAuthToken",
                actions=["secretsmanager:GetSecretValue"],
                resources=[self.auth_secret.secret_arn],
            ),
            *artifact_statements,
            iam.PolicyStatement(
                sid="RuntimeLogGroups",
                actions=["logs:CreateLogGroup", "logs:DescribeLogStreams"],
                resources=[log_groups_arn],
            ),
            iam.PolicyStatement(
                sid="RuntimeLogStreams",
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[log_streams_arn],
            ),
            iam.PolicyStatement(
                sid="DescribeLogGroups",
                actions=["logs:DescribeLogGroups"],
                resources=[all_log_groups_arn],
            ),
            iam.PolicyStatement(
                sid="XRayTracing",
                actions=[
                    "xray:PutTraceSegments",
                    "xray:PutTelemetryRecords",
                    "xray:GetSamplingRules",
                    "xray:GetSamplingTargets",
                    # ADOT in the code package sends spans to X-Ray's OTLP endpoint.
                    *(
                        ["xray:PutSpans", "xray:PutSpansForIndexing"]
                        if cfg.artifact == "code"
                        else []
                    ),
                ],
                resources=["*"],
            ),
            iam.PolicyStatement(
                sid="CloudWatchMetrics",
                actions=["cloudwatch:PutMetricData"],
                resources=["*"],
                conditions={"StringEquals": {"cloudwatch:namespace": AGENTCORE_METRICS_NAMESPACE}},
            ),
            iam.PolicyStatement(
                sid="WorkloadAccessToken",
                actions=[
                    "bedrock-agentcore:GetWorkloadAccessToken",
                    "bedrock-agentcore:GetWorkloadAccessTokenForJWT",
                    "bedrock-agentcore:GetWorkloadAccessTokenForUserId",
                ],
                resources=[identity_directory_arn, workload_identity_arn],
            ),
        ]
        self.execution_policy = iam.Policy(
            self,
            "RuntimeExecutionPolicy",
            statements=statements,
            roles=[self.execution_role],
        )

        self.runtime = agentcore.Runtime(
            self,
            "AgentRuntime",
            runtime_name=runtime_name,
            description=f"LangGraph agent with a Valkey semantic cache ({cfg.env_name})",
            agent_runtime_artifact=artifact,
            # The stack owns the complete policy above; stop the L2 from
            # attaching its broader defaults to the role.
            execution_role=self.execution_role.without_policy_updates(),
            network_configuration=agentcore.RuntimeNetworkConfiguration.using_vpc(
                self,
                vpc=self.vpc,
                vpc_subnets=self.private_subnets,
                security_groups=[self.runtime_sg],
            ),
            protocol_configuration=agentcore.ProtocolType.HTTP,
            **tenancy_runtime_props(cfg.tenancy),
            # The documented defaults, made explicit.
            lifecycle_configuration=agentcore.LifecycleConfiguration(
                idle_runtime_session_timeout=cdk.Duration.minutes(15),
                max_lifetime=cdk.Duration.hours(8),
            ),
            environment_variables={
                "VALKEY_HOST": self.valkey_host,
                "VALKEY_PORT": str(VALKEY_PORT),
                "VALKEY_SSL": "true",
                "VALKEY_AUTH_SECRET_ARN": self.auth_secret.secret_arn,
                "EMBEDDING_MODEL_ID": EMBEDDING_MODEL_ID,
                "LLM_MODEL_ID": LLM_MODEL_ID,
                "SIMILARITY_THRESHOLD": _format_threshold(cfg.similarity_threshold),
                "CACHE_JUDGE": "true" if cfg.cache_judge else "false",
                "AWS_REGION": region,
                "VECTOR_DIMS": str(cfg.vector_dims),
                **(ADOT_ENVIRONMENT if cfg.artifact == "code" else {}),
                **tenancy_environment(cfg.tenancy),
            },
        )
        # AgentCore validates the role (ECR pull etc.) when the runtime is
        # created: the policy must exist first.  The immutable role wrapper
        # hides it from the L2's own dependency, so add it explicitly.  The
        # endpoints (ECR image pull, Secrets Manager, Logs) must be up before
        # the agent starts too; the cache already is (VALKEY_HOST is a GetAtt).
        cfn_runtime = self.runtime.node.default_child
        assert isinstance(cfn_runtime, cdk.CfnResource)
        cfn_runtime.node.add_dependency(self.execution_policy)
        for endpoint in self.interface_endpoints.values():
            cfn_runtime.node.add_dependency(endpoint)

        if self._acknowledge:
            Validations.of(self.execution_policy).acknowledge(
                cdk.Acknowledgment(
                    id="AwsSolutions-IAM5[Resource::*]",
                    reason=(
                        "Only for actions that have no resource-level permissions, as in the "
                        "AgentCore runtime execution role documentation: "
                        "ecr:GetAuthorizationToken (container artifact), the X-Ray "
                        "PutTraceSegments/PutTelemetryRecords/GetSampling* actions and, for "
                        "ADOT's OTLP spans from the code package, PutSpans/PutSpansForIndexing, "
                        "and "
                        "cloudwatch:PutMetricData (narrowed by a cloudwatch:namespace = "
                        "bedrock-agentcore condition). Bedrock, Secrets Manager, the code "
                        "package object, ECR image pull and Logs use explicit resource ARNs."
                    ),
                ),
                cdk.Acknowledgment(
                    id=f"AwsSolutions-IAM5[Resource::{log_groups_arn}]",
                    reason=(
                        "AgentCore names the runtime's log groups "
                        f"{log_group_prefix}<runtime-id-suffix>-<endpoint>; the suffix is "
                        "generated at creation, so the ARN is scoped to this runtime's "
                        "name prefix (not every runtime in the account)."
                    ),
                ),
                cdk.Acknowledgment(
                    id=f"AwsSolutions-IAM5[Resource::{log_streams_arn}]",
                    reason=(
                        "Log streams are created by the runtime per session with generated "
                        "names, inside this runtime's own log groups only."
                    ),
                ),
                cdk.Acknowledgment(
                    id=f"AwsSolutions-IAM5[Resource::{all_log_groups_arn}]",
                    reason=(
                        "logs:DescribeLogGroups is a list operation that only accepts the "
                        "account/region log-group wildcard; it grants no read or write of "
                        "log data. Required by the documented AgentCore execution role."
                    ),
                ),
                cdk.Acknowledgment(
                    id=(
                        "AwsSolutions-IAM5[Resource::"
                        f"{destination_model_arn(partition, LLM_FOUNDATION_MODEL_ID)}]"
                    ),
                    reason=(
                        "AWS's documented form for a geographic cross-region inference "
                        "profile: the one foundation model in any region the profile routes "
                        "to, only under a bedrock:InferenceProfileArn condition naming this "
                        "stack's profile, so it cannot be invoked directly."
                    ),
                ),
                cdk.Acknowledgment(
                    id=f"AwsSolutions-IAM5[Resource::{workload_identity_arn}]",
                    reason=(
                        "AgentCore creates the runtime's workload identity with a generated "
                        "suffix after the runtime name; scoped to this runtime's prefix."
                    ),
                ),
            )

    def _artifact(
        self, docker_context: Path
    ) -> tuple[agentcore.AgentRuntimeArtifact, list[iam.PolicyStatement]]:
        """What the runtime runs, and what its role needs to fetch it."""
        self.image_asset: ecr_assets.DockerImageAsset | None = None
        self.code_asset: s3_assets.Asset | None = None
        if self.config.artifact == "container":
            self.image_asset = agent_image_asset(self, "AgentImage", docker_context)
            repository = self.image_asset.repository
            return agentcore.AgentRuntimeArtifact.from_ecr_repository(
                repository, self.image_asset.image_tag
            ), [
                iam.PolicyStatement(
                    sid="EcrPullAgentImage",
                    actions=["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                    resources=[repository.repository_arn],
                ),
                iam.PolicyStatement(
                    sid="EcrAuthToken", actions=["ecr:GetAuthorizationToken"], resources=["*"]
                ),
            ]
        self.code_asset = agent_code_asset(self, "AgentCode", self.config.code_package)
        location = s3.Location(
            bucket_name=self.code_asset.s3_bucket_name, object_key=self.code_asset.s3_object_key
        )
        runtime = getattr(agentcore.AgentCoreRuntime, "PYTHON_" + PYTHON_VERSION.replace(".", "_"))
        return agentcore.AgentRuntimeArtifact.from_s3(location, runtime, list(ENTRYPOINT)), [
            iam.PolicyStatement(
                sid="ReadAgentCodePackage",
                actions=["s3:GetObject"],
                resources=[self.code_asset.bucket.arn_for_objects(self.code_asset.s3_object_key)],
            )
        ]

    # ------------------------------------------------------------------ outputs
    def _build_outputs(self) -> None:
        cdk.CfnOutput(
            self,
            "RuntimeArn",
            value=self.runtime.agent_runtime_arn,
            description="AgentCore Runtime ARN (python -m agentcore_app.invoke ... --arn <this>)",
        )
        cdk.CfnOutput(
            self,
            "RuntimeId",
            value=self.runtime.agent_runtime_id,
            description="AgentCore Runtime id",
        )
        cdk.CfnOutput(
            self,
            "ClusterEndpoint",
            value=f"{self.valkey_host}:{self.valkey_port}",
            description="Valkey primary endpoint (host:port): TLS + AUTH, runtime SG only",
        )
        cdk.CfnOutput(
            self,
            "StackEnvironment",
            value=self.config.env_name,
            description="Environment name (context key env)",
        )

    # ------------------------------------------------------- nag acknowledgments
    def _acknowledge_stack_level_findings(self) -> None:
        Validations.of(self.auth_secret).acknowledge(
            cdk.Acknowledgment(
                id="AwsSolutions-SMG4",
                reason=(
                    "Secrets Manager has no managed rotation for ElastiCache AUTH tokens: a "
                    "rotation is a ModifyReplicationGroup ROTATE/SET sequence with a client "
                    "restart in between. It is a documented manual runbook (infra/README.md); "
                    "the agent reads the token from Secrets Manager at start."
                ),
            ),
        )


def agent_image_asset(
    scope: Construct, construct_id: str, docker_context: Path
) -> ecr_assets.DockerImageAsset:
    """The agent's ARM64 image, built from ``infra/Dockerfile`` with the repo root as context."""
    return ecr_assets.DockerImageAsset(
        scope,
        construct_id,
        directory=str(docker_context),
        file="infra/Dockerfile",
        platform=ecr_assets.Platform.LINUX_ARM64,
        exclude=list(DOCKER_ASSET_EXCLUDE),
        ignore_mode=cdk.IgnoreMode.DOCKER,
    )


def agent_code_asset(scope: Construct, construct_id: str, package: Path) -> s3_assets.Asset:
    """The direct-code .zip of ``make package``, uploaded as it is (a file asset keeps the
    POSIX modes the package was built with)."""
    if not package.is_file():
        raise ConfigError(
            f"no AgentCore code package at {package}: run `make package` first "
            "(or deploy the container image with -c artifact=container)"
        )
    return s3_assets.Asset(scope, construct_id, path=str(package))


def tenancy_runtime_props(tenancy: TenancyConfig) -> dict[str, Any]:
    """The runtime's inbound JWT authorizer and the header allowlist that forwards the
    validated token to the app (docs/tenancy.md); none: IAM (SigV4) invocation only."""
    if tenancy.jwt_discovery_url is None:
        return {}
    return {
        "authorizer_configuration": agentcore.RuntimeAuthorizerConfiguration.using_jwt(
            tenancy.jwt_discovery_url,
            list(tenancy.jwt_allowed_clients) or None,
            list(tenancy.jwt_allowed_audiences) or None,
        ),
        "request_header_configuration": agentcore.RequestHeaderConfiguration(
            allowlisted_headers=["Authorization"]
        ),
    }


def tenancy_environment(tenancy: TenancyConfig) -> dict[str, str]:
    """``TENANT_SOURCE`` (and ``CACHE_SCOPE``) as the app reads them."""
    scope = {"CACHE_SCOPE": tenancy.cache_scope} if tenancy.cache_scope != "tenant" else {}
    return {"TENANT_SOURCE": tenancy.tenant_source, **scope}


def _format_threshold(value: float) -> str:
    text = f"{value:.6f}".rstrip("0")
    return text + "0" if text.endswith(".") else text
