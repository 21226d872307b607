"""Invoke the agent and print what the seed's invoke.py prints.

python -m agentcore_app.invoke "What is semantic caching?" --arn <RuntimeArn> [--region us-west-2]
python -m agentcore_app.invoke "What is semantic caching?" --url http://127.0.0.1:8080

A runtime with a JWT authorizer (docs/tenancy.md) takes a bearer token: --token, or the
SEMCACHE_BEARER_TOKEN environment variable; it is then called over HTTPS, not with SigV4.
--user-id sends X-Amzn-Bedrock-AgentCore-Runtime-User-Id (TENANT_SOURCE=user-id).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from typing import Any, TextIO

LABELS = {
    "cache_search": "Cache Search",
    "embedding": "Embedding Generation",
    "vector_search": "Vector Search",
    "verification": "Hit Verification",
    "agent_invocation": "LLM Call",
    "cache_store": "Cache Storage",
    "total": "Total",
}
SESSION_HEADER = "X-Amzn-Bedrock-AgentCore-Runtime-Session-Id"
USER_ID_HEADER = "X-Amzn-Bedrock-AgentCore-Runtime-User-Id"
TOKEN_ENV = "SEMCACHE_BEARER_TOKEN"


def identity_headers(token: str | None = None, user_id: str | None = None) -> dict[str, str]:
    """``Authorization: Bearer`` and the user-id header, for those given."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return headers | ({USER_ID_HEADER: user_id} if user_id else {})


def payload_of(
    prompt: str, min_similarity: float | None, tenant: str | None, stream: bool
) -> dict[str, Any]:
    body: dict[str, Any] = {"prompt": prompt}
    if min_similarity is not None:
        body["min_similarity"] = min_similarity
    if tenant is not None:
        body["tenant"] = tenant
    if stream:
        body["stream"] = True
    return body


def _sse(lines: Iterator[bytes]) -> Iterator[dict[str, Any]]:
    for raw in lines:
        line = raw.decode("utf-8").strip()
        if line.startswith("data: "):
            yield json.loads(line[len("data: ") :])


def invoke_url(
    url: str,
    body: dict[str, Any],
    session_id: str,
    timeout: float = 120.0,
    headers: dict[str, str] | None = None,
) -> Iterator[dict[str, Any]]:
    """POST to a server's /invocations (a ``url`` naming ``/invocations`` is taken as is);
    yields one JSON object, or each SSE event."""
    target = url if "/invocations" in url else url.rstrip("/") + "/invocations"
    request = urllib.request.Request(
        target,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", SESSION_HEADER: session_id} | (headers or {}),
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            if response.headers.get_content_type() == "text/event-stream":
                yield from _sse(response)
            else:
                yield json.loads(response.read())
    except urllib.error.HTTPError as exc:
        yield json.loads(exc.read() or b"{}") | {"http_status": exc.code}


def runtime_url(arn: str, region: str) -> str:
    """The runtime's HTTPS invocation URL (what a bearer-token caller POSTs to)."""
    quoted = urllib.parse.quote(arn, safe="")
    return (
        f"https://bedrock-agentcore.{region}.amazonaws.com/runtimes/{quoted}/invocations"
        "?qualifier=DEFAULT"
    )


def invoke_arn(
    arn: str,
    region: str,
    body: dict[str, Any],
    session_id: str,
    client: Any = None,
    user_id: str | None = None,
) -> Iterator[dict[str, Any]]:
    """Invoke a deployed AgentCore runtime with boto3's ``invoke_agent_runtime`` (SigV4);
    ``user_id`` needs ``bedrock-agentcore:InvokeAgentRuntimeForUser`` too."""
    import boto3  # type: ignore[import-untyped]

    agentcore = client or boto3.client("bedrock-agentcore", region_name=region)
    response = agentcore.invoke_agent_runtime(
        agentRuntimeArn=arn,
        runtimeSessionId=session_id,
        payload=json.dumps(body, ensure_ascii=False).encode("utf-8"),
        **({"runtimeUserId": user_id} if user_id else {}),
    )
    stream = response["response"]
    if "text/event-stream" in response.get("contentType", ""):
        yield from _sse(stream.iter_lines())
    else:
        yield json.loads(stream.read())


def print_result(
    result: dict[str, Any], out: TextIO | None = None, *, streamed: bool = False
) -> None:
    out = out or sys.stdout
    if "error" in result:
        err = result["error"]
        message = err.get("message", err) if isinstance(err, dict) else err
        print(f"━━━ Error ━━━\n  {message}", file=out)
        return
    hit = bool(result.get("cache_hit"))
    print(f"━━━ Response ({'Cache Hit ✓' if hit else 'Cache Miss ✗'}) ━━━\n", file=out)
    if not streamed:
        print(result.get("response", ""), "\n", file=out)
    print("── Meta Information ──", file=out)
    if hit and "similarity_score" in result:
        print(f"  Similarity Score: {result['similarity_score']:.4f}", file=out)
    if not hit and "model_id" in result:
        print(f"  Model Used: {result['model_id']}", file=out)
        if "nearest_similarity" in result:
            print(
                f"  Nearest cached question: similarity {result['nearest_similarity']:.4f}",
                file=out,
            )
    timing = result.get("timing_ms") or {}
    if timing:
        print("── Processing Time ──", file=out)
        for key, value in timing.items():
            print(f"  {LABELS.get(key, key)}: {value:.1f} ms", file=out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m agentcore_app.invoke",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("prompt", help="the question")
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--arn", help="AgentCore Runtime ARN (stack output RuntimeArn)")
    target.add_argument("--url", help="a local server, e.g. http://127.0.0.1:8080")
    parser.add_argument("--region", default="us-west-2")
    parser.add_argument("--session-id", "-s", help="session id (generated if omitted)")
    parser.add_argument(
        "--min-similarity", "-m", type=float, help="cosine similarity threshold 0-1"
    )
    parser.add_argument(
        "--tenant", help='"tenant" in the body (only TENANT_SOURCE=payload deployments take it)'
    )
    parser.add_argument(
        "--token", default=os.environ.get(TOKEN_ENV), help=f"bearer token (default: ${TOKEN_ENV})"
    )
    parser.add_argument("--user-id", help=f"send {USER_ID_HEADER}")
    parser.add_argument("--stream", action="store_true", help="stream the answer (SSE)")
    args = parser.parse_args(argv)
    session_id = args.session_id or str(uuid.uuid4())
    body = payload_of(args.prompt, args.min_similarity, args.tenant, args.stream)
    print(f"━━━ Request ━━━\n  Prompt: {args.prompt}\n  Session ID: {session_id}\n")
    try:
        if args.arn and not args.token:
            events = invoke_arn(args.arn, args.region, body, session_id, user_id=args.user_id)
        else:
            url = runtime_url(args.arn, args.region) if args.arn else args.url
            headers = identity_headers(args.token, args.user_id)
            events = invoke_url(url, body, session_id, headers=headers)
        for event in events:
            if "delta" in event and "done" not in event:
                print(event["delta"], end="", flush=True)
                continue
            if args.stream:
                print("\n")
            print_result(event, streamed=args.stream)
            if "error" in event:
                return 1
    except Exception as exc:  # network, credentials: one line, no trace
        print(f"invoke failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
