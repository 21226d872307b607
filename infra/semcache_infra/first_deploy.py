"""What a first deploy on a fresh account must get right, in one place.

The stack builds from these facts (so the template is right by construction) and
``infra/preflight.py`` checks the account against the same facts (so ``make preflight``
and the template cannot disagree). Pure: no AWS calls, no CDK imports.

Sources (AWS documentation, read December 2026; not verified against a live account):

* AgentCore Runtime in VPC mode accepts subnets only in some Availability Zone IDs per
  region ("Configure Amazon Bedrock AgentCore Runtime and tools for VPC", section
  "Supported Availability Zones"). AZ *names* map to different IDs in every account.
* A geographic cross-region inference profile needs InvokeModel on the profile and on the
  foundation model in every destination region; AWS's example grants the model in any
  region under a ``bedrock:InferenceProfileArn`` condition ("Geographic cross-Region
  inference", IAM policy requirements).
* ElastiCache vector search is not available on data-tiering (``r6gd``) nodes.
"""

from __future__ import annotations

import re

# AgentCore Runtime's supported AZ IDs for VPC mode, for the regions this stack is known to
# deploy to. Another region needs `-c availabilityZoneIds=<id>,<id>` from AgentCore's table.
AGENTCORE_AZ_IDS: dict[str, tuple[str, ...]] = {
    "us-east-1": ("use1-az1", "use1-az2", "use1-az4"),
    "us-east-2": ("use2-az1", "use2-az2", "use2-az3"),
    "us-west-2": ("usw2-az1", "usw2-az2", "usw2-az3"),
}
VPC_AZ_COUNT = 2
_AZ_ID_RE = re.compile(r"^[a-z]{2,5}[0-9]-az[0-9]+$")

AGENTCORE_VPC_DOC = (
    "https://docs.aws.amazon.com/bedrock-agentcore/latest/devguide/agentcore-vpc.html"
)


def default_availability_zone_ids(region: str) -> tuple[str, ...]:
    """The first two supported AZ IDs of ``region`` (empty when the region is not listed)."""
    return AGENTCORE_AZ_IDS.get(region, ())[:VPC_AZ_COUNT]


def availability_zone_ids_problem(region: str, ids: tuple[str, ...]) -> str | None:
    """Why ``ids`` (the ``availabilityZoneIds`` context, empty for the default) cannot carry
    the VPC in ``region``, or None."""
    supported = AGENTCORE_AZ_IDS.get(region)
    if not ids:
        if supported is None:
            return (
                f"no AgentCore AZ IDs known for {region}: pass -c availabilityZoneIds=<id>,<id> "
                f"with two AZ IDs AgentCore supports there ({AGENTCORE_VPC_DOC})"
            )
        return None
    if len(ids) != VPC_AZ_COUNT or len(set(ids)) != VPC_AZ_COUNT:
        return f"availabilityZoneIds must name {VPC_AZ_COUNT} different AZ IDs, got {list(ids)}"
    for az_id in ids:
        if not _AZ_ID_RE.match(az_id):
            return f"availabilityZoneIds: {az_id!r} is not an AZ ID (like usw2-az1)"
    if supported is not None:
        unsupported = [az_id for az_id in ids if az_id not in supported]
        if unsupported:
            return (
                f"availabilityZoneIds: AgentCore Runtime does not support {unsupported} in "
                f"{region} (supported: {', '.join(supported)})"
            )
    return None


def _node_family(node_type: str) -> str:
    parts = node_type.split(".")
    return parts[1] if len(parts) == 3 else ""


def vector_search_problem(node_type: str) -> str | None:
    """Why ElastiCache cannot run vector search on ``node_type`` for this stack, or None."""
    family = _node_family(node_type)
    if family.endswith("gd"):
        return (
            f"cacheNodeType {node_type} is a data-tiering node: ElastiCache vector search is "
            "not available on data-tiering nodes; use a memory-optimized (r7g, r6g) or "
            "general-purpose (m7g, m6g) type"
        )
    if family == "t2":
        return (
            f"cacheNodeType {node_type} is previous generation: ElastiCache creates no new "
            "T2 clusters; use cache.t4g.medium or larger for dev, cache.r7g.large for production"
        )
    return None


def burstable_note(node_type: str) -> str | None:
    """A warning for burstable (T-family) nodes, which run search but are small, or None."""
    if _node_family(node_type).startswith("t"):
        return (
            f"cacheNodeType {node_type} is a burstable node: the vector index lives in memory "
            "beside the reserved memory, so keep it to dev data sets (not verified against "
            "AWS: check the index's memory with FT.INFO after loading)"
        )
    return None


def llm_profile_arn(partition: str, region: str, account: str, profile_id: str) -> str:
    return f"arn:{partition}:bedrock:{region}:{account}:inference-profile/{profile_id}"


def destination_model_arn(partition: str, foundation_model_id: str) -> str:
    """The foundation model in every region: what the role may invoke through the profile."""
    return f"arn:{partition}:bedrock:*::foundation-model/{foundation_model_id}"
