"""The LangGraph names the nodes rely on without importing LangGraph's private modules."""

from langchain_valkey_semcache import graph


def test_the_resuming_key_is_langgraphs_own() -> None:
    from langgraph._internal._constants import CONFIG_KEY_RESUMING  # the test may look inside

    assert graph.RESUMING_KEY == CONFIG_KEY_RESUMING
