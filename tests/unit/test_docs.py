"""The README and the docs site agree with the code and the repository on what a user checks."""

from __future__ import annotations

import dataclasses
import importlib.util
import re
import subprocess
from pathlib import Path

import yaml

from langchain_valkey_semcache import CacheConfig, CacheStats

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
DOCS = ROOT / "docs"
PAGES = {p.name: p.read_text() for p in sorted(DOCS.glob("*.md"))}


def _nav_files(nav: object) -> list[str]:
    if isinstance(nav, str):
        return [nav]
    if isinstance(nav, dict):
        return [f for v in nav.values() for f in _nav_files(v)]
    if isinstance(nav, list):
        return [f for v in nav for f in _nav_files(v)]
    return []


def _mkdocs() -> dict[str, object]:
    # mkdocs.yml holds no tags, so the safe loader reads it
    return yaml.safe_load((ROOT / "mkdocs.yml").read_text())  # type: ignore[no-any-return]


def test_readme_is_short() -> None:
    assert len(README.splitlines()) <= 200


def test_readme_links_into_the_site_and_every_page_is_in_the_nav() -> None:
    linked = set(re.findall(r"\]\(docs/([\w-]+\.md)(?:#[\w-]+)?\)", README))
    assert linked and linked <= PAGES.keys(), linked - PAGES.keys()
    nav = set(_nav_files(_mkdocs()["nav"]))
    assert nav == PAGES.keys(), nav ^ PAGES.keys()
    assert {"reference.md", "getting-started.md", "admin.md", "app.md", "deploy.md"} <= nav


def test_api_reference_is_generated_from_the_package() -> None:
    reference = PAGES["reference.md"]
    assert re.search(r"^::: langchain_valkey_semcache$", reference, re.M)
    for module in ("graph", "embeddings", "engine", "guards", "verification", "judge"):
        assert re.search(rf"^::: langchain_valkey_semcache\.{module}$", reference, re.M), module
    assert _mkdocs()["strict"] is True


def test_stats_fields_are_all_listed() -> None:
    line = next(x for x in PAGES["langchain.md"].splitlines() if x.startswith("cache.stats()"))
    listed = set(re.findall(r"\w+", line.split("#", 1)[1]))
    assert {f.name for f in dataclasses.fields(CacheStats)} | {"hit_rate"} <= listed


def test_every_setting_is_in_the_configuration_table() -> None:
    table = set(re.findall(r"^\| `(\w+)`(?: / `(\w+)`)?", PAGES["configuration.md"], re.M))
    documented = {name for pair in table for name in pair if name}
    assert {f.name for f in dataclasses.fields(CacheConfig)} <= documented


def test_the_seed_blog_is_linked_where_first_named() -> None:
    first = README.index("seed blog")
    assert "(https://dev.classmethod.jp/" in README[first : first + 300]


def test_bench_duration_is_the_same_everywhere() -> None:
    pattern = r"about (\d+) minutes"
    said = {
        name: re.findall(pattern, (ROOT / name).read_text())
        for name in ("docs/performance.md", "bench/speed.py", "CONTRIBUTING.md")
    }
    said["Makefile help"] = re.findall(pattern, (ROOT / "Makefile").read_text())
    assert all(said.values()), said
    assert len({m for found in said.values() for m in found}) == 1, said


def test_guard_cost_is_quoted_alike() -> None:
    quoted = {
        name: set(re.findall(r"~(\d+) us per candidate", text))
        for name, text in [
            *PAGES.items(),
            ("bench/guards.py", (ROOT / "bench/guards.py").read_text()),
        ]
    }
    assert len(set().union(*quoted.values())) == 1, quoted


def _shell_blocks() -> list[tuple[str, str]]:
    pages = {"README.md": README, **{f"docs/{n}": t for n, t in PAGES.items()}}
    return [(n, b) for n, t in pages.items() for b in re.findall(r"```bash\n(.*?)```", t, re.S)]


def test_shell_blocks_parse_and_name_real_targets_and_modules() -> None:
    targets = set(re.findall(r"^([\w-]+):", (ROOT / "Makefile").read_text(), re.M))
    for where, block in _shell_blocks():
        proc = subprocess.run(["bash", "-n"], input=block, capture_output=True, text=True)
        assert proc.returncode == 0, (where, block, proc.stderr)
        for target in re.findall(r"(?:^|&& |sudo )make ([\w-]+)", block, re.M):
            assert target in targets, (where, target)
        for module in re.findall(r"python -m ([\w.]+)", block):
            if module in {"pip"}:
                continue
            assert importlib.util.find_spec(module) is not None, (where, module)


def test_licence_and_project_files_exist() -> None:
    licence = (ROOT / "LICENSE").read_text()
    assert "Apache License" in licence and "Version 2.0, January 2004" in licence
    assert "END OF TERMS AND CONDITIONS" in licence
    assert 'license = "Apache-2.0"' in (ROOT / "pyproject.toml").read_text()
    assert (ROOT / "CHANGELOG.md").read_text().startswith("# Changelog")
    assert "make test" in (ROOT / "CONTRIBUTING.md").read_text()
