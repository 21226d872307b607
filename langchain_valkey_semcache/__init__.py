"""A semantic cache for LangChain and LangGraph on Valkey vector search."""

from ._config import CacheConfig
from ._entry import CacheHit, CacheLookup, CacheStats, Timings
from ._errors import (
    CacheUnavailableError,
    ClusterDownError,
    ConfigurationError,
    EmbeddingError,
    IndexMismatchError,
    InvalidInputError,
    NoSearchModuleError,
    NotPrimaryError,
    PrimaryDownError,
    ProtocolError,
    SemanticCacheError,
    ServerLoadingError,
)
from ._prompt import PromptParts, split_langchain_prompt
from .cache import CacheSettings, ValkeySemanticCache
from .guards import GuardVerifier
from .judge import JudgeVerifier
from .verification import AllOf, Verifier

__version__ = "0.1.0"

__all__ = [
    "AllOf",
    "CacheConfig",
    "CacheHit",
    "CacheLookup",
    "CacheSettings",
    "CacheStats",
    "CacheUnavailableError",
    "ClusterDownError",
    "ConfigurationError",
    "EmbeddingError",
    "GuardVerifier",
    "IndexMismatchError",
    "InvalidInputError",
    "JudgeVerifier",
    "NoSearchModuleError",
    "NotPrimaryError",
    "PrimaryDownError",
    "PromptParts",
    "ProtocolError",
    "SemanticCacheError",
    "ServerLoadingError",
    "Timings",
    "ValkeySemanticCache",
    "Verifier",
    "split_langchain_prompt",
]
