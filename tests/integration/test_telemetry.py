"""OpenTelemetry spans and metrics, read back with the SDK's in-memory exporter and reader."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, HumanMessage
from langgraph.graph import MessagesState
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from langchain_valkey_semcache import CacheUnavailableError, ValkeySemanticCache, names
from langchain_valkey_semcache.engine import LocalEngine, free_port
from langchain_valkey_semcache.graph import with_semantic_cache
from tests.conftest import Api
from tests.support import TableEmbeddings, at_similarity

Q = "What is semantic caching?"
NEAR = "What does semantic caching mean?"
FAR = "Is semantic caching hard?"


@dataclass
class Otel:
    spans: InMemorySpanExporter
    reader: InMemoryMetricReader
    tracer_provider: TracerProvider
    meter_provider: MeterProvider

    def finished(self, name: str) -> list[ReadableSpan]:
        return [s for s in self.spans.get_finished_spans() if s.name == name]

    def points(self, metric: str) -> list[Any]:
        data = self.reader.get_metrics_data()
        out: list[Any] = []
        for rm in data.resource_metrics if data else []:
            for sm in rm.scope_metrics:
                for m in sm.metrics:
                    if m.name == metric:
                        out.extend(m.data.data_points)
        return out

    def count(self, metric: str, **attributes: str) -> float:
        """Sum of a counter's points whose attributes include ``attributes``."""
        return sum(
            p.value
            for p in self.points(metric)
            if all(p.attributes.get(k.replace("_", ".")) == v for k, v in attributes.items())
        )


@pytest.fixture
def otel() -> Iterator[Otel]:
    spans = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(spans))
    reader = InMemoryMetricReader()
    meter_provider = MeterProvider(metric_readers=[reader])
    yield Otel(spans, reader, tracer_provider, meter_provider)
    tracer_provider.shutdown()
    meter_provider.shutdown()


def _cache(url: str, index_name: str, otel: Otel, **kwargs: Any) -> ValkeySemanticCache:
    table = {Q: at_similarity(1.0), NEAR: at_similarity(0.95), FAR: at_similarity(0.5)}
    return ValkeySemanticCache(
        TableEmbeddings(table),
        url=url,
        index_name=index_name,
        tracer_provider=otel.tracer_provider,
        meter_provider=otel.meter_provider,
        **kwargs,
    )


async def test_hit_and_miss(engine: LocalEngine, index_name: str, otel: Otel, mode: str) -> None:
    cache = _cache(engine.url, index_name, otel)
    api = Api(cache, mode)
    assert await api.store(Q, "Reusing answers by meaning.", namespace="acme")
    assert (await api.search(Q, namespace="acme")).hit.exact
    assert not (await api.search(NEAR, namespace="acme")).hit.exact
    assert (await api.search(FAR, namespace="acme")).hit is None

    exact, semantic, miss = otel.finished("semcache.lookup")
    digest = cache._core.namespace_tag("acme")
    for span in (exact, semantic, miss):
        assert span.attributes["semcache.namespace.digest"] == digest
        assert span.attributes["semcache.engine"] == cache.engine[0] is not None
        assert span.attributes["db.system.name"] == "valkey"
        assert span.status.status_code is not StatusCode.ERROR
    assert exact.attributes["semcache.hit.kind"] == "exact"
    assert semantic.attributes["semcache.outcome"] == "semantic_hit"
    assert semantic.attributes["semcache.hit.kind"] == "semantic"
    assert semantic.attributes["semcache.similarity"] == pytest.approx(0.95, abs=1e-3)
    assert semantic.attributes["semcache.threshold"] == 0.9
    assert semantic.attributes["semcache.candidates"] == 1
    assert semantic.attributes["semcache.verifier.rejections"] == 0
    assert {e.name for e in semantic.events} >= {"semcache.embedding", "semcache.vector_search"}
    assert miss.attributes["semcache.outcome"] == "miss"
    assert miss.attributes["semcache.hit"] is False
    assert miss.attributes["semcache.nearest_similarity"] == pytest.approx(0.5, abs=1e-3)
    [store] = otel.finished("semcache.store")
    entries = store.attributes["semcache.entries"]
    assert type(entries) is int and entries == 1  # a count, never the bool True

    assert otel.count("semcache.lookups", semcache_outcome="exact_hit") == 1
    assert otel.count("semcache.lookups", semcache_outcome="semantic_hit") == 1
    assert otel.count("semcache.lookups", semcache_outcome="miss") == 1
    assert otel.count("semcache.stores", semcache_outcome="stored") == 1
    similarity = {p.attributes["semcache.outcome"]: p for p in otel.points("semcache.similarity")}
    assert similarity["semantic_hit"].count == 1
    assert similarity["semantic_hit"].sum == pytest.approx(0.95, abs=1e-3)
    assert similarity["miss"].sum == pytest.approx(0.5, abs=1e-3)
    [lookup_duration] = [
        p for p in otel.points("semcache.lookup.duration")
        if p.attributes["semcache.outcome"] == "miss"
    ]  # fmt: skip
    assert 0 < lookup_duration.sum < 5
    assert sum(p.count for p in otel.points("semcache.embedding.duration")) == 2
    assert sum(p.count for p in otel.points("semcache.search.duration")) == 2


