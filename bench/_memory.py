"""Where an entry's bytes go, read from the server: MEMORY USAGE of sampled entry keys and
their field values by part. Standard library only: both bench environments import it (ours
with valkey-py, the comparison one with redis-py; the clients share these calls)."""

from __future__ import annotations

from typing import Any

SAMPLE_KEYS = 300
PARTS = ("key_total", "vector", "answer", "prompt", "metadata")


def breakdown(client: Any, pattern: str, names: dict[str, str]) -> dict[str, float]:
    """Average ``MEMORY USAGE`` and field value bytes of up to ``SAMPLE_KEYS`` keys matching
    ``pattern``; ``names`` maps a hash field to its part (others are metadata)."""
    keys = []
    for key in client.scan_iter(match=pattern, count=1000):
        keys.append(key)
        if len(keys) >= SAMPLE_KEYS:
            break
    out = dict.fromkeys(PARTS, 0.0)
    for key in keys:
        out["key_total"] += float(client.memory_usage(key, samples=0) or 0)
        for field, value in client.hgetall(key).items():
            out[names.get(field.decode(), "metadata")] += len(value)
    return {k: v / max(1, len(keys)) for k, v in out.items()}
