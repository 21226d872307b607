"""``make demo``: the agent served locally over HTTP on embedded defaults, replaying the seed.

Starts a local valkey-server with the search module, serves the AgentCore app on
127.0.0.1, embeds with the offline all-MiniLM-L6-v2 and, without AWS credentials,
answers with an offline model that says it is one (``OFFLINE_LLM_LATENCY_MS``
simulated latency, default 1500). Then it replays the seed blog's session.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
import uuid
from typing import Any

SESSION = [
    ("What is semantic caching?", "miss", "first time: the model answers"),
    ("What is semantic caching?", "hit", "exact repeat: served without an embedding call"),
    ("Is semantic caching difficult?", "miss", "another question on the same topic"),
    ("What does semantic caching mean?", "hit", "a true paraphrase"),
    ("Is cheese naan delicious?", "miss", "unrelated"),
]

WHY_THE_SEED_WAS_WRONG = """\
Why row 3 must miss: "Is semantic caching difficult?" asks about difficulty, not for a
definition, so the cached definition is a wrong answer. The seed served it because its
"similarity" was 1 - distance/2: its reported 0.902 is a cosine similarity of 0.804, below
any safe threshold. Here similarity is cosine similarity (1 - COSINE distance) and the
default threshold is 0.90."""


def _has_aws_credentials() -> bool:
    os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
    try:
        import boto3  # type: ignore[import-untyped]

        return boto3.Session().get_credentials() is not None
    except Exception:
        return False


def _serve(app: Any, port: int) -> tuple[Any, threading.Thread]:
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the app server did not start")
        time.sleep(0.05)
    return server, thread


def _row(i: int, prompt: str, result: dict[str, Any], expected: str) -> tuple[str, ...]:
    t = result.get("timing_ms", {})
    hit = result.get("cache_hit")
    outcome = "HIT" if hit else "miss"
    similarity = result.get("similarity_score", result.get("nearest_similarity"))
    ok = "" if outcome.lower() == expected else "  <-- UNEXPECTED"

    def fmt(key: str) -> str:
        return f"{t[key]:.1f}" if key in t else "-"

    return (
        str(i),
        prompt,
        outcome + ok,
        f"{similarity:.3f}" if similarity is not None else "-",
        fmt("embedding"),
        fmt("vector_search"),
        fmt("agent_invocation"),
        fmt("total"),
    )


def main() -> int:
    from langchain_valkey_semcache.engine import LocalEngine, free_port

    from .invoke import invoke_url
    from .main import create_app
    from .settings import LOCAL_MINILM, OFFLINE_LLM, Settings

    llm = os.environ.get("LLM_MODEL_ID") or (None if _has_aws_credentials() else OFFLINE_LLM)
    with LocalEngine() as engine:
        env = {
            **os.environ,
            "VALKEY_HOST": "127.0.0.1",
            "VALKEY_PORT": str(engine.port),
            "VALKEY_SSL": "false",
            "EMBEDDING_MODEL_ID": LOCAL_MINILM,
            "VECTOR_DIMS": "384",
            **({"LLM_MODEL_ID": llm} if llm else {}),
        }
        settings = Settings.from_env(env)
        print(f"engine: {engine.url} (valkey-server + search module, started for this demo)")
        threshold = settings.similarity_threshold
        print(f"embeddings: offline all-MiniLM-L6-v2 (384-d); threshold {threshold}")
        if settings.llm_model_id == OFFLINE_LLM:
            print(
                f"LLM: offline demo model, {settings.offline_llm_latency_ms} ms simulated latency "
                "(no AWS credentials found; with credentials the demo calls Bedrock)"
            )
        else:
            print(f"LLM: Amazon Bedrock {settings.llm_model_id}")
        app = create_app(settings)
        app.logger.setLevel(logging.WARNING)  # one JSON line per request otherwise
        port = free_port()
        server, thread = _serve(app, port)
        url = f"http://127.0.0.1:{port}"
        print(f"app: {url}/invocations\n")
        rows, unexpected = [], 0
        try:
            app.state.cache.embeddings.embed_query("warm-up")  # load the model before timing
            for i, (prompt, expected, _) in enumerate(SESSION, start=1):
                result = next(invoke_url(url, {"prompt": prompt}, str(uuid.uuid4())))
                if "error" in result:
                    print(f"request {i} failed: {result['error']}")
                    return 1
                rows.append(_row(i, prompt, result, expected))
                unexpected += "UNEXPECTED" in rows[-1][2]
        finally:
            server.should_exit = True
            thread.join(timeout=10)
    headers = (
        "#",
        "prompt",
        "outcome",
        "similarity",
        "embedding ms",
        "vector search ms",
        "LLM ms",
        "total ms",
    )
    widths = [max(len(r[i]) for r in [headers, *rows]) for i in range(len(headers))]
    for r in [headers, tuple("-" * w for w in widths), *rows]:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)))
    print()
    for i, (_, expected, why) in enumerate(SESSION, start=1):
        print(f"  {i}. expected {expected}: {why}")
    print()
    print(WHY_THE_SEED_WAS_WRONG)
    return 1 if unexpected else 0


if __name__ == "__main__":
    sys.exit(main())