async def test_verifier_rejection(
    engine: LocalEngine, index_name: str, otel: Otel, mode: str
) -> None:
    cache = _cache(engine.url, index_name, otel, verifier=lambda query, cached, sim: False)
    api = Api(cache, mode)
    await api.store(Q, "an answer")
    result = await api.search(NEAR)
    assert result.hit is None and result.rejected == 1
    [span] = otel.finished("semcache.lookup")
    assert span.attributes["semcache.outcome"] == "miss"
    assert span.attributes["semcache.verifier.rejections"] == 1
    assert span.attributes["semcache.candidates"] == 1
    assert otel.count("semcache.verifier.rejections") == 1
    assert otel.count("semcache.lookups", semcache_outcome="miss") == 1


async def test_dead_engine(index_name: str, otel: Otel, mode: str) -> None:
    url = f"valkey://127.0.0.1:{free_port()}"
    cache = _cache(url, index_name, otel, socket_timeout_seconds=0.2, retry_after_seconds=60)
    api = Api(cache, mode)
    assert (await api.search(Q)).error == "CacheUnavailableError"
    assert (await api.search(Q)).skipped is not None  # backing off
    assert await api.store(Q, "x") is None

    first, second = otel.finished("semcache.lookup")
    assert first.status.status_code is StatusCode.ERROR
    assert first.attributes["error.type"] == "CacheUnavailableError"
    assert first.attributes["semcache.outcome"] == "error"
    assert first.attributes["semcache.engine"] == "unknown"
    assert second.attributes["semcache.outcome"] == "skipped"
    assert second.attributes["semcache.skip_reason"] == "cache unavailable, retrying later"
    errors = otel.count(
        "semcache.lookups", semcache_outcome="error", error_type="CacheUnavailableError"
    )
    assert errors == 1
    assert otel.count("semcache.lookups", semcache_outcome="skipped") == 1
    assert otel.count("semcache.stores", semcache_outcome="skipped") == 1
    eager = _cache(url, index_name, otel, socket_timeout_seconds=0.2, retry_after_seconds=0)
    assert await Api(eager, mode).store(Q, "x") is None
    [_, failed] = otel.finished("semcache.store")
    assert failed.attributes["error.type"] == "CacheUnavailableError"
    stores = otel.count(
        "semcache.stores", semcache_outcome="error", error_type="CacheUnavailableError"
    )
    assert stores == 1


def test_raised_errors_are_recorded_by_kind(index_name: str, otel: Otel) -> None:
    with LocalEngine() as own:
        cache = _cache(own.url, index_name, otel, on_error="raise", socket_timeout_seconds=0.2)
    with pytest.raises(CacheUnavailableError):
        cache.search(Q)
    with pytest.raises(CacheUnavailableError):
        cache.clear()
    [lookup] = otel.finished("semcache.lookup")
    [clear] = otel.finished("semcache.clear")
    for span in (lookup, clear):
        assert span.status.status_code is StatusCode.ERROR
        assert span.attributes["error.type"] == "CacheUnavailableError"
        assert not span.events  # no exception event: its message could quote user text
    assert lookup.attributes["semcache.outcome"] == "error"
    assert otel.count("semcache.lookups", semcache_outcome="error") == 1


SECRET_PROMPT = "Zanzibar quokka pineapple ledger 7731?"
SECRET_ANSWER = "Obsidian marmalade answer 99412."
SECRET_TENANT = "tenant-kestrel-5521"


