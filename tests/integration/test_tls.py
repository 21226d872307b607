"""Engine B: Debian's valkey-server with TLS and a password, plus the search module."""

from __future__ import annotations

from pathlib import Path

import pytest

from langchain_valkey_semcache import CacheUnavailableError, ValkeySemanticCache
from langchain_valkey_semcache.engine import LocalEngine
from tests.conftest import Api
from tests.engine_b import PASSWORD, engine_b_fixture
from tests.support import TableEmbeddings, at_similarity

Q = "What is semantic caching?"
PARA = "What does semantic caching mean?"
tls_engine = engine_b_fixture()


@pytest.mark.tls
async def test_tls_and_password(
    tls_engine: tuple[LocalEngine, Path], index_name: str, mode: str
) -> None:
    engine, ca = tls_engine
    assert engine.url.startswith("valkeys://")
    emb = TableEmbeddings({Q: at_similarity(1.0), PARA: at_similarity(0.97)})
    cache = ValkeySemanticCache(
        emb, url=engine.url, index_name=index_name, on_error="raise",
        client_kwargs={"ssl_ca_certs": str(ca)},
    )  # fmt: skip
    api = Api(cache, mode)
    await api.store(Q, "over TLS")
    assert (await api.check(Q)).answer == "over TLS"
    hit = await api.check(PARA)  # FT.SEARCH over TLS
    assert hit is not None and not hit.exact and hit.answer == "over TLS"


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
