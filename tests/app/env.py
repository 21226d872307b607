"""The app's settings for a test: the local engine, the offline model, the 8-d table
embeddings of the tests; ``extra`` variables on top."""

from __future__ import annotations

from agentcore_app.settings import Settings


def local_settings(engine_port: int, **extra: str) -> Settings:
    return Settings.from_env(
        {
            "VALKEY_HOST": "127.0.0.1",
            "VALKEY_PORT": str(engine_port),
            "VALKEY_SSL": "false",
            "LLM_MODEL_ID": "offline",
            "OFFLINE_LLM_LATENCY_MS": "0",
            "VECTOR_DIMS": "8",
            "EMBEDDING_MODEL_ID": "test-table",
            **extra,
        }
    )
