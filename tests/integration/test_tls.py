"""Engine B: Debian's valkey-server with TLS and a password, plus the search module."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from langchain_valkey_semcache import CacheUnavailableError, ValkeySemanticCache
from langchain_valkey_semcache.engine import LocalEngine
from tests.conftest import Api
from tests.support import TableEmbeddings

PASSWORD = "s3cret-Pass_word"


def _certs(folder: Path) -> tuple[Path, Path, Path]:
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


@pytest.fixture(scope="module")
def tls_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalEngine, Path]]:
    binary = shutil.which("valkey-server", path="/usr/bin")
    assert binary, "Engine B needs Debian's valkey-server (see .ci/run); this test fails, not skips"
    ca, crt, key = _certs(tmp_path_factory.mktemp("tls"))
    # Debian's jemalloc-linked valkey-server cannot load valkey-search (it crashes at load):
    # TLS is tested with RediSearch; `make test` runs this file in the RediSearch pass only.
    engine = LocalEngine(
        binary=binary, module="redisearch", password=PASSWORD, tls=True,
        args=("--tls-cert-file", str(crt), "--tls-key-file", str(key),
              "--tls-ca-cert-file", str(ca), "--tls-auth-clients", "no"),
    )  # fmt: skip
    with engine:
        yield engine, ca


@pytest.mark.tls
async def test_tls_and_password(
    tls_engine: tuple[LocalEngine, Path], index_name: str, mode: str
) -> None:
    engine, ca = tls_engine
    assert engine.url.startswith("valkeys://")
    cache = ValkeySemanticCache(
        TableEmbeddings(), url=engine.url, index_name=index_name, on_error="raise",
        client_kwargs={"ssl_ca_certs": str(ca)},
    )  # fmt: skip
    api = Api(cache, mode)
    await api.store("What is semantic caching?", "over TLS")
    assert (await api.check("What is semantic caching?")).answer == "over TLS"


@pytest.mark.tls
def test_wrong_password_or_plaintext_is_unavailable(tls_engine: tuple[LocalEngine, Path]) -> None:
    engine, ca = tls_engine
    bad = engine.url.replace(PASSWORD, "wrong")
    with pytest.raises(CacheUnavailableError):
        ValkeySemanticCache(TableEmbeddings(), url=bad, on_error="raise",
                            client_kwargs={"ssl_ca_certs": str(ca)})  # fmt: skip
    plain = engine.url.replace("valkeys://", "valkey://")
    with pytest.raises(CacheUnavailableError):
        ValkeySemanticCache(TableEmbeddings(), url=plain, on_error="raise",
                            socket_timeout_seconds=0.3)  # fmt: skip
