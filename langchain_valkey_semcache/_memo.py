"""The vectors lookups computed, kept for the store of the same prompt: LangChain calls
``update`` right after a missed ``lookup``, and the vector need not be paid for twice."""

from __future__ import annotations

import threading
from collections import OrderedDict


class VectorMemo:
    """Vectors computed by lookups, reused by the update of the same prompt (LRU)."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._data: OrderedDict[str, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, text: str, vector: bytes) -> None:
        if not self._size:
            return
        with self._lock:
            self._data[text] = vector
            self._data.move_to_end(text)
            while len(self._data) > self._size:
                self._data.popitem(last=False)

    def get(self, text: str) -> bytes | None:
        with self._lock:
            return self._data.get(text)
