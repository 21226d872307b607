"""A stand-in chat model for running without AWS credentials. It says that it is one."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult


class OfflineChatModel(BaseChatModel):
    """Answers every question with a plain notice that no LLM was called.

    ``latency_ms`` simulates a model's response time (the seed blog measured 3.4-4.8 s
    for Claude Haiku 4.5 on Bedrock; the default 1,500 ms keeps the demo short).
    """

    latency_ms: int = 1500
    model_id: str = "offline"

    @property
    def _llm_type(self) -> str:
        return "offline-demo"

    def _text(self, messages: list[BaseMessage]) -> str:
        question = messages[-1].text if messages else ""
        return (
            f"[offline demo model: no LLM was called] You asked: {question!r}. "
            "With AWS credentials this answer comes from Amazon Bedrock."
        )

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        time.sleep(self.latency_ms / 1000)
        return ChatResult(generations=[ChatGeneration(message=AIMessage(self._text(messages)))])

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        await asyncio.sleep(self.latency_ms / 1000)
        return ChatResult(generations=[ChatGeneration(message=AIMessage(self._text(messages)))])

    def _chunks(self, messages: list[BaseMessage]) -> list[ChatGenerationChunk]:
        words = self._text(messages).split(" ")
        last = len(words) - 1
        return [
            ChatGenerationChunk(message=AIMessageChunk(content=w + ("" if i == last else " ")))
            for i, w in enumerate(words)
        ]

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        chunks = self._chunks(messages)
        for chunk in chunks:
            time.sleep(self.latency_ms / 1000 / len(chunks))
            if run_manager:
                run_manager.on_llm_new_token(chunk.text, chunk=chunk)
            yield chunk

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        chunks = self._chunks(messages)
        for chunk in chunks:
            await asyncio.sleep(self.latency_ms / 1000 / len(chunks))
            if run_manager:
                await run_manager.on_llm_new_token(chunk.text, chunk=chunk)
            yield chunk
