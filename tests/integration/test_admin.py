"""``python -m langchain_valkey_semcache`` on the local engine: every subcommand, its exit
codes, and one clear line (never a traceback) for bad URLs, a wrong password and a server
without the search module."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import valkey
from valkey.cluster import ValkeyCluster

from langchain_valkey_semcache import ValkeySemanticCache
from langchain_valkey_semcache.admin import main
from langchain_valkey_semcache.engine import LocalEngine, free_port
from tests.integration.test_cluster import coordinated  # noqa: F401 (a fixture)
from tests.integration.test_security import acl_rules
from tests.integration.test_tls import PASSWORD, tls_engine  # noqa: F401 (a fixture)
from tests.support import TableEmbeddings, at_similarity

ROOT = Path(__file__).resolve().parents[2]
Q, NEAR, FAR = "What is semantic caching?", "What does semantic caching mean?", "Is it hard?"
SUBCOMMANDS = ("info", "stats", "search", "clear", "drop-index")


@pytest.fixture
def emb() -> TableEmbeddings:
    far = [0.8, -0.6] + [0.0] * 6  # 0.8 from Q, 0.57 from NEAR
    return TableEmbeddings({Q: at_similarity(1.0), NEAR: at_similarity(0.95), FAR: far})


@pytest.fixture
def filled(engine: LocalEngine, index_name: str, emb: TableEmbeddings) -> ValkeySemanticCache:
    cache = ValkeySemanticCache(emb, url=engine.url, index_name=index_name, ttl_seconds=3600)
    assert cache.store(Q, "Reusing answers by meaning.", llm_string="m")
    assert cache.store(FAR, "Not very.", llm_string="m")
    assert cache.store(Q, "Pour l'équipe acme.", namespace="acme", ttl_seconds=60)
    return cache


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def admin(*argv: str, **kwargs: Any) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err, **kwargs)
    return code, out.getvalue(), err.getvalue()


def one_line_error(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def test_info(engine: LocalEngine, index_name: str, filled: ValkeySemanticCache) -> None:
    code, out, _ = admin("info", "--url", engine.url, "--index", index_name, "--json")
    assert code == 0
    info = json.loads(out)
    assert (info["engine"], info["engine_version"]) == filled.engine  # the core's own facts
    assert info["engine"] in ("redisearch", "valkey-search")
    assert info["entries"] == 3 and info["num_docs_this_node"] == 3
    assert info["dim"] == 8 and info["distance_metric"] == "COSINE"
    vector = {"algorithm": "HNSW", "data_type": "FLOAT32", "m": 16, "ef_construction": 100}
    assert vector.items() <= info["vector"].items()
    assert {"field": "vec", "type": "VECTOR"} in info["schema"]
    assert 100 < info["bytes_per_entry"] < 10_000 and info["memory_sample"] == 3
    code, out, _ = admin("info", "--url", engine.url, "--index", index_name)
    assert code == 0
    engine, version = filled.engine
    assert f"{engine} (module version {version})" in out and "M 16, EF_CONSTRUCTION 100" in out
    # The index's own memory: RediSearch reports it in FT.INFO, valkey-search (1.0, 1.2) not.
    index_share, total = info["index_bytes_per_entry"], info["total_bytes_per_entry"]
    if engine == "redisearch":  # 3 documents: mostly the index's fixed cost
        assert index_share > 8 * 4 and abs(total - info["bytes_per_entry"] - index_share) <= 1
        assert re.search(rf"index per entry +{index_share} bytes \(FT.INFO", out)
        assert re.search(rf"total per entry +{total} bytes", out)
    else:
        assert index_share is None and total is None
        assert re.search(r"index per entry +not reported by this engine", out)
    assert re.search(rf"hash per entry +{info['bytes_per_entry']} bytes \(MEMORY USAGE", out)


def test_stats(engine: LocalEngine, index_name: str, filled: ValkeySemanticCache) -> None:
    code, out, _ = admin("stats", "--url", engine.url, "--index", index_name, "--json")
    assert code == 0
    rows = {r["digest"]: r for r in json.loads(out)}
    default, acme = filled._core.namespace_tag(""), filled._core.namespace_tag("acme")
    assert rows[default]["entries"] == 2 and rows[default]["default_namespace"]
    assert 3500 < rows[default]["ttl_min_seconds"] <= 3600
    assert rows[acme]["entries"] == 1 and 0 < rows[acme]["ttl_max_seconds"] <= 60
    code, out, _ = admin("stats", "--url", engine.url, "--index", index_name)
    assert code == 0 and f"{default} (default)" in out and "acme" not in out


def test_search(
    engine: LocalEngine, index_name: str, filled: ValkeySemanticCache, emb: TableEmbeddings
) -> None:
    base = ("--url", engine.url, "--index", index_name)
    code, out, _ = admin("search", NEAR, *base, "--json", embeddings=emb)
    assert code == 0
    near, far = json.loads(out)
    assert near["similarity"] == pytest.approx(0.95, abs=1e-3) and near["served"]
    assert near["verdict"] is True and near["answer"] == "Reusing answers by meaning."
    assert far["prompt"] == FAR and not far["above_threshold"] and not far["served"]
    code, out, _ = admin("search", NEAR, *base, "--threshold", "0.97", embeddings=emb)
    assert code == 0 and "SERVED" not in out and "below" in out
    code, out, _ = admin("search", NEAR, *base, "--namespace", "acme", "--json", embeddings=emb)
    assert [n["answer"] for n in json.loads(out)] == ["Pour l'équipe acme."]
    code, out, _ = admin("search", NEAR, *base, "--llm-string", "other", embeddings=emb)
    assert code == 1 and "no entries near" in out  # another partition holds nothing
    code, out, _ = admin("search", NEAR, *base, "--llm-string", "m", "--json", embeddings=emb)
    assert len(json.loads(out)) == 2


def test_search_shows_the_verifier_rejecting(
    engine: LocalEngine, index_name: str, emb: TableEmbeddings
) -> None:
    emb.table["How much is 2 + 2?"] = at_similarity(1.0)
    emb.table["How much is 2 + 3?"] = at_similarity(0.99)
    ValkeySemanticCache(emb, url=engine.url, index_name=index_name).store("How much is 2 + 2?", "4")
    base = ("--url", engine.url, "--index", index_name, "--json")
    code, out, _ = admin("search", "How much is 2 + 3?", *base, embeddings=emb)
    assert code == 0
    [row] = json.loads(out)
    assert row["above_threshold"] and row["verdict"] is False and not row["served"]
    _, out, _ = admin("search", "How much is 2 + 3?", *base, "--verifier", "none",
                         embeddings=emb)  # fmt: skip
    [row] = json.loads(out)
    assert row["verdict"] is None and row["served"]


def test_clear_asks_first(
    engine: LocalEngine, index_name: str, filled: ValkeySemanticCache
) -> None:
    base = ("clear", "--url", engine.url, "--index", index_name, "--namespace", "acme")
    code, _, err = admin(*base, stdin=io.StringIO(""))
    assert code == 2 and "--yes" in one_line_error(err)
    code, out, _ = admin(*base, stdin=Tty("n\n"))
    assert code == 0 and "cancelled" in out
    assert filled.search(Q, namespace="acme").hit is not None
    code, out, _ = admin(*base, stdin=Tty("y\n"))
    assert code == 0 and "deleted  1 entries of namespace 'acme'" in out
    assert filled.search(Q, namespace="acme").hit is None
    assert filled.search(Q, llm_string="m").hit is not None  # other namespaces stay
    code, out, _ = admin("clear", "--url", engine.url, "--index", index_name, "--namespace", "",
                         "--yes", "--json")  # fmt: skip
    assert code == 0 and json.loads(out) == {"deleted": 2}


def test_drop_index(engine: LocalEngine, index_name: str, filled: ValkeySemanticCache) -> None:
    base = ("drop-index", "--url", engine.url, "--index", index_name)
    code, out, _ = admin(*base, stdin=Tty("no\n"))
    assert code == 0 and "cancelled" in out
    code, out, _ = admin(*base, "--yes", "--json")
    assert code == 0 and json.loads(out) == {"dropped": True, "deleted": 3}
    code, _, err = admin(*base, "--yes")
    assert code == 1 and f"no index {index_name!r}" in one_line_error(err)


def test_not_found_names_the_indexes_there(engine: LocalEngine, filled: Any) -> None:
    code, _, err = admin("info", "--url", engine.url, "--index", "no_such_index")
    assert code == 1
    line = one_line_error(err)
    assert "no index 'no_such_index'" in line and filled.config.index_name in line


@pytest.mark.parametrize("command", SUBCOMMANDS)
def test_help_on_each_subcommand(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([command, "--help"]) == 0
    out = capsys.readouterr().out
    assert f"python -m langchain_valkey_semcache {command}" in out and "--url" in out


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["bogus"],
        ["clear", "--url", "valkey://127.0.0.1:1"],  # neither --namespace nor --all-namespaces
        ["info", "--url", "http://127.0.0.1:6379"],
        ["info", "--url", "valkey://127.0.0.1:notaport"],
        ["search", "q", "--url", "valkey://127.0.0.1:1", "--threshold", "x"],
    ],
)
def test_bad_usage_exits_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "error" in err and "Traceback" not in err


def test_no_server_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VALKEY_HOST", raising=False)
    code, _, err = admin("info")
    assert code == 2 and "VALKEY_HOST" in one_line_error(err)


def test_unreachable_exits_3() -> None:
    code, _, err = admin("info", "--url", f"valkey://127.0.0.1:{free_port()}", "--timeout", "0.5")
    assert code == 3 and "Connection refused" in one_line_error(err)


def test_unreachable_from_a_shell() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "langchain_valkey_semcache", "stats",
         "--url", f"valkey://127.0.0.1:{free_port()}"],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert proc.returncode == 3 and proc.stdout == ""
    assert one_line_error(proc.stderr).startswith("langchain_valkey_semcache: error: ")


@pytest.fixture(scope="module")
def locked() -> Iterator[LocalEngine]:
    with LocalEngine(password="s3cret-pw") as eng:
        yield eng


def test_wrong_password_exits_3(locked: LocalEngine) -> None:
    url = f"valkey://:wrong@127.0.0.1:{locked.port}"
    code, _, err = admin("info", "--url", url)
    line = one_line_error(err)
    assert code == 3 and "invalid username-password pair" in line and ":wrong@" not in line
    code, _, err = admin("info", "--url", f"valkey://127.0.0.1:{locked.port}")
    assert code == 3 and "Authentication required" in one_line_error(err)


def test_app_variables(
    locked: LocalEngine, index_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    ValkeySemanticCache(TableEmbeddings(), url=locked.url, index_name=index_name).store(Q, "a")
    monkeypatch.setenv("VALKEY_HOST", "127.0.0.1")
    monkeypatch.setenv("VALKEY_PORT", str(locked.port))
    monkeypatch.setenv("VALKEY_SSL", "false")
    monkeypatch.setenv("VALKEY_PASSWORD", "s3cret-pw")
    code, out, _ = admin("info", "--index", index_name, "--json")
    assert code == 0 and json.loads(out)["entries"] == 1
    monkeypatch.setenv("VALKEY_PASSWORD", "nope")
    code, _, err = admin("info", "--index", index_name)
    assert code == 3 and "nope" not in one_line_error(err)
    monkeypatch.delenv("VALKEY_SSL")  # plaintext by default for 127.0.0.1, as the app
    monkeypatch.setenv("VALKEY_PASSWORD", "s3cret-pw")
    assert admin("info", "--index", index_name)[0] == 0
    monkeypatch.setenv("VALKEY_SSL", "maybe")
    code, _, err = admin("info", "--index", index_name)
    assert code == 2 and "VALKEY_SSL" in one_line_error(err)


def test_server_without_search_module() -> None:
    with LocalEngine(search=False) as plain:
        for argv in (["info"], ["stats", "--json"], ["drop-index", "--yes"]):
            code, _, err = admin(*argv, "--url", plain.url)
            assert code == 1
            assert "no vector search module" in one_line_error(err)


def test_entries_counted_cluster_wide(coordinated: list[LocalEngine], index_name: str) -> None:  # noqa: F811
    """valkey-search with its coordinator (skipped on engines without one)."""
    emb = TableEmbeddings()
    client = ValkeyCluster(host="127.0.0.1", port=coordinated[0].port)
    cache = ValkeySemanticCache(emb, client=client, index_name=index_name, on_error="raise")
    assert all(cache.store_many([(f"q{i}", f"a{i}") for i in range(30)]))
    code, out, err = admin("info", "--url", coordinated[0].url, "--index", index_name, "--json")
    assert code == 0, err
    info = json.loads(out)
    assert info["engine"] == "valkey-search" and info["entries"] == 30
    code, out, _ = admin("stats", "--url", coordinated[1].url, "--index", index_name, "--json")
    assert [r["entries"] for r in json.loads(out)] == [30]
    code, out, _ = admin("clear", "--url", coordinated[2].url, "--index", index_name,
                         "--all-namespaces", "--yes", "--json")  # fmt: skip
    assert json.loads(out) == {"deleted": 30}
    client.close()


@pytest.mark.tls
def test_tls_and_auth_from_the_app_variables(
    tls_engine: tuple[LocalEngine, Path],  # noqa: F811
    index_name: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    engine, ca = tls_engine
    cache = ValkeySemanticCache(TableEmbeddings(), url=engine.url, index_name=index_name,
                                client_kwargs={"ssl_ca_certs": str(ca)})  # fmt: skip
    assert cache.store(Q, "over TLS")
    for name, value in (("VALKEY_HOST", "127.0.0.1"), ("VALKEY_PORT", str(engine.port)),
                        ("VALKEY_SSL", "true"), ("VALKEY_PASSWORD", PASSWORD)):  # fmt: skip
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("VALKEY_CA_FILE", raising=False)
    code, out, _ = admin("info", "--index", index_name, "--ca-file", str(ca), "--json")
    assert code == 0 and json.loads(out)["entries"] == 1
    code, _, err = admin("info", "--index", index_name)  # the server's CA is not trusted
    assert code == 3 and "certificate verify failed" in one_line_error(err)
    monkeypatch.setenv("VALKEY_SSL", "false")  # plaintext to the TLS port
    code, _, err = admin("info", "--index", index_name, "--timeout", "0.5")
    assert code == 3
    one_line_error(err)


def test_with_the_caches_acl_user(
    engine: LocalEngine, index_name: str, search_engine: str, emb: TableEmbeddings
) -> None:
    """The cache's least-privilege user (README rules) plus +pttl for stats."""
    root = valkey.Valkey.from_url(engine.url)
    user = f"u_{index_name}"
    rules = [*acl_rules(index_name, "pw", search_engine), "+pttl"]
    root.execute_command("ACL", "SETUSER", user, *rules)
    url = engine.url.replace("valkey://", f"valkey://{user}:pw@")
    ValkeySemanticCache(emb, url=url, index_name=index_name).store(Q, "a")
    base = ("--url", url, "--index", index_name, "--json")
    code, out, err = admin("info", *base)
    assert code == 0, err
    info = json.loads(out)
    assert info["entries"] == 1 and info["bytes_per_entry"] is None  # no MEMORY USAGE
    code, out, err = admin("stats", *base)
    assert code == 0 and [r["entries"] for r in json.loads(out)] == [1], err
    code, out, err = admin("search", NEAR, *base, embeddings=emb)
    assert code == 0 and json.loads(out)[0]["served"], err
    code, out, err = admin("drop-index", *base, "--yes")
    assert code == 0 and json.loads(out) == {"dropped": True, "deleted": 1}, err
    root.execute_command("ACL", "DELUSER", user)


