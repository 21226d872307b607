"""How an answer is stored: lean LangChain JSON, zstd-compressed above a size.

The hash's ``answer`` field holds either JSON text (``langchain_core.load``; every entry
written before compression, and short answers) or a zstd frame of that JSON, told apart by
the frame's magic number (JSON text starts with ``[``). Both decode, so old entries stay
readable. The JSON is lean: a ``ChatGeneration``'s ``text`` is dropped, because
``ChatGeneration`` always recomputes it from its message (it would store the answer twice),
and separators carry no spaces.
"""

from __future__ import annotations

import json
import threading
from typing import Any

import zstandard

ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
# Measured by bench/cost.py --codec-sweep (real English answers of 100-6,000 characters): below
# about 200 bytes of JSON a frame saves little or nothing; level 3 compresses a 1,500-character
# answer within a few percent of level 19 at a fraction of its time.
COMPRESS_FROM_BYTES = 200
LEVEL = 3
# Never inflate a stored frame beyond this (a corrupt or hostile entry); the largest answer
# the configuration allows is 512 MiB (``max_answer_bytes``).
MAX_DECODED_BYTES = 512 * 1024 * 1024

_CHAT_GENERATION = ["langchain", "schema", "output", "ChatGeneration"]


class _Contexts(threading.local):
    """zstd contexts are not thread-safe: one pair per thread."""

    def __init__(self) -> None:
        self.compressor = zstandard.ZstdCompressor(level=LEVEL)
        self.decompressor = zstandard.ZstdDecompressor()


_contexts = _Contexts()


def lean(parsed: Any) -> str:
    """Compact JSON of a parsed ``dumps`` list, without ChatGenerations' derived ``text``."""
    if isinstance(parsed, list):
        for item in parsed:
            if (
                isinstance(item, dict)
                and item.get("id") == _CHAT_GENERATION
                and isinstance(item.get("kwargs"), dict)
                and "message" in item["kwargs"]
            ):
                item["kwargs"].pop("text", None)
    return json.dumps(parsed, separators=(",", ":"), ensure_ascii=False)


def encode(payload: str, compress: bool = True) -> str | bytes:
    """The stored form of JSON ``payload``: a zstd frame when that is smaller."""
    raw = payload.encode("utf-8")
    if not compress or len(raw) < COMPRESS_FROM_BYTES:
        return payload
    frame: bytes = _contexts.compressor.compress(raw)
    return frame if len(frame) < len(raw) else payload


def decode(stored: str | bytes) -> str:
    """JSON text of a stored answer; ValueError when it cannot be decoded."""
    if isinstance(stored, str):
        return stored
    if stored.startswith(ZSTD_MAGIC):
        try:
            size = zstandard.frame_content_size(stored)
            if size > MAX_DECODED_BYTES:
                raise ValueError(f"zstd frame declares {size} bytes")
            raw = _contexts.decompressor.decompress(stored, max_output_size=MAX_DECODED_BYTES)
        except zstandard.ZstdError as exc:
            raise ValueError(f"corrupt zstd frame: {exc}") from exc
        return bytes(raw).decode("utf-8")
    return stored.decode("utf-8")
