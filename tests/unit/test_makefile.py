"""The Makefile's own behaviour: help, clean, and the apt change engine-b makes."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from langchain_valkey_semcache.engine import free_port

ROOT = Path(__file__).resolve().parents[2]
INTERNAL = {"apt-backports"}


def _make(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "-s", "-f", str(ROOT / "Makefile"), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def _phony() -> set[str]:
    text = (ROOT / "Makefile").read_text().replace("\\\n", " ")
    match = re.search(r"^\.PHONY:(.*)$", text, re.M)
    assert match
    return set(match.group(1).split())


def test_help_lists_every_target() -> None:
    proc = _make("help")
    assert proc.returncode == 0, proc.stderr
    listed = set(re.findall(r"make (\S+)", proc.stdout))
    assert _phony() - INTERNAL <= listed, _phony() - INTERNAL - listed
    assert {"run", "dist", "clean", "help"} <= _phony()


def test_clean_removes_what_the_project_creates(tmp_path: Path) -> None:
    created = [
        ".venv/bin/python",
        "infra/.venv/x",
        ".venv-bench/x",
        "infra/cdk.out/x.json",
        ".pytest_cache/x",
        ".mypy_cache/x",
        ".ruff_cache/x",
        ".hypothesis/examples/x",
        ".benchmarks/Linux-CPython-3.11-64bit/0001_x.json",
        "site/index.html",
        "bench/out/perf.json",
        "calibration.png",
        "dist/x.whl",
        ".cache/wheels/x.whl",
        "build/lib/x.py",
        "langchain_valkey_semcache.egg-info/PKG-INFO",
        "langchain_valkey_semcache/__pycache__/x.pyc",
    ]
    kept = ["langchain_valkey_semcache/cache.py", "bench/perf.py", "infra/app.py", "README.md"]
    for name in created + kept:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    proc = _make("clean", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    left = [n for n in created if (tmp_path / n).exists()]
    assert left == []
    for top in (".venv", ".hypothesis", ".benchmarks", "site", "dist", "build", "bench/out",
                "infra/cdk.out"):  # fmt: skip
        assert not (tmp_path / top).exists(), top
    assert all((tmp_path / n).exists() for n in kept)


DEBIAN_SOURCES = """\
Types: deb
URIs: http://mirror.example.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://mirror.example.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
"""


def test_engine_b_adds_backports_to_the_mirror_apt_uses_once(tmp_path: Path) -> None:
    sources = tmp_path / "debian.sources"
    sources.write_text(DEBIAN_SOURCES)
    for _ in range(2):  # idempotent
        proc = _make("apt-backports", f"APT_SOURCES={sources}")
        assert proc.returncode == 0, proc.stderr
    expected = DEBIAN_SOURCES.replace(
        "Suites: bookworm bookworm-updates\n",
        "Suites: bookworm bookworm-updates bookworm-backports\n",
    )
    assert sources.read_text() == expected  # same mirror, security stanza untouched
    missing = _make("apt-backports", f"APT_SOURCES={tmp_path / 'none'}")
    assert missing.returncode != 0 and "add bookworm-backports" in missing.stdout


@pytest.mark.skipif(not Path("/usr/bin/valkey-server").exists(), reason="checks the installed case")
def test_engine_b_does_nothing_when_installed(tmp_path: Path) -> None:
    proc = _make("engine-b", f"APT_SOURCES={tmp_path / 'never-read'}")
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", "")


def test_run_and_dist_call_the_tested_commands() -> None:
    run = _make("-n", "run", "PORT=18080")
    assert ".venv/bin/python -m agentcore_app.local --port 18080" in run.stdout, run.stdout
    dist = _make("-n", "dist")
    assert ".venv/bin/python -m build --no-isolation --outdir dist ." in dist.stdout, dist.stdout


def test_docs_build_strictly_and_make_test_builds_them() -> None:
    docs = _make("-n", "docs")
    assert ".venv/bin/mkdocs build --strict" in docs.stdout, docs.stdout
    serve = _make("-n", "docs-serve", "DOCS_PORT=18000")
    assert "mkdocs serve --strict --dev-addr 127.0.0.1:18000" in serve.stdout, serve.stdout
    test = _make("-n", "test", "ENGINES_DIR=/nonexistent")
    assert ".venv/bin/mkdocs build --strict" in test.stdout, test.stdout
    # --quiet silences the warnings that --strict turns into a failure (a broken link passed)
    assert not [x for x in test.stdout.splitlines() if "mkdocs" in x and "--quiet" in x]
    install = (ROOT / "Makefile").read_text()
    assert "-e '.[local,dev,agentcore,plot,docs]'" in install  # a fresh machine gets mkdocs


def test_docs_serve_serves_and_stops_on_ctrl_c() -> None:
    """`make docs-serve`'s command serves the site, and Ctrl-C (SIGINT to the terminal's process
    group) stops it and frees the port, with no traceback."""
    port = free_port()
    dry = _make("-n", "docs-serve", f"DOCS_PORT={port}").stdout.splitlines()
    command = next(line for line in dry if "mkdocs serve" in line)
    command = command.replace(".venv/bin/", f"{Path(sys.executable).parent}/")
    proc = subprocess.Popen(
        ["sh", "-c", command], cwd=ROOT, start_new_session=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as page:
                    assert "langchain-valkey-semcache" in page.read().decode()
                break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, proc.stdout
                time.sleep(0.5)
        os.killpg(proc.pid, signal.SIGINT)
        out, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert "Traceback" not in out, out
    with pytest.raises(ConnectionRefusedError):  # nothing listens any more
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
