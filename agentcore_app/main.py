"""The AgentCore Runtime entrypoint: ``{"prompt": ...}`` in, answer + cache facts out."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from bedrock_agentcore.runtime import BedrockAgentCoreApp
from langchain_core.embeddings import Embeddings
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessageChunk, HumanMessage
from opentelemetry import trace
from starlette.middleware import Middleware
from starlette.responses import JSONResponse

from langchain_valkey_semcache import names

from .agent import build_graph, make_cache, make_embeddings, make_model, make_verifier
from .errors import JsonBody, error_response
from .identity import MAX_TENANT_CHARS, Refused, request_headers
from .jwks import TokenVerifier
from .settings import Settings
from .telemetry import AGENT_NAME, invoke_attributes, setup_console

logger = logging.getLogger("agentcore_app")


class BadRequest(ValueError):
    """The payload is not a valid request; the message says what to send."""


@dataclass(frozen=True)
class Request:
    prompt: str
    min_similarity: float | None
    tenant: str | None
    stream: bool


def parse_request(payload: Any, max_prompt_chars: int) -> Request:
    """Validate ``{"prompt": str, "min_similarity"?: float, "tenant"?: str, "stream"?: bool}``."""
    if not isinstance(payload, dict):
        raise BadRequest('the body must be a JSON object like {"prompt": "..."}')
    prompt = payload.get("prompt")
    if not isinstance(prompt, str):
        raise BadRequest('"prompt" is required and must be a string')
    if not prompt.strip():
        raise BadRequest('"prompt" must not be empty')
    if len(prompt) > max_prompt_chars:
        raise BadRequest(f'"prompt" has {len(prompt)} characters; the limit is {max_prompt_chars}')
    threshold = payload.get("min_similarity")
    if threshold is not None and (
        isinstance(threshold, bool)
        or not isinstance(threshold, (int, float))
        or not math.isfinite(threshold)
        or not 0.0 <= threshold <= 1.0
    ):
        raise BadRequest('"min_similarity" must be a cosine similarity between 0 and 1')
    tenant = payload.get("tenant")
    if tenant is not None and (
        not isinstance(tenant, str) or not 0 < len(tenant) <= MAX_TENANT_CHARS
    ):
        raise BadRequest(f'"tenant" must be a string of 1-{MAX_TENANT_CHARS} characters')
    stream = payload.get("stream", False)
    if not isinstance(stream, bool):
        raise BadRequest('"stream" must be true or false')
    return Request(prompt, None if threshold is None else float(threshold), tenant, stream)


def _error(status: int, kind: str, message: str) -> JSONResponse:
    return error_response(status, kind, message)


def response_body(state: dict[str, Any], model_id: str, total_ms: float) -> dict[str, Any]:
    """The seed's response shape, from the graph's final state."""
    t = state.get("cache_timings") or {}
    hit = bool(state.get("cache_hit"))
    keys = list(names.TIMING_KEYS)
    keys += [] if hit else ["agent_invocation", "cache_store"]
    timing = {k: round(float(t.get(k, 0.0)), 1) for k in keys}
    timing["total"] = round(total_ms, 1)
    body: dict[str, Any] = {"response": state["messages"][-1].text, "cache_hit": hit}
    if hit:
        body["similarity_score"] = round(float(state.get("similarity") or 0.0), 4)
    else:
        body["model_id"] = model_id
        if state.get("similarity") is not None:
            body["nearest_similarity"] = round(float(state["similarity"]), 4)
    body["timing_ms"] = timing
    return body


def create_app(
    settings: Settings,
    *,
    embeddings: Embeddings | None = None,
    model: BaseChatModel | None = None,
    judge_model: BaseChatModel | None = None,
) -> BedrockAgentCoreApp:
    """Build the cache, the model and the graph once; serve them. ``judge_model`` replaces
    the Bedrock judge of ``CACHE_JUDGE=true`` (tests). Each request is an ``invoke_agent``
    span; the cache's spans nest under it."""
    if settings.otel_console:
        setup_console()
    tracer = trace.get_tracer("agentcore_app")
    span_name = f"invoke_agent {AGENT_NAME}"
    verifier = make_verifier(settings, judge_model)
    cache = make_cache(settings, embeddings or make_embeddings(settings), verifier)
    graph = build_graph(model or make_model(settings), cache, settings.llm_model_id)
    app = BedrockAgentCoreApp(middleware=[Middleware(JsonBody)])
    policy = settings.policy
    discovery = settings.jwt_verify_discovery_url
    tokens = TokenVerifier(discovery) if discovery else None
    app.state.cache = cache  # for health checks and tests
    app.state.graph = graph

    def run_config(req: Request) -> dict[str, Any]:
        return {
            "configurable": {
                "cache_namespace": req.tenant,
                "cache_min_similarity": req.min_similarity,
            }
        }

    async def stream(req: Request, started: float) -> AsyncIterator[dict[str, Any]]:
        final: dict[str, Any] = {}
        sent = False
        span = tracer.start_span(span_name, attributes=invoke_attributes(settings.llm_model_id))
        try:
            with trace.use_span(span, end_on_exit=True, record_exception=False):
                async for namespace, mode, data in graph.astream(
                    {"messages": [HumanMessage(req.prompt)]},
                    run_config(req),
                    stream_mode=["messages", "values"],
                    subgraphs=True,
                ):
                    if mode == "values":
                        if not namespace:  # the outer graph's state, not the agent's
                            final = data
                    elif isinstance(data[0], AIMessageChunk) and data[0].text:
                        sent = True
                        yield {"delta": data[0].text}
                span.set_attribute(names.HIT, bool(final.get("cache_hit")))
        except Exception as exc:
            logger.exception("agent failed")
            span.set_attribute(names.ERROR_TYPE, type(exc).__name__)
            span.set_status(trace.StatusCode.ERROR, type(exc).__name__)
            yield {"error": {"type": "agent_error", "message": "the model call failed"}}
            return
        body = response_body(final, settings.llm_model_id, (time.perf_counter() - started) * 1000)
        if not sent:
            yield {"delta": body["response"]}
        yield {"done": True, **body}

    @app.entrypoint
    async def invoke(payload: Any, context: Any) -> Any:
        started = time.perf_counter()
        headers = request_headers(context)
        try:
            if tokens is not None:  # JWT_VERIFY_DISCOVERY_URL: the signature, again
                await tokens.verify(headers)
            req = policy.admit(parse_request(payload, settings.max_prompt_chars), headers)
        except BadRequest as exc:
            return _error(400, "bad_request", str(exc))
        except Refused as exc:
            return _error(exc.status, exc.kind, exc.message)
        if req.stream:
            return stream(req, started)
        with tracer.start_as_current_span(
            span_name, attributes=invoke_attributes(settings.llm_model_id), record_exception=False
        ) as span:
            try:
                state = await graph.ainvoke(
                    {"messages": [HumanMessage(req.prompt)]}, run_config(req)
                )
            except Exception as exc:
                logger.exception("agent failed")
                span.set_attribute(names.ERROR_TYPE, type(exc).__name__)
                span.set_status(trace.StatusCode.ERROR, type(exc).__name__)
                return _error(502, "agent_error", "the model call failed; see the runtime logs")
            span.set_attribute(names.HIT, bool(state.get("cache_hit")))
        return response_body(state, settings.llm_model_id, (time.perf_counter() - started) * 1000)

    return app
