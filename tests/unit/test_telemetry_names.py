"""The metric names the code emits are the ones docs/observability.md documents."""

import re
from pathlib import Path

from langchain_valkey_semcache import names as _telemetry

OBSERVABILITY = (Path(__file__).parents[2] / "docs" / "observability.md").read_text()


def test_docs_document_every_metric_and_no_other() -> None:
    table = OBSERVABILITY[OBSERVABILITY.index("| metric | instrument, unit |") :].split("\n\n")[0]
    documented = set(re.findall(r"^\| `(semcache\.[a-z_.]+)` \|", table, flags=re.M))
    assert documented == set(_telemetry.METRIC_NAMES)


def test_metric_names_follow_the_semantic_convention_style() -> None:
    for name in _telemetry.METRIC_NAMES:
        assert re.fullmatch(r"semcache(\.[a-z][a-z_]*)+", name), name
        assert not name.endswith(("_total", ".count", "_seconds")), name
