"""Engine B for tests: Debian's valkey-server with TLS, a password and the search module."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from langchain_valkey_semcache.engine import LocalEngine

PASSWORD = "s3cret-Pass_word"


def make_certs(folder: Path) -> tuple[Path, Path, Path]:
    """A throw-away CA and a server certificate for 127.0.0.1: (ca, cert, key)."""
    ca_key, ca, key, csr, crt = (
        folder / n for n in ("ca.key", "ca.crt", "srv.key", "srv.csr", "srv.crt")
    )
    run = lambda *a: subprocess.run(["openssl", *a], check=True, capture_output=True)  # noqa: E731
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=test-ca",
        "-keyout", str(ca_key), "-out", str(ca))  # fmt: skip
    run("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
        "-keyout", str(key), "-out", str(csr))  # fmt: skip
    ext = folder / "ext.cnf"
    ext.write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    run("x509", "-req", "-in", str(csr), "-CA", str(ca), "-CAkey", str(ca_key), "-CAcreateserial",
        "-days", "2", "-out", str(crt), "-extfile", str(ext))  # fmt: skip
    return ca, crt, key


def engine_b_fixture() -> Callable[..., Any]:
    """A module-scoped fixture yielding (TLS engine with PASSWORD, CA file). Fails, never
    skips, without Debian's valkey-server."""

    @pytest.fixture(scope="module")
    def fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalEngine, Path]]:
        binary = shutil.which("valkey-server", path="/usr/bin")
        assert binary, "Engine B needs Debian's valkey-server (see .ci/run); this test fails"
        ca, crt, key = make_certs(tmp_path_factory.mktemp("tls"))
        # Debian's jemalloc-linked valkey-server cannot load valkey-search (it crashes at load):
        # TLS is tested with RediSearch; `make test` runs these files in the RediSearch pass only.
        engine = LocalEngine(
            binary=binary, module="redisearch", password=PASSWORD, tls=True,
            args=("--tls-cert-file", str(crt), "--tls-key-file", str(key),
                  "--tls-ca-cert-file", str(ca), "--tls-auth-clients", "no"),
        )  # fmt: skip
        with engine:
            yield engine, ca

    return fixture
