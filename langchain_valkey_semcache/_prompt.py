"""What of a LangChain prompt is embedded, and what decides its partition."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from langchain_core.load import dumps, loads
from langchain_core.messages import BaseMessage, HumanMessage


@dataclass(frozen=True)
class PromptParts:
    """``text`` is embedded and compared; ``context`` must match exactly for a hit.

    For a chat prompt, ``text`` is the last human message's text and ``context`` is
    everything else (system prompt, earlier turns, tool messages, non-text parts).
    """

    text: str
    context: str = ""


PromptSplitter = Callable[[str], PromptParts]
"""The type of ``prompt_splitter``: the prompt string LangChain passes, to its parts."""

_SPACE = re.compile(r"\s+")


def normalize(text: str) -> str:
    """Unicode NFKC with runs of whitespace collapsed; the exact-repeat identity."""
    return _SPACE.sub(" ", unicodedata.normalize("NFKC", text)).strip()


def digest(*parts: str) -> str:
    """A 32-hex-char SHA-256 digest of ``parts`` (a safe TAG value for any input)."""
    h = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8", errors="surrogatepass")
        h.update(len(data).to_bytes(8, "big"))
        h.update(data)
    return h.hexdigest()[:32]


def _text_and_rest(message: BaseMessage) -> tuple[str, list[Any]]:
    content = message.content
    if isinstance(content, str):
        return content, []
    texts: list[str] = []
    rest: list[Any] = []
    for block in content:
        if isinstance(block, str):
            texts.append(block)
        elif isinstance(block, dict) and block.get("type") == "text":
            texts.append(str(block.get("text", "")))
        else:
            rest.append(block)
    return "\n".join(texts), rest


def split_messages(messages: list[BaseMessage]) -> PromptParts:
    """Embed the last human message's text; everything else goes into the context."""
    for i in range(len(messages) - 1, -1, -1):
        if isinstance(messages[i], HumanMessage):
            text, rest = _text_and_rest(messages[i])
            others = messages[:i] + messages[i + 1 :]
            context = dumps({"others": others, "attachments": rest}) if others or rest else ""
            return PromptParts(text=text, context=context)
    return PromptParts(text="", context=dumps(messages))


def split_langchain_prompt(prompt: str) -> PromptParts:
    """Split what LangChain passes to ``BaseCache.lookup``.

    Chat models pass ``dumps(messages)``; completion models pass the raw prompt.
    """
    if prompt.startswith("[") and '"lc"' in prompt:
        try:
            messages = loads(prompt, allowed_objects="messages")
        except Exception:  # not JSON, or not messages: a plain prompt after all
            return PromptParts(text=prompt)
        if (
            isinstance(messages, list)
            and messages
            and all(isinstance(m, BaseMessage) for m in messages)
        ):
            return split_messages(messages)
    return PromptParts(text=prompt)
