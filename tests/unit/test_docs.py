"""The README agrees with the code and the repository on the facts a first user checks."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from langchain_valkey_semcache import CacheStats

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()


def test_stats_fields_are_all_listed() -> None:
    line = next(x for x in README.splitlines() if x.startswith("cache.stats()"))
    listed = set(re.findall(r"\w+", line.split("#", 1)[1]))
    assert {f.name for f in dataclasses.fields(CacheStats)} | {"hit_rate"} <= listed


def test_the_seed_blog_is_linked_where_first_named() -> None:
    first = README.index("seed blog")
    assert "(https://dev.classmethod.jp/" in README[first : first + 300]


def test_bench_duration_is_the_same_everywhere() -> None:
    pattern = r"about (\d+) minutes"
    said = {
        name: re.findall(pattern, (ROOT / name).read_text())
        for name in ("README.md", "docs/performance.md", "bench/perf.py", "CONTRIBUTING.md")
    }
    said["Makefile help"] = re.findall(pattern, (ROOT / "Makefile").read_text())
    assert all(said.values()), said
    assert len({m for found in said.values() for m in found}) == 1, said


def test_licence_and_project_files_exist() -> None:
    licence = (ROOT / "LICENSE").read_text()
    assert "Apache License" in licence and "Version 2.0, January 2004" in licence
    assert "END OF TERMS AND CONDITIONS" in licence
    assert 'license = "Apache-2.0"' in (ROOT / "pyproject.toml").read_text()
    assert (ROOT / "CHANGELOG.md").read_text().startswith("# Changelog")
    assert "make test" in (ROOT / "CONTRIBUTING.md").read_text()
