"""``python -m langchain_valkey_semcache.engine``: --help, --port, and never an orphaned server."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from langchain_valkey_semcache.engine import free_port, start_failure
from tests.support import children_of, process_gone, wait_gone

ENGINE = [sys.executable, "-m", "langchain_valkey_semcache.engine"]


def test_help_names_the_port_option() -> None:
    proc = subprocess.run([*ENGINE, "--help"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "--port" in proc.stdout and "SIGTERM" in proc.stdout


def test_bad_port_is_one_line_usage_error() -> None:
    proc = subprocess.run([*ENGINE, "--port", "70000"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "--port must be 1-65535" in proc.stderr


def _start_engine(port: int) -> tuple[subprocess.Popen[str], int]:
    parent = subprocess.Popen(
        [*ENGINE, "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert parent.stdout is not None
    line = parent.stdout.readline().strip()
    assert line == f"valkey://127.0.0.1:{port}", line + parent.stderr.read()  # type: ignore[union-attr]
    servers = [pid for pid in children_of(parent.pid) if "valkey-server" in _cmdline(pid)]
    assert len(servers) == 1, servers
    return parent, servers[0]


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return ""


def _port_closed(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return False
    except OSError:
        return True


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="parent-death signal is Linux's")
@pytest.mark.parametrize(
    "sig", [signal.SIGTERM, signal.SIGKILL, signal.SIGINT], ids=lambda s: s.name
)
def test_killing_the_command_stops_its_server(sig: signal.Signals) -> None:
    port = free_port()
    parent, server = _start_engine(port)
    try:
        os.kill(parent.pid, sig)
        parent.wait(timeout=30)
        assert wait_gone(server), f"valkey-server {server} outlived its parent ({sig.name})"
        assert _port_closed(port)
        if sig != signal.SIGKILL:  # the command itself exits cleanly, with the server stopped
            assert parent.returncode in (0, 128 + signal.SIGTERM), parent.stderr.read()  # type: ignore[union-attr]
    finally:  # a failing run must not leave the orphan it found behind
        if not process_gone(server):
            os.kill(server, signal.SIGKILL)


def test_port_in_use_is_one_line_naming_the_reason() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = subprocess.run(
            [*ENGINE, "--port", str(port)], capture_output=True, text=True, timeout=60
        )
    assert proc.returncode == 1 and proc.stdout == "", proc.stdout
    assert proc.stderr == (
        f"engine: port {port} on 127.0.0.1 is already in use: choose another port, "
        "or none for a free one\n"
    ), proc.stderr


RECORDED_LOG = """\
25169:M 06 Dec 2026 01:29:40.987 # WARNING Memory overcommit must be enabled! Without it, ...
25169:M 06 Dec 2026 01:29:40.988 * oO0OoO0OoO0Oo Valkey is starting oO0OoO0OoO0Oo
25169:M 06 Dec 2026 01:29:41.024 # Module /x/libsearch.so failed to load: undefined symbol: foo
25169:M 06 Dec 2026 01:29:41.024 * something after it"""


def test_other_start_failures_name_the_last_warning() -> None:
    assert start_failure(RECORDED_LOG, 7000) == (
        "valkey-server exited at start: Module /x/libsearch.so failed to load: "
        "undefined symbol: foo"
    )
    assert start_failure("", 7000) == "valkey-server exited at start: no log"
