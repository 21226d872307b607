"""A semantic cache for LangChain and LangGraph on Valkey vector search."""

from ._config import CacheConfig
from ._entry import CacheHit, CacheLookup, CacheStats, Timings
from ._errors import (
    CacheUnavailableError,
    ConfigurationError,
    EmbeddingError,
    IndexMismatchError,
    InvalidInputError,
    NoSearchModuleError,
    ProtocolError,
    SemanticCacheError,
)
from ._prompt import PromptParts, split_langchain_prompt
from .cache import CacheSettings, ValkeySemanticCache

__version__ = "0.1.0"

__all__ = [
    "CacheConfig",
    "CacheHit",
    "CacheLookup",
    "CacheSettings",
    "CacheStats",
    "CacheUnavailableError",
    "ConfigurationError",
    "EmbeddingError",
    "IndexMismatchError",
    "InvalidInputError",
    "NoSearchModuleError",
    "PromptParts",
    "ProtocolError",
    "SemanticCacheError",
    "Timings",
    "ValkeySemanticCache",
    "split_langchain_prompt",
]
