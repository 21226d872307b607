"""Session fixtures: the stack is synthesized once per test session.

Synthesis runs fully in-process (``aws_cdk.App`` + ``assertions.Template``),
offline and without AWS credentials: account, region and AZs come from the
``context`` block of ``infra/cdk.json``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from infra_helpers import Synth, synthesize


@pytest.fixture(scope="session")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    """The default stack (``SemanticCacheStack-dev``, the code package) as ``make synth``
    builds it."""
    return synthesize(tmp_path_factory.mktemp("cdk-out-default"))


@pytest.fixture(scope="session")
def synth_variant(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    """Every context parameter overridden, as strings (as ``-c key=value`` passes them)."""
    return synthesize(
        tmp_path_factory.mktemp("cdk-out-variant"),
        {
            "env": "prod",
            "natGateways": "2",
            "cacheNodeType": "cache.r7g.xlarge",
            "cacheReplicas": "0",
            "similarityThreshold": "0.85",
            "cacheJudge": "true",
            "valkeyVersion": "8.2",
            "vectorDims": "512",
            "availabilityZoneIds": "usw2-az3,usw2-az1",
        },
    )


@pytest.fixture(scope="session")
def synth_container(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    """The container path: ``-c artifact=container`` (the ARM64 image from infra/Dockerfile)."""
    return synthesize(tmp_path_factory.mktemp("cdk-out-container"), {"artifact": "container"})


@pytest.fixture(scope="session")
def template_json(synth: Synth) -> dict[str, Any]:
    path = synth.outdir / synth.stack.template_file
    return json.loads(path.read_text(encoding="utf-8"))
