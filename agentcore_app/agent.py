"""The agent: one chat-model node, wrapped with the semantic cache nodes."""

from __future__ import annotations

import os
from typing import Any

from langchain_core.embeddings import Embeddings
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import SystemMessage
from langgraph.graph import START, MessagesState, StateGraph

from langchain_valkey_semcache import ValkeySemanticCache
from langchain_valkey_semcache.graph import with_semantic_cache
from langchain_valkey_semcache.guards import GuardVerifier
from langchain_valkey_semcache.judge import JudgeVerifier, bedrock_judge_model
from langchain_valkey_semcache.verification import AllOf, Verifier

from .offline import OfflineChatModel
from .settings import LOCAL_MINILM, OFFLINE_LLM, Settings, read_secret

SYSTEM_PROMPT = "You are a concise, accurate assistant. Answer in a few short paragraphs."
PROMPT_VERSION = "v1"


def make_embeddings(settings: Settings) -> Embeddings:
    """The configured embeddings, ready: a local model is loaded here, at start."""
    if settings.embedding_model_id == LOCAL_MINILM:
        from langchain_valkey_semcache.embeddings import MiniLMEmbeddings

        return MiniLMEmbeddings().load()
    from langchain_aws import BedrockEmbeddings

    return BedrockEmbeddings(
        model_id=settings.embedding_model_id,
        region_name=settings.aws_region,
        dimensions=settings.vector_dims,
        model_kwargs={"normalize": True},
    )


def make_model(settings: Settings) -> BaseChatModel:
    if settings.llm_model_id == OFFLINE_LLM:
        return OfflineChatModel(latency_ms=settings.offline_llm_latency_ms)
    from langchain_aws import ChatBedrockConverse

    return ChatBedrockConverse(model=settings.llm_model_id, region_name=settings.aws_region)


def make_verifier(settings: Settings, judge_model: BaseChatModel | None = None) -> Verifier:
    """The guards, then (``CACHE_JUDGE=true``) the agent's own Bedrock model as the judge of
    candidates below ``CACHE_JUDGE_TRUST_ABOVE``, within its per-minute budget."""
    if not settings.cache_judge:
        return GuardVerifier()
    judge = JudgeVerifier(
        judge_model or bedrock_judge_model(settings.llm_model_id, settings.aws_region),
        trust_above=settings.cache_judge_trust_above,
        max_calls=settings.cache_judge_max_calls_per_minute,
        per_seconds=60,
    )
    return AllOf(GuardVerifier(), judge)


def make_cache(
    settings: Settings, embeddings: Embeddings, verifier: Verifier | None = None
) -> ValkeySemanticCache:
    username, password = settings.valkey_username, settings.valkey_password
    if settings.valkey_auth_secret_arn:
        username, password = read_secret(settings.valkey_auth_secret_arn, settings.aws_region)
    client_kwargs: dict[str, Any] = {}
    if password:
        client_kwargs["password"] = password
    if username:
        client_kwargs["username"] = username
    if settings.valkey_ssl and os.environ.get("VALKEY_CA_FILE"):
        client_kwargs["ssl_ca_certs"] = os.environ["VALKEY_CA_FILE"]
    return ValkeySemanticCache(
        embeddings,
        url=settings.valkey_url,
        client_kwargs=client_kwargs,
        similarity_threshold=settings.similarity_threshold,
        ttl_seconds=settings.cache_ttl_seconds,
        dims=settings.vector_dims,
        max_prompt_chars=settings.max_prompt_chars,
        index_name=settings.index_name,
        verifier=verifier or make_verifier(settings),
    )


def build_graph(model: BaseChatModel, cache: ValkeySemanticCache, model_id: str) -> Any:
    """START -> cache_lookup -> (hit: END | agent -> cache_write -> END)."""

    async def acall(state: MessagesState) -> dict[str, Any]:
        reply = await model.ainvoke([SystemMessage(SYSTEM_PROMPT), *state["messages"]])
        return {"messages": [reply]}

    def call(state: MessagesState) -> dict[str, Any]:
        reply = model.invoke([SystemMessage(SYSTEM_PROMPT), *state["messages"]])
        return {"messages": [reply]}

    from langchain_core.runnables import RunnableLambda

    agent = StateGraph(MessagesState)
    agent.add_node("model", RunnableLambda(call, afunc=acall, name="model"))
    agent.add_edge(START, "model")
    return with_semantic_cache(
        agent.compile(), cache, llm_string=f"{model_id}|{PROMPT_VERSION}", scope="question"
    )
