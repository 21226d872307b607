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


def _short(text: str, limit: int = 200) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


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
    from .local import local_settings
    from .main import create_app
    from .serve import serve_in_thread
    from .settings import OFFLINE_LLM, aws_credentials_found

    os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")  # no metadata-server wait here
    llm = os.environ.get("LLM_MODEL_ID") or (None if aws_credentials_found() else OFFLINE_LLM)
    with LocalEngine() as engine:
        settings = local_settings(engine.port, llm)
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
        server, thread = serve_in_thread(app, port)
        url = f"http://127.0.0.1:{port}"
        print(f"app: {url}/invocations\n")
        rows, answers, unexpected = [], [], 0
        try:
            for i, (prompt, expected, _) in enumerate(SESSION, start=1):
                result = next(invoke_url(url, {"prompt": prompt}, str(uuid.uuid4())))
                if "error" in result:
                    print(f"request {i} failed: {result['error']}")
                    return 1
                rows.append(_row(i, prompt, result, expected))
                answers.append(str(result.get("response", "")))
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
    print("\nThe answers (a hit returns the answer stored for the question it matched):")
    for i, answer in enumerate(answers, start=1):
        print(f"  {i}. {_short(answer)}")
    print()
    print(WHY_THE_SEED_WAS_WRONG)
    return 1 if unexpected else 0


if __name__ == "__main__":
    sys.exit(main())
