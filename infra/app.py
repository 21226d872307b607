#!/usr/bin/env python3
"""CDK app entry point.

Two ways to run it:

* ``npx aws-cdk@2 synth|deploy|destroy`` from ``infra/`` (``cdk.json`` says
  ``python3 app.py``; the CLI passes context and the output directory).
* ``python infra/app.py [-c key=value ...] [--outdir DIR]`` without the node
  CLI: loads the ``context`` block of ``infra/cdk.json`` itself and writes the
  cloud assembly to ``$CDK_OUTDIR`` or ``--outdir`` (default ``infra/cdk.out``).
  Works offline, without AWS credentials.

Either way synthesis runs the cdk-nag ``AwsSolutionsChecks`` as a CDK policy
validation plugin, so an unacknowledged finding fails the synth.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

INFRA_DIR = Path(__file__).resolve().parent
if str(INFRA_DIR) not in sys.path:
    sys.path.insert(0, str(INFRA_DIR))

# jsii prints a banner for node releases it no longer supports (the value is a
# list of node major versions to keep quiet about); it is noise for a synth.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "18,20")

import aws_cdk as cdk  # noqa: E402
from cdk_nag import AwsSolutionsChecks  # noqa: E402
from semcache_infra import (  # noqa: E402
    SemanticCacheStack,
    config_from_context,
    load_cdk_json_context,
)
from semcache_infra.config import ConfigError  # noqa: E402


def build_app(
    context: dict[str, Any] | None = None,
    outdir: str | None = None,
    *,
    nag: bool = True,
) -> tuple[cdk.App, SemanticCacheStack]:
    """Create the app and the ``SemanticCacheStack-<env>`` stack (not yet synthesized)."""
    app_kwargs: dict[str, Any] = {}
    if context is not None:
        app_kwargs["context"] = context
    if outdir is not None:
        app_kwargs["outdir"] = outdir
    app = cdk.App(**app_kwargs)
    config = config_from_context(app.node.try_get_context)
    stack = SemanticCacheStack(app, config.stack_name, config=config)
    if nag:
        cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app, stack


def _parse_context_args(pairs: Sequence[str]) -> dict[str, str]:
    result: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise SystemExit(f"-c expects key=value, got {pair!r}")
        result[key] = value
    return result


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return _synth(argv)
    except ConfigError as exc:  # a context value the stack cannot deploy: one line, no trace
        print(f"synth: {exc}", file=sys.stderr)
        return 2


def _synth(argv: Sequence[str] | None) -> int:
    run_by_cdk_cli = any(
        key in os.environ for key in ("CDK_CONTEXT_JSON", "CDK_CONTEXT_OVERFLOW_LOCATION")
    )
    if run_by_cdk_cli:
        # The CLI supplies context (cdk.json + -c flags) and the outdir.
        app, _ = build_app()
        app.synth()
        return 0

    parser = argparse.ArgumentParser(description="Synthesize the stack without the CDK CLI.")
    parser.add_argument("-c", "--context", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument(
        "--outdir", default=os.environ.get("CDK_OUTDIR", str(INFRA_DIR / "cdk.out"))
    )
    args = parser.parse_args(argv)

    context = load_cdk_json_context()
    context.update(_parse_context_args(args.context))
    app, stack = build_app(context=context, outdir=args.outdir)
    assembly = app.synth()
    template = Path(assembly.directory) / stack.template_file
    print(
        json.dumps(
            {
                "stack": stack.stack_name,
                "template": str(template),
                "outdir": assembly.directory,
                "resources": len(json.loads(template.read_text())["Resources"]),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
