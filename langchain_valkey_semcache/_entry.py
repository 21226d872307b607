"""Typed values the cache hands out, and how answers are (de)serialized."""

from __future__ import annotations

import json
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

from langchain_core.load import dumps, loads
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, Generation

from . import _codec
from ._errors import InvalidInputError, ProtocolError

Answer = str | BaseMessage | Sequence[Generation]
"""What ``store`` takes: a string, a message (stored as an ``AIMessage``) or a non-empty list
of LangChain ``Generation``."""


@dataclass(frozen=True)
class Timings:
    """Milliseconds spent in each step of one lookup."""

    embedding_ms: float = 0.0
    """The embedding call (0 for an exact repeat; about 0 for a vector from the memo)."""
    search_ms: float = 0.0
    """The vector search (for an exact repeat: its one HMGET)."""
    total_ms: float = 0.0
    """The whole lookup."""
    verify_ms: float = 0.0
    """The verifier, over every candidate it was asked about."""


@dataclass(frozen=True)
class CacheHit:
    """A served entry: the stored generations and why they were served."""

    generations: list[Generation]
    """The stored answer, as LangChain generations."""
    similarity: float
    """Cosine similarity of the two questions, in [0, 1] (1.0 for an exact repeat)."""
    matched_prompt: str
    """The cached question (normalized) whose answer is served."""
    key: str
    """The entry's key: give it to ``forget`` to delete the entry."""
    exact: bool
    """True for an exact repeat of a cached question (no embedding call)."""
    timings: Timings
    """The time spent in each step of the lookup."""

    @property
    def answer(self) -> str:
        """The text of the first generation."""
        return self.generations[0].text if self.generations else ""

    @property
    def message(self) -> AIMessage:
        """The first generation as an AI message (the stored one for chat models)."""
        first = self.generations[0] if self.generations else Generation(text="")
        if isinstance(first, ChatGeneration) and isinstance(first.message, AIMessage):
            return first.message
        return AIMessage(content=first.text)


@dataclass(frozen=True)
class CacheLookup:
    """The outcome of one lookup, hit or miss, with the nearest candidate's similarity."""

    hit: CacheHit | None
    """The served entry, or None for a miss."""
    best_similarity: float | None
    """The nearest live candidate's cosine similarity, in [0, 1]; None: no candidate."""
    timings: Timings
    """The time spent in each step."""
    skipped: str | None = None
    """Why the cache was not asked (e.g. an empty or too long prompt, backing off after an
    outage), or None."""
    error: str | None = None
    """The exception class name of a failed lookup (``on_error="miss"``), or None."""
    threshold: float | None = None
    """The similarity threshold this lookup used."""
    candidates: int = 0
    """The live entries the vector search returned."""
    rejected: int = 0
    """The candidates above ``threshold`` that the verifier turned down."""


@dataclass(frozen=True)
class CacheStats:
    """Counters since construction (or the last ``reset_stats``).

    Every lookup is one of hits (``exact_hits`` among them), misses, skipped (not
    cacheable, or backing off after an outage) and errors; every entry given to a store
    is one of stores, store_skipped and store_errors. ``by_error`` counts failures by
    exception class; ``rejected`` the candidates the verifier turned down.
    """

    lookups: int = 0
    hits: int = 0
    exact_hits: int = 0
    misses: int = 0
    rejected: int = 0
    errors: int = 0
    skipped: int = 0
    stores: int = 0
    store_errors: int = 0
    store_skipped: int = 0
    by_error: dict[str, int] = field(default_factory=dict)

    @property
    def hit_rate(self) -> float:
        """``hits / lookups``, in [0, 1]; 0.0 before any lookup."""
        return self.hits / self.lookups if self.lookups else 0.0


def to_generations(answer: Answer) -> list[Generation]:
    """Normalize what a caller stores into a list of generations."""
    if isinstance(answer, str):
        return [Generation(text=answer)]
    if isinstance(answer, BaseMessage):
        msg = answer if isinstance(answer, AIMessage) else AIMessage(content=answer.content)
        return [ChatGeneration(message=msg)]
    gens = list(answer)
    if not gens or not all(isinstance(g, Generation) for g in gens):
        raise InvalidInputError("an answer is a str, a message or a non-empty list of Generation")
    return gens


def serialize(
    generations: Sequence[Generation], max_bytes: int, compress: bool = True
) -> str | bytes:
    """The stored form of the generations (lean ``langchain_core.load`` JSON, zstd above a
    size unless ``compress`` is False; see ``_codec``), or InvalidInputError."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            payload = dumps(list(generations))
        parsed = json.loads(payload)  # dumps falls back to "not_implemented" stubs: reject those
    except Exception as exc:
        raise InvalidInputError(f"generations cannot be serialized: {exc}") from exc
    if '"type": "not_implemented"' in payload:
        raise InvalidInputError("generations hold objects langchain_core.load cannot serialize")
    payload = _codec.lean(parsed)
    size = len(payload.encode("utf-8"))
    if size > max_bytes:
        raise InvalidInputError(f"answer is {size} bytes, over max_answer_bytes={max_bytes}")
    return _codec.encode(payload, compress)


def deserialize(payload: str | bytes) -> list[Generation]:
    """Inverse of :func:`serialize` (also reads the plain JSON of older entries); a corrupt
    payload is a ProtocolError, never a hit."""
    try:
        text = _codec.decode(payload)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            value = loads(text, allowed_objects="core")
    except Exception as exc:
        raise ProtocolError(f"stored answer cannot be decoded: {exc}") from exc
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(g, Generation) for g in value)
    ):
        raise ProtocolError("stored answer is not a list of generations")
    return value
