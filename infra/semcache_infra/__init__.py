"""CDK app for langchain-valkey-semcache: VPC, ElastiCache for Valkey, AgentCore Runtime."""

from .config import StackConfig, config_from_context, load_cdk_json_context
from .stack import (
    DOCKER_ASSET_EXCLUDE,
    DOCKER_ASSET_INCLUDE,
    SemanticCacheStack,
    agent_image_asset,
)

__all__ = [
    "DOCKER_ASSET_EXCLUDE",
    "DOCKER_ASSET_INCLUDE",
    "SemanticCacheStack",
    "StackConfig",
    "agent_image_asset",
    "config_from_context",
    "load_cdk_json_context",
]