async def test_no_user_text_leaks(engine: LocalEngine, index_name: str, otel: Otel) -> None:
    cache = _cache(engine.url, index_name, otel)
    key = cache.store(SECRET_PROMPT, SECRET_ANSWER, namespace=SECRET_TENANT)
    assert key is not None
    assert cache.search(SECRET_PROMPT, namespace=SECRET_TENANT).hit is not None
    assert cache.search(SECRET_PROMPT + " now", namespace=SECRET_TENANT).hit is None
    cache.store_many([(SECRET_PROMPT + " again", SECRET_ANSWER)], namespace=SECRET_TENANT)
    cache.update(SECRET_PROMPT, "llm", [])  # a bad value: a store that fails open
    assert cache.lookup(SECRET_PROMPT, "llm") is None
    assert cache.forget(key)
    cache.clear(namespace=SECRET_TENANT)
    dead = _cache(f"valkey://127.0.0.1:{free_port()}", index_name, otel, socket_timeout_seconds=0.2)
    dead.search(SECRET_PROMPT, namespace=SECRET_TENANT)

    spans = otel.spans.get_finished_spans()
    assert {s.name for s in spans} >= {
        "semcache.lookup", "semcache.store", "semcache.store_many", "semcache.forget",
        "semcache.clear",
    }  # fmt: skip
    dumped = json.dumps(
        [
            {
                "name": s.name,
                "attributes": dict(s.attributes or {}),
                "events": [(e.name, dict(e.attributes or {})) for e in s.events],
                "status": s.status.description,
            }
            for s in spans
        ]
    )
    data = otel.reader.get_metrics_data()
    assert data is not None
    dumped += data.to_json()
    for secret in (SECRET_PROMPT, "Zanzibar", SECRET_ANSWER, "Obsidian", SECRET_TENANT, "kestrel"):
        assert secret not in dumped
    assert key not in dumped
    assert key.split(":")[-1] not in dumped  # the entry's own digest either
    assert cache._core.namespace_tag(SECRET_TENANT) in dumped  # what stands in for the tenant


async def test_graph_node_spans_nest_under_the_run(
    engine: LocalEngine, index_name: str, otel: Otel, mode: str
) -> None:
    cache = _cache(engine.url, index_name, otel)
    model = GenericFakeChatModel(messages=iter([AIMessage("first"), AIMessage("second")]))

    def agent(state: MessagesState) -> dict[str, Any]:
        return {"messages": [model.invoke(state["messages"])]}

    graph = with_semantic_cache(agent, cache, llm_string="fake")
    tracer = otel.tracer_provider.get_tracer("test")
    with tracer.start_as_current_span("graph run") as run:
        inputs = {"messages": [HumanMessage(Q)]}
        if mode == "sync":
            graph.invoke(inputs)
        else:
            await graph.ainvoke(inputs)
    run_id = run.get_span_context().span_id
    lookups = otel.finished("semcache.lookup")
    stores = otel.finished("semcache.store")
    assert len(lookups) == 1 and len(stores) == 1
    for span in lookups + stores:
        assert span.parent is not None and span.parent.span_id == run_id
        assert span.context.trace_id == run.get_span_context().trace_id


async def test_stats_and_metrics_count_the_same_outcomes(
    engine: LocalEngine, index_name: str, otel: Otel, mode: str
) -> None:
    """One accounting: stats() and semcache.lookups / semcache.stores from the same
    outcomes; hits, misses, skips and errors apart in both."""
    cache = _cache(engine.url, index_name, otel, max_answer_bytes=2000)
    api = Api(cache, mode)
    await api.store(Q, "answer")
    await api.store(NEAR, "y" * 5000)  # too large: skipped
    await api.search(Q)  # exact hit
    await api.search(NEAR)  # semantic hit
    await api.search(FAR)  # miss
    await api.search("   ")  # skipped
    await api.search(Q, similarity_threshold=2.0)  # error (fails open)
    s = cache.stats()
    lookups = {o: otel.count("semcache.lookups", semcache_outcome=o) for o in names.LOOKUP_OUTCOMES}
    assert lookups == {"exact_hit": s.exact_hits, "semantic_hit": s.hits - s.exact_hits,
                       "miss": s.misses, "skipped": s.skipped, "error": s.errors}  # fmt: skip
    assert lookups == {"exact_hit": 1, "semantic_hit": 1, "miss": 1, "skipped": 1, "error": 1}
    assert s.lookups == sum(lookups.values()) == 5
    stores = {o: otel.count("semcache.stores", semcache_outcome=o) for o in names.STORE_OUTCOMES}
    assert stores == {"stored": s.stores, "skipped": s.store_skipped, "error": s.store_errors}
    assert stores == {"stored": 1, "skipped": 1, "error": 0}
