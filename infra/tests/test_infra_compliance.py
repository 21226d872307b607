"""cfn-lint and cdk-nag (AwsSolutions) on the synthesized stack, and the synth entry point."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from cdk_nag import AwsSolutionsChecks
from cfnlint.api import ManualArgs, lint
from infra_helpers import (
    INFRA_DIR,
    PLACEHOLDER_PACKAGE,
    REPO_ROOT,
    context_with_package,
    load_app_module,
)
from semcache_infra import SemanticCacheStack, StackConfig, load_cdk_json_context

# cfn-lint warnings we accept, each for a stated reason.  Anything else fails.
ACCEPTED_CFN_LINT_WARNINGS = {
    # No W3010 (literal AZ names): the subnets are placed by AZ ID (first_deploy.py).
    # CDK adds explicit DependsOn next to GetAtt (custom-resource provider
    # role, runtime execution role): redundant, harmless.
    "W3005",
}


def _lint(template: dict[str, Any]) -> list[Any]:
    return lint(
        json.dumps(template),
        regions=["us-west-2"],
        config=ManualArgs(regions=["us-west-2"]),
    )


# ------------------------------------------------------------------- cfn-lint
def test_cfn_lint_reports_no_errors(template_json) -> None:
    matches = _lint(template_json)
    errors = [m for m in matches if m.rule.id.startswith("E")]
    assert errors == [], "\n".join(str(m) for m in errors)
    unexpected = sorted({m.rule.id for m in matches if m.rule.id not in ACCEPTED_CFN_LINT_WARNINGS})
    assert unexpected == [], "\n".join(str(m) for m in matches if m.rule.id in unexpected)


def test_cfn_lint_catches_a_broken_template(template_json) -> None:
    broken = json.loads(json.dumps(template_json))
    rg = next(
        r for r in broken["Resources"].values() if r["Type"] == "AWS::ElastiCache::ReplicationGroup"
    )
    rg["Properties"]["NumCacheClusters"] = "two"
    rg["Properties"]["NoSuchProperty"] = True
    assert any(m.rule.id.startswith("E") for m in _lint(broken))


# -------------------------------------------------------------------- cdk-nag
def _violations(stack: cdk.Stack) -> list[dict[str, Any]]:
    report = AwsSolutionsChecks().validate_scope(stack)
    return [
        {
            "rule": v.rule_name,
            "severity": v.severity,
            "paths": [r.construct_path for r in v.violating_resources],
        }
        for v in report.violations
    ]


def _acknowledgments(stack: cdk.Stack) -> dict[str, str]:
    """rule id -> reason for every cdk-nag (AwsSolutions) acknowledgment in the tree.

    CDK adds its own acknowledgments for its built-in "CloudFormation Validate"
    rules; those are not ours and are left out.
    """
    acks: dict[str, str] = {}
    for construct in stack.node.find_all():
        for entry in construct.node.metadata:
            if entry.type == cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY and entry.data:
                for key, reason in dict(entry.data).items():
                    rule = key.split("::", 1)[1] if key.lower().startswith("annotation::") else key
                    if rule.startswith("AwsSolutions-"):
                        acks[rule] = reason
    return acks


def test_cdk_nag_aws_solutions_has_no_unacknowledged_findings(synth, synth_container) -> None:
    for stack in (synth.stack, synth_container.stack):
        violations = _violations(stack)
        assert violations == [], json.dumps(violations, indent=2)


@pytest.fixture(scope="module")
def unacknowledged_stack(tmp_path_factory: pytest.TempPathFactory) -> SemanticCacheStack:
    """The same stack without any acknowledgment (construct tree only, not synthesized)."""
    ctx = load_cdk_json_context()
    app = cdk.App(context=ctx, outdir=str(tmp_path_factory.mktemp("cdk-out-noack")))
    config = StackConfig(code_package=PLACEHOLDER_PACKAGE)
    return SemanticCacheStack(
        app, "SemanticCacheStack-dev", config=config, acknowledge_nag_findings=False
    )


def test_cdk_nag_really_runs_and_every_acknowledgment_is_needed(
    synth, unacknowledged_stack
) -> None:
    found = {v["rule"] for v in _violations(unacknowledged_stack)}
    acks = _acknowledgments(synth.stack)
    assert found, "cdk-nag found nothing on the unacknowledged stack: is it running at all?"
    # Every finding is acknowledged in the real stack, and no acknowledgment is stale.
    assert found == set(acks), {"unacknowledged": found - set(acks), "stale": set(acks) - found}


def test_every_acknowledgment_has_a_specific_reason(synth) -> None:
    acks = _acknowledgments(synth.stack)
    assert acks
    for rule, reason in acks.items():
        assert len(reason) >= 60, (rule, reason)
    reasons = list(acks.values())
    assert len(set(reasons)) == len(reasons), "each acknowledgment states its own reason"
    # Bedrock and Secrets Manager are never in a wildcard acknowledgment, but for the one
    # foundation model behind the inference profile, in any region, only through the profile
    # (AWS's documented form; test_infra_stack checks the condition).
    through_profile = (
        "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:bedrock:*::foundation-model/"
        "anthropic.claude-haiku-4-5-20251001-v1:0]"
    )
    for rule in acks:
        if rule in (through_profile, through_profile.replace("<AWS::Partition>", "aws")):
            continue
        assert "bedrock:" not in rule and "secretsmanager" not in rule, rule


def test_app_registers_cdk_nag_so_synth_fails_on_findings(tmp_path: Path) -> None:
    """`build_app` wires AwsSolutionsChecks as a validation plugin: an unacknowledged
    wildcard makes synthesis itself fail."""
    from aws_cdk import aws_iam as iam

    build_app = load_app_module().build_app
    app, stack = build_app(context=context_with_package(), outdir=str(tmp_path))
    stack.execution_role.add_to_policy(
        iam.PolicyStatement(actions=["s3:GetObject"], resources=["*"])
    )
    with pytest.raises(Exception, match=r"(?i)validation"):
        app.synth()


# ---------------------------------------------------------- synth entry point
def test_python_app_synthesizes_offline_without_cdk_cli(tmp_path: Path) -> None:
    """What `make synth` runs: no node CDK CLI, no AWS credentials, nag enforced."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CDK_"))}
    env["AWS_EC2_METADATA_DISABLED"] = "true"
    outdir = tmp_path / "cdk.out"
    args = ["--outdir", str(outdir), "-c", "env=test", "-c", f"codePackage={PLACEHOLDER_PACKAGE}"]
    proc = subprocess.run(
        [sys.executable, str(INFRA_DIR / "app.py"), *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    assert summary["stack"] == "SemanticCacheStack-test"
    template = json.loads(Path(summary["template"]).read_text())
    assert "AWS::BedrockAgentCore::Runtime" in {r["Type"] for r in template["Resources"].values()}
    manifest = json.loads((outdir / "manifest.json").read_text())
    # No context lookups were needed (AZs are pinned in cdk.json).
    assert not manifest.get("missing"), manifest.get("missing")
    # CDK writes the report of every validation plugin that reported; a nag finding fails the
    # synth itself (AwsSolutions then reports "failure"). No report file is a failure here.
    # A plugin with nothing to say writes no entry: since the subnets are placed by AZ ID,
    # CloudFormation Validate has no W3010 (literal AZ name) left to report.
    report_path = outdir / "validation-report.json"
    assert report_path.exists(), "the synth wrote no validation report"
    report = json.loads(report_path.read_text())
    plugins = {p["pluginName"]: p["conclusion"] for p in report["pluginReports"]}
    assert set(plugins.values()) <= {"success"}, plugins
