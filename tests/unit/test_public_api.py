import langchain_valkey_semcache as pkg


def test_public_api_is_pinned() -> None:
    assert sorted(pkg.__all__) == sorted([
        "AllOf", "CacheConfig", "CacheHit", "CacheLookup", "CacheSettings", "CacheStats",
        "CacheUnavailableError", "ClusterDownError", "ConfigurationError", "EmbeddingError",
        "GuardVerifier", "IndexMismatchError", "InvalidInputError", "JudgeVerifier",
        "NoSearchModuleError",
        "NotPrimaryError", "PrimaryDownError", "PromptParts", "ProtocolError",
        "SemanticCacheError", "ServerLoadingError", "Timings", "ValkeySemanticCache",
        "Verifier", "split_langchain_prompt",
    ])  # fmt: skip
    for name in pkg.__all__:
        assert getattr(pkg, name) is not None


def test_verifiers_at_the_root_are_the_module_classes() -> None:
    from langchain_valkey_semcache.guards import GuardVerifier
    from langchain_valkey_semcache.judge import JudgeVerifier
    from langchain_valkey_semcache.verification import AllOf

    assert (pkg.GuardVerifier, pkg.JudgeVerifier, pkg.AllOf) == (
        GuardVerifier,
        JudgeVerifier,
        AllOf,
    )


def test_no_module_but_protocol_speaks_ft() -> None:
    from pathlib import Path

    root = Path(pkg.__file__).parent
    offenders = [
        p.name for p in root.glob("*.py") if p.name != "_protocol.py" and '"FT.' in p.read_text()
    ]
    assert offenders == []
