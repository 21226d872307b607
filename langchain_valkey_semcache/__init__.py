"""A semantic cache for LangChain and LangGraph on Valkey vector search."""

from ._config import CacheConfig, CacheSettings, SearchOptions, StoreOptions
from ._entry import Answer, CacheHit, CacheLookup, CacheStats, Timings
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
from ._prompt import PromptParts, PromptSplitter, split_langchain_prompt
from ._prompt import normalize as normalize_prompt
from ._version import __version__ as __version__
from .cache import ValkeySemanticCache
from .guards import GuardVerifier
from .judge import JudgeVerifier
from .verification import AllOf, Verifier

__all__ = [
    "AllOf",
    "Answer",
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
    "PromptSplitter",
    "ProtocolError",
    "SearchOptions",
    "SemanticCacheError",
    "ServerLoadingError",
    "StoreOptions",
    "Timings",
    "ValkeySemanticCache",
    "Verifier",
    "normalize_prompt",
    "split_langchain_prompt",
]