def test_clear_on_a_missing_index_exits_like_every_command(engine: LocalEngine) -> None:
    code, _, err = admin("clear", "--url", engine.url, "--index", "no_such_index",
                         "--all-namespaces", "--yes")  # fmt: skip
    assert code == 1 and "no index 'no_such_index'" in one_line_error(err)


def test_info_shows_the_ef_runtime_in_force(
    engine: LocalEngine, index_name: str, filled: ValkeySemanticCache
) -> None:
    code, out, _ = admin("info", "--url", engine.url, "--index", index_name, "--json")
    assert code == 0 and json.loads(out)["ef_runtime_per_query"] == filled.ef_runtime_in_force


def test_a_failing_embedding_model_is_one_line_without_third_party_traceback(
    engine: LocalEngine,
    index_name: str,
    filled: Any,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
) -> None:
    """Bedrock without credentials: langchain_aws logs the failure with its traceback
    (43 lines) before raising; the command prints one line that names --embedding-model."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_REGION", "us-west-2")
    base = ("--url", engine.url, "--index", index_name)
    code, _, err = admin("search", NEAR, *base, "--embedding-model", "amazon.titan-embed-text-v2:0")
    assert code == 4 and "--embedding-model" in one_line_error(err)
    assert [r.name for r in caplog.records if r.name.startswith("langchain_aws")] == []


def test_search_on_a_local_384_d_index_needs_no_bedrock(
    engine: LocalEngine, index_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from langchain_valkey_semcache import admin as admin_module

    monkeypatch.delenv("EMBEDDING_MODEL_ID", raising=False)
    chosen: list[str] = []

    def embeddings(args: Any, dim: int | None) -> TableEmbeddings:
        chosen.append(args.embedding_model or admin_module._default_model(dim))
        return TableEmbeddings(dims=384)

    monkeypatch.setattr(admin_module, "_embeddings", embeddings)
    cache = ValkeySemanticCache(TableEmbeddings(dims=384), url=engine.url, index_name=index_name)
    assert cache.store(Q, "a")
    code, _, _ = admin("search", Q, "--url", engine.url, "--index", index_name)
    assert code == 0 and chosen == ["local-minilm"]
