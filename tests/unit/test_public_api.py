import langchain_valkey_semcache as pkg


def test_public_api_is_pinned() -> None:
    assert sorted(pkg.__all__) == sorted([
        "AllOf", "Answer", "CacheConfig", "CacheHit", "CacheLookup", "CacheSettings",
        "CacheStats", "CacheUnavailableError", "ClusterDownError", "ConfigurationError",
        "EmbeddingError", "GuardVerifier", "IndexMismatchError", "InvalidInputError",
        "JudgeVerifier", "NoSearchModuleError", "NotPrimaryError", "PrimaryDownError",
        "PromptParts", "PromptSplitter", "ProtocolError", "SearchOptions", "SemanticCacheError",
        "ServerLoadingError", "StoreOptions", "Timings", "ValkeySemanticCache", "Verifier",
        "normalize_prompt", "split_langchain_prompt",
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
        p.name
        for p in root.rglob("*.py")
        if p.parent.name != "_protocol" and '"FT.' in p.read_text()
    ]
    assert offenders == []


def test_one_version_and_settings_that_match_the_config() -> None:
    import dataclasses
    import tomllib
    from pathlib import Path

    from langchain_valkey_semcache import _version

    assert pkg.__version__ == _version.__version__
    pyproject = tomllib.loads((Path(pkg.__file__).parents[1] / "pyproject.toml").read_text())
    assert "version" not in pyproject["project"] and "version" in pyproject["project"]["dynamic"]
    fields = {f.name: f.type for f in dataclasses.fields(pkg.CacheConfig)}
    assert set(pkg.CacheSettings.__annotations__) == set(fields)


def test_every_type_of_a_public_signature_is_exported() -> None:
    import inspect

    import langchain_valkey_semcache.cache as cache_module

    hints = set()
    for name, member in inspect.getmembers(pkg.ValkeySemanticCache):
        if (name == "__init__" or not name.startswith("_")) and callable(member):
            hints |= {str(p.annotation) for p in inspect.signature(member).parameters.values()}
    for exported in ("Answer", "PromptSplitter", "SearchOptions", "StoreOptions", "CacheSettings"):
        assert any(exported in h for h in hints), exported
        assert getattr(cache_module, exported) is getattr(pkg, exported)
