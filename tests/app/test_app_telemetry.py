"""The app's own tracing: a console exporter behind SEMCACHE_OTEL_CONSOLE, spans nested
under each request's ``invoke_agent`` span (in a child process: SDK providers are global)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from langchain_valkey_semcache.engine import LocalEngine

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import sys, uuid
from agentcore_app.serve import serve_in_thread as _serve
from agentcore_app.invoke import invoke_url
from agentcore_app.main import create_app
from agentcore_app.offline import OfflineChatModel
from agentcore_app.settings import Settings
from langchain_valkey_semcache.engine import free_port
from tests.support import TableEmbeddings, at_similarity

env = {"VALKEY_HOST": "127.0.0.1", "VALKEY_PORT": sys.argv[1], "VALKEY_SSL": "false",
       "LLM_MODEL_ID": "offline", "VECTOR_DIMS": "8", "EMBEDDING_MODEL_ID": "test-table",
       "SEMCACHE_OTEL_CONSOLE": sys.argv[2], "TENANT_SOURCE": "payload"}
table = TableEmbeddings({"Tell me about quokkas?": at_similarity(1.0)})
app = create_app(Settings.from_env(env), embeddings=table, model=OfflineChatModel(latency_ms=0))
app.state.cache.drop_index()
port = free_port()
server, thread = _serve(app, port)
url = f"http://127.0.0.1:{port}"
try:
    for body in ({"prompt": "Tell me about quokkas?", "tenant": "tenant-kestrel"},
                 {"prompt": "Tell me about quokkas?", "tenant": "tenant-kestrel", "stream": True}):
        *_, last = invoke_url(url, body, str(uuid.uuid4()))
        print("RESULT", "hit" if last.get("cache_hit") else "miss", file=sys.stderr)
finally:
    server.should_exit = True
    thread.join(timeout=10)
"""


def _run(engine: LocalEngine, flag: str) -> tuple[str, str]:
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(engine.port), flag],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout, proc.stderr


def _objects(text: str) -> list[dict[str, Any]]:
    """The JSON objects the console exporters printed, one after another."""
    decoder, out, i = json.JSONDecoder(), [], 0
    while (i := text.find("{", i)) != -1:
        try:
            obj, end = decoder.raw_decode(text, i)
        except ValueError:
            i += 1
            continue
        out.append(obj)
        i = end
    return out


def test_console_exporter_shows_nested_spans_and_metrics(engine: LocalEngine) -> None:
    stdout, stderr = _run(engine, "1")
    assert "RESULT miss" in stderr and "RESULT hit" in stderr
    objects = _objects(stdout)
    spans = [o for o in objects if "context" in o and "name" in o]
    runs = [s for s in spans if s["name"] == "invoke_agent semantic-cache-agent"]
    lookups = [s for s in spans if s["name"] == "semcache.lookup"]
    assert len(runs) == 2 and len(lookups) == 2
    run_ids = {r["context"]["span_id"] for r in runs}
    assert all(s["parent_id"] in run_ids for s in lookups)  # nested, streaming or not
    assert runs[0]["attributes"]["gen_ai.operation.name"] == "invoke_agent"
    assert [r["attributes"]["semcache.hit"] for r in runs] == [False, True]
    assert {s["attributes"]["semcache.outcome"] for s in lookups} == {"miss", "exact_hit"}
    names = {
        m["name"]
        for o in objects
        for rm in o.get("resource_metrics", [])
        for sm in rm["scope_metrics"]
        for m in sm["metrics"]
    }
    assert {"semcache.lookups", "semcache.lookup.duration", "semcache.stores"} <= names
    assert "quokka" not in stdout and "kestrel" not in stdout


def test_no_console_output_without_the_variable(engine: LocalEngine) -> None:
    stdout, _ = _run(engine, "0")
    assert "semcache.lookup" not in stdout and "invoke_agent" not in stdout
