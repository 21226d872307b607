"""Helpers shared by the infra tests (imported by conftest.py and the test modules).

Synthesis runs fully in-process (``aws_cdk.App`` + ``assertions.Template``),
offline and without AWS credentials: account, region and AZs come from the
``context`` block of ``infra/cdk.json``.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

INFRA_DIR = Path(__file__).resolve().parents[1]
REPO_ROOT = INFRA_DIR.parent
if str(INFRA_DIR) not in sys.path:
    sys.path.insert(0, str(INFRA_DIR))

# Keep jsii quiet about the machine's node release, and make sure caller
# credentials/env never change what the tests synthesize.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "18,20")
for _var in (
    "CDK_DEFAULT_ACCOUNT",
    "CDK_DEFAULT_REGION",
    "CDK_DEPLOY_ACCOUNT",
    "CDK_DEPLOY_REGION",
):
    os.environ.pop(_var, None)

import aws_cdk as cdk  # noqa: E402
from aws_cdk import assertions  # noqa: E402
from semcache_infra import SemanticCacheStack, load_cdk_json_context  # noqa: E402


def placeholder_package(directory: Path | None = None) -> Path:
    """A stand-in for ``make package``'s .zip (the stack only uploads it; tests/package
    builds and runs the real one)."""
    directory = directory or Path(tempfile.mkdtemp(prefix="semcache-infra-"))
    path = directory / "agentcore-arm64.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("main.py", "print('placeholder')\n")
    return path


PLACEHOLDER_PACKAGE = placeholder_package()


def context_with_package(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """cdk.json's context with the placeholder package, plus ``overrides``."""
    context = load_cdk_json_context()
    context["codePackage"] = str(PLACEHOLDER_PACKAGE)
    context.update(overrides or {})
    return context


def load_app_module() -> Any:
    """Import ``infra/app.py`` under a unique module name (``app`` is too generic)."""
    spec = importlib.util.spec_from_file_location("semcache_infra_app", INFRA_DIR / "app.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass
class Synth:
    app: cdk.App
    stack: SemanticCacheStack
    template: assertions.Template
    outdir: Path

    @property
    def raw(self) -> dict[str, Any]:
        return self.template.to_json()

    def resources(self, cfn_type: str) -> dict[str, dict[str, Any]]:
        return {
            logical_id: res
            for logical_id, res in self.raw["Resources"].items()
            if res["Type"] == cfn_type
        }

    def one(self, cfn_type: str) -> tuple[str, dict[str, Any]]:
        found = self.resources(cfn_type)
        assert len(found) == 1, f"expected exactly one {cfn_type}, found {sorted(found)}"
        return next(iter(found.items()))


def synthesize(
    outdir: Path, overrides: dict[str, Any] | None = None, *, nag: bool = False
) -> Synth:
    context = context_with_package(overrides)
    build_app = load_app_module().build_app
    app, stack = build_app(context=context, outdir=str(outdir), nag=nag)
    app.synth()
    return Synth(
        app=app, stack=stack, template=assertions.Template.from_stack(stack), outdir=outdir
    )
