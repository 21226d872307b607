"""Least-privilege ACL user, tenant and model isolation under hostile values, quiet logs."""

from __future__ import annotations

import logging
import random
import string

import pytest
import valkey

from langchain_valkey_semcache import ConfigurationError, ValkeySemanticCache
from langchain_valkey_semcache import _protocol as proto
from langchain_valkey_semcache.engine import LocalEngine
from tests.conftest import Api
from tests.support import BrokenEmbeddings, TableEmbeddings, at_similarity

Q = "What is semantic caching?"


def acl_rules(index_name: str, password: str, search_engine: str | None) -> list[str]:
    """The rules the README documents for the cache's user (index name + key prefix);
    valkey-search also wants its ``@search`` category (RediSearch has no such category)."""
    category = ["+@search"] if search_engine == proto.VALKEY_SEARCH else []
    return [
        "on", f">{password}", "resetkeys", f"~{index_name}", f"~{index_name}:*",
        "resetchannels", "-@all", *category, "+ft.search", "+ft.info", "+ft.create",
        "+ft.dropindex", "+hset", "+hmget", "+expire", "+persist", "+unlink", "+scan", "+ping",
        "+module|list",
    ]  # fmt: skip


async def test_least_privilege_acl_user(
    engine: LocalEngine, index_name: str, mode: str, search_engine: str
) -> None:
    admin = valkey.Valkey.from_url(engine.url)
    user = f"u_{index_name}"
    admin.execute_command("ACL", "SETUSER", user, *acl_rules(index_name, "app-pw", search_engine))
    admin.hset("someone:else", "secret", "1")
    other = f"other_{index_name}"
    admin.execute_command(*proto.create_index(proto.IndexSpec(other, f"{other}:", 8, 16, 10)))
    url = engine.url.replace("valkey://", f"valkey://{user}:app-pw@")
    cache = ValkeySemanticCache(TableEmbeddings(), url=url, index_name=index_name, on_error="raise")
    api = Api(cache, mode)
    await api.store(Q, "x")
    assert (await api.check(Q)).answer == "x"
    assert (await api.search("other")).hit is None
    assert len(await api.store_many([("a", "1"), ("b", "2")])) == 2
    await api.clear(all_namespaces=True)
    assert await api.drop_index() == 0
    assert admin.hget("someone:else", "secret") == b"1"
    client = valkey.Valkey.from_url(url)
    for command in (("HGET", "someone:else", "secret"), ("FLUSHALL",), ("KEYS", "*")):
        with pytest.raises(valkey.exceptions.NoPermissionError):
            client.execute_command(*command)
    # Another index: refused (valkey-search words it as a plain error, not NOPERM).
    vec = proto.encode_vector([1.0] + [0.0] * 7, 8)
    with pytest.raises(valkey.exceptions.ResponseError, match=r"(?i)permission"):
        client.execute_command(*proto.knn_search(other, "a", "b", vec, 1, 10))
    admin.execute_command(*proto.drop_index(other))


def test_missing_permission_is_explained(
    engine: LocalEngine, index_name: str, search_engine: str
) -> None:
    admin = valkey.Valkey.from_url(engine.url)
    user = f"ro_{index_name}"
    # Without its key patterns the user cannot use the index: RediSearch checks the index
    # name as a key (NOPERM), valkey-search the prefix (a plain error of its own wording).
    patterns = (f"~{index_name}", f"~{index_name}:*")
    rules = [r for r in acl_rules(index_name, "pw", search_engine) if r not in patterns]
    admin.execute_command("ACL", "SETUSER", user, *rules)
    url = engine.url.replace("valkey://", f"valkey://{user}:pw@")
    with pytest.raises(ConfigurationError, match="ACL"):
        ValkeySemanticCache(TableEmbeddings(), url=url, index_name=index_name, dims=8)


HOSTILE = ["}", "|", "*", "@", "\\", '"', "'", " ", "\n", "{a}", "a|b", "-", "$vec", "=>[KNN 1]",
           "(@part:{x})", "é", "中文", "🙂", "", "\x00", "%", ":", "ns:*"]  # fmt: skip


async def test_hostile_tenants_and_models_never_cross(
    engine: LocalEngine, index_name: str, mode: str
) -> None:
    rng = random.Random(20261127)
    alphabet = string.printable + "{}|*@\\\"' \n\téü中🙂"
    randoms = [
        "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40))) for _ in range(1000)
    ]
    hostile = [(t, m) for t in HOSTILE for m in ("", "m|1", "*")]
    pairs = list(dict.fromkeys(hostile + [(r, randoms[-i - 1]) for i, r in enumerate(randoms)]))
    emb = TableEmbeddings({Q: at_similarity(1.0), "paraphrase": at_similarity(0.99)})
    cache = ValkeySemanticCache(emb, url=engine.url, index_name=index_name, on_error="raise")
    api = Api(cache, mode)
    answers = {pair: f"answer {i}" for i, pair in enumerate(pairs)}
    for (tenant, model), answer in answers.items():
        await api.store(Q, answer, namespace=tenant, llm_string=model)
    for (tenant, model), answer in answers.items():
        exact = await api.check(Q, namespace=tenant, llm_string=model)
        near = await api.check("paraphrase", namespace=tenant, llm_string=model)
        assert exact.answer == answer and near.answer == answer
    assert (await api.check(Q, namespace="never-used")) is None
    assert cache.stats().errors == 0


def test_no_prompts_or_secrets_in_logs(
    engine: LocalEngine, index_name: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Errors whose text quotes the prompt reach the logger, but only at DEBUG."""
    secret = "078-05-1120"
    prompt = f"patient John Doe, SSN {secret}"

    def quoting_verifier(query: str, cached: str, similarity: float) -> bool:
        raise RuntimeError(f"verifier could not judge {query!r}")

    with caplog.at_level(logging.DEBUG, logger="langchain_valkey_semcache"):
        down = ValkeySemanticCache(TableEmbeddings(), url="valkey://:hunter2@127.0.0.1:1",
                                   socket_timeout_seconds=0.2)  # fmt: skip
        down.search(prompt)
        down.store(prompt, "answer")
        provider = BrokenEmbeddings(RuntimeError(f"ValidationException: input {prompt!r}"))
        failing = ValkeySemanticCache(provider, url=engine.url, index_name=index_name)
        failing.search(prompt)
        failing.store(prompt, "answer")
        emb = TableEmbeddings({prompt: at_similarity(1.0), "near": at_similarity(0.97)})
        judged = ValkeySemanticCache(emb, url=engine.url, index_name=index_name + "_v",
                                     verifier=quoting_verifier, max_answer_bytes=500)  # fmt: skip
        judged.store(prompt, "answer")
        assert judged.search("near").hit is None  # the verifier failed: rejected
        judged.store(prompt, "an answer far too long " * 50)
    shown = [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO]
    hidden = [r.getMessage() for r in caplog.records if r.levelno < logging.INFO]
    assert len(shown) >= 4, shown  # unreachable, embedding error, verifier, too large
    assert not [m for m in shown if secret in m or "hunter2" in m], shown
    assert any(secret in m for m in hidden), "the quoting errors must reach the logger"
