"""Tracing for the app: ADOT when deployed, a console exporter locally.

Deployed on AgentCore Runtime, the image starts the app under ``opentelemetry-instrument``
(AWS Distro for OpenTelemetry), which installs the SDK and its exporters before this code
runs: the app then only opens its ``invoke_agent`` span and the cache's spans and metrics
flow to CloudWatch through it. Locally, ``SEMCACHE_OTEL_CONSOLE=1`` installs an SDK that
prints spans and metrics to stdout, unless an SDK is already installed.
"""

from __future__ import annotations

import os
import sys
from typing import IO

from opentelemetry import metrics, trace

AGENT_NAME = "semantic-cache-agent"


def sdk_installed() -> bool:
    """Whether an SDK (ADOT's, or another) already provides the global tracer."""
    return not isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider)


def setup_console(out: IO[str] | None = None, metric_interval_ms: int = 10_000) -> bool:
    """Print spans (as they end) and metrics (every ``metric_interval_ms`` and at exit) to
    ``out``; False when an SDK is already installed (e.g. ADOT's)."""
    if sdk_installed():
        return False
    try:
        import opentelemetry.sdk  # noqa: F401
    except ImportError as exc:
        raise RuntimeError(
            "SEMCACHE_OTEL_CONSOLE=1 needs opentelemetry-sdk: "
            "pip install 'langchain-valkey-semcache[agentcore]'"
        ) from exc
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import (
        ConsoleMetricExporter,
        PeriodicExportingMetricReader,
    )
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SimpleSpanProcessor

    stream = out or sys.stdout
    resource = Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME", AGENT_NAME)})
    tracer_provider = TracerProvider(resource=resource)
    tracer_provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter(out=stream)))
    trace.set_tracer_provider(tracer_provider)
    reader = PeriodicExportingMetricReader(
        ConsoleMetricExporter(out=stream), export_interval_millis=metric_interval_ms
    )
    metrics.set_meter_provider(MeterProvider(resource=resource, metric_readers=[reader]))
    return True


def invoke_attributes(model_id: str) -> dict[str, str]:
    """The GenAI semantic conventions' attributes of the agent span (no user text)."""
    return {
        "gen_ai.operation.name": "invoke_agent",
        "gen_ai.agent.name": AGENT_NAME,
        "gen_ai.request.model": model_id,
    }
