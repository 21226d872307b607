"""The admin command's contract: what ends a command, and its exit code. One case per row
of ``admin.EXIT_CODES``; no server (the connection step is replaced where a row needs it)."""

from __future__ import annotations

import io
from typing import Any

import pytest

from langchain_valkey_semcache import _protocol as proto
from langchain_valkey_semcache import admin
from langchain_valkey_semcache._errors import (
    CacheUnavailableError,
    ConfigurationError,
    EmbeddingError,
    IndexMismatchError,
    NoSearchModuleError,
    ProtocolError,
    SemanticCacheError,
)
from langchain_valkey_semcache._inspect import NotFoundError

ROWS = [
    (admin.UsageError("--threshold must be in [0, 1]"), 2),
    (NotFoundError("no index 'x'"), 1),
    (NoSearchModuleError(proto.NO_MODULE_MESSAGE), 1),
    (IndexMismatchError("index 'x' exists with DIM 8"), 1),
    (CacheUnavailableError("Connection refused"), 3),
    (ConfigurationError(proto.ACL_MESSAGE), 3),  # an ACL denial: refused, not bad usage
    (ConfigurationError("cluster mode without cross-shard search"), 3),
    (EmbeddingError("embedding call failed: NoCredentialsError"), 4),
    (ProtocolError("unexpected FT.INFO reply"), 4),
    (SemanticCacheError("any other of the library's errors"), 4),
    (KeyboardInterrupt(), 130),
]


def test_every_row_is_tested() -> None:
    first = [next(k for k, _, _ in admin.EXIT_CODES if isinstance(e, k)) for e, _ in ROWS]
    assert set(first) == {kind for kind, _, _ in admin.EXIT_CODES}


@pytest.mark.parametrize(("raised", "code"), ROWS, ids=lambda v: type(v).__name__)
def test_exit_code_of_what_ends_a_command(
    raised: BaseException, code: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    def connect(*args: Any) -> Any:
        raise raised

    monkeypatch.setattr(admin, "sync_client", connect)
    err = io.StringIO()
    assert admin.main(["info", "--url", "valkey://127.0.0.1:1"], stderr=err) == code
    line = err.getvalue()
    assert line.count("\n") == 1 and "Traceback" not in line
    if isinstance(raised, EmbeddingError):
        assert "--embedding-model" in line


def test_a_bad_setting_is_bad_usage_before_any_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(admin, "sync_client", lambda *a: pytest.fail("connected"))
    err = io.StringIO()
    code = admin.main(["info", "--url", "valkey://127.0.0.1:1", "--index", "bad name"], stderr=err)
    assert code == 2 and "index_name" in err.getvalue()


def test_an_unlisted_exception_is_not_swallowed() -> None:
    with pytest.raises(RuntimeError):
        admin.exit_code(RuntimeError("a bug"))
