"""``make run`` (``python -m agentcore_app.local``) and a bare ``python -m agentcore_app``."""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from agentcore_app.agent import make_embeddings
from agentcore_app.local import local_settings
from agentcore_app.settings import Settings, SettingsError, check_credentials
from langchain_valkey_semcache.engine import free_port
from tests.support import children_of, process_gone, wait_gone

ROOT = Path(__file__).resolve().parents[2]


def _no_aws_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.pop("LLM_MODEL_ID", None)
    return {
        **env,
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": "/nonexistent",
        "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
        **extra,
    }


def _read_until(proc: subprocess.Popen[str], prefix: str, timeout: float = 180) -> list[str]:
    assert proc.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip("\n"))
        if line.startswith(prefix):
            return lines
    raise AssertionError(f"no {prefix!r} line: {lines}")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=lambda s: s.name)
def test_make_run_serves_the_app_and_stops_everything(sig: signal.Signals) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "agentcore_app.local", "--port", str(port)],
        cwd=ROOT,
        env=_no_aws_env(OFFLINE_LLM_LATENCY_MS="0"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    servers: list[int] = []
    try:
        lines = _read_until(proc, "try: ")
        assert f"app: http://127.0.0.1:{port}/invocations" in "\n".join(lines)
        command = lines[-1].removeprefix("try: ")
        assert (
            f'-m agentcore_app.invoke "What is semantic caching?" --url http://127.0.0.1:{port}'
            in command
        )
        servers = [p for p in children_of(proc.pid) if "valkey-server" in _cmdline(p)]
        assert len(servers) == 1
        replies = [
            subprocess.run(
                shlex.split(command), cwd=ROOT, capture_output=True, text=True, timeout=120
            )
            for _ in range(2)
        ]
        assert all(r.returncode == 0 for r in replies), [r.stdout + r.stderr for r in replies]
        assert "Cache Miss" in replies[0].stdout and "offline demo model" in replies[0].stdout
        assert "Cache Hit" in replies[1].stdout
        os.kill(proc.pid, sig)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for pid in servers:
            if not wait_gone(pid):
                os.kill(pid, signal.SIGKILL)
                pytest.fail(f"valkey-server {pid} outlived `make run` ({sig.name})")
    assert proc.returncode in (0, 128 + signal.SIGTERM), err
    assert servers and all(process_gone(pid) for pid in servers)
    assert sum("listening on http://127.0.0.1:" in line for line in err.splitlines()) == 1, err
    request_lines = [line for line in err.splitlines() if "Invocation" in line]
    assert len(request_lines) == 2, err  # one line per request, not one per handler
    assert "Traceback" not in err, err
    listening = next(i for i, line in enumerate(err.splitlines()) if "listening on" in line)
    _matches_the_documented_output(lines + err.splitlines()[: listening + 1])


def _documented_run_outputs() -> list[list[str]]:
    """The `make run` output blocks of the README and docs/app.md."""
    blocks = []
    for path in (ROOT / "README.md", ROOT / "docs" / "app.md"):
        found = re.findall(r"```text\n(engine: valkey://.*?)```", path.read_text(), flags=re.S)
        assert found, f"{path.name} shows no `make run` output"
        blocks += [block.splitlines() for block in found]
    return blocks


def _line_pattern(documented: str) -> re.Pattern[str]:
    """A documented line as a pattern: numbers vary, `...` and the interpreter's path elide."""
    pattern = re.sub(r"\d+", r"\\d+", re.escape(documented))
    pattern = pattern.replace(r"\.\.\.", ".*").replace(r"try:\ \.venv", r"try:\ .*\.venv")
    return re.compile(pattern)


def _matches_the_documented_output(startup: list[str]) -> None:
    """Each line `make run` prints up to `listening on` is shown, and each shown is printed."""
    for block in _documented_run_outputs():
        patterns = [_line_pattern(line) for line in block]
        unshown = [ln for ln in startup if not any(p.fullmatch(ln) for p in patterns)]
        unprinted = [d for d, p in zip(block, patterns, strict=True)
                     if not any(p.fullmatch(ln) for ln in startup)]  # fmt: skip
        assert (unshown, unprinted) == ([], []), startup


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return ""


def test_bare_app_without_configuration_fails_at_start_in_one_line() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "agentcore_app", "--port", str(free_port())],
        cwd=ROOT,
        env=_no_aws_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert "no AWS credentials found" in proc.stderr
    assert "EMBEDDING_MODEL_ID, LLM_MODEL_ID need them" in proc.stderr
    assert "make run" in proc.stderr


def test_credentials_are_only_required_for_aws_services() -> None:
    local = local_settings(6379, "offline")
    check_credentials(local, found=lambda: False)  # nothing of AWS's in use
    for env in (
        {"EMBEDDING_MODEL_ID": "local-minilm", "VECTOR_DIMS": "384"},  # Bedrock LLM by default
        {"LLM_MODEL_ID": "offline"},  # Titan embeddings by default
        {
            "EMBEDDING_MODEL_ID": "local-minilm",
            "LLM_MODEL_ID": "offline",
            "VALKEY_AUTH_SECRET_ARN": "arn:aws:secretsmanager:us-west-2:1:secret:x",
        },
    ):
        settings = Settings.from_env(env)
        with pytest.raises(SettingsError, match="no AWS credentials"):
            check_credentials(settings, found=lambda: False)
        check_credentials(settings, found=lambda: True)


@pytest.mark.parametrize(
    ("env", "tls"),
    [
        ({}, False),  # localhost by default
        ({"VALKEY_HOST": "127.0.0.1"}, False),
        ({"VALKEY_HOST": "::1"}, False),
        ({"VALKEY_HOST": "master.x.cache.amazonaws.com"}, True),
        ({"VALKEY_HOST": "10.0.1.5"}, True),
        ({"VALKEY_HOST": "master.x.cache.amazonaws.com", "VALKEY_SSL": "false"}, False),
        ({"VALKEY_HOST": "localhost", "VALKEY_SSL": "true"}, True),
    ],
)
def test_tls_by_default_for_a_remote_host_only(env: dict[str, str], tls: bool) -> None:
    settings = Settings.from_env(env)
    assert settings.valkey_ssl is tls
    assert settings.valkey_url.startswith("valkeys://" if tls else "valkey://")


def test_local_embeddings_are_loaded_at_start() -> None:
    embeddings = make_embeddings(local_settings(6379))
    assert embeddings._model is not None  # type: ignore[attr-defined]
