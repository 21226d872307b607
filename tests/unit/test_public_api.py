import langchain_valkey_semcache as pkg


def test_public_api_is_pinned() -> None:
    assert sorted(pkg.__all__) == sorted([
        "CacheConfig", "CacheHit", "CacheLookup", "CacheSettings", "CacheStats",
        "CacheUnavailableError", "ConfigurationError", "EmbeddingError", "IndexMismatchError",
        "InvalidInputError", "NoSearchModuleError", "PromptParts", "ProtocolError",
        "SemanticCacheError", "Timings", "ValkeySemanticCache", "split_langchain_prompt",
    ])  # fmt: skip
    for name in pkg.__all__:
        assert getattr(pkg, name) is not None


def test_no_module_but_protocol_speaks_ft() -> None:
    from pathlib import Path

    root = Path(pkg.__file__).parent
    offenders = [
        p.name for p in root.glob("*.py") if p.name != "_protocol.py" and '"FT.' in p.read_text()
    ]
    assert offenders == []
