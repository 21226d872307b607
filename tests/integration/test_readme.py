"""Every Python block of the README and the docs runs as written, or is marked as needing AWS.

Markers, on the line before a ```python block:
- ``<!-- readme-test -->``: the local quick start, run alone; its printed output is checked;
- ``<!-- docs-test -->``: run alone (it starts its own engine);
- ``<!-- docs-test: with NAME, ... -->``: a fragment run with those names bound to working objects
  (``cache`` on the session's engine, ``agent`` a node that answers, ``embeddings``), and
  ``url=...`` pointing at that engine;
- ``<!-- aws -->``: needs AWS (Bedrock, ElastiCache): compiled, not run.
An unmarked Python block fails ``test_every_python_block_is_marked``.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import AIMessage

from langchain_valkey_semcache import ValkeySemanticCache
from langchain_valkey_semcache.engine import LocalEngine
from tests.support import TableEmbeddings

ROOT = Path(__file__).parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"(?:<!-- ([^>]*?) -->\n)?```python\n(.*?)```", flags=re.S)


def _blocks(marker: str | None = None) -> list[tuple[str, str, str]]:
    """(where, marker, code) of every Python block, or of those whose marker starts so."""
    found = []
    for page in PAGES:
        text = page.read_text()
        for m in BLOCK.finditer(text):
            where = f"{page.relative_to(ROOT)}:{text.count(chr(10), 0, m.start()) + 1}"
            found.append((where, m.group(1) or "", m.group(2)))
    return [b for b in found if marker is None or b[1].split(":")[0] == marker]


def test_every_python_block_is_marked() -> None:
    unmarked = [where for where, marker, _ in _blocks() if marker.split(":")[0] not in
                {"readme-test", "docs-test", "aws"}]  # fmt: skip
    assert unmarked == []
    assert len(_blocks("readme-test")) == 2  # the README's and the getting-started page's


@pytest.mark.parametrize("where, code", [(w, c) for w, _, c in _blocks("aws")])
def test_aws_blocks_compile(where: str, code: str) -> None:
    compile(code, where, "exec")


def _unique(blocks: list[tuple[str, str, str]]) -> list[tuple[str, str]]:
    """One (places, code) per distinct code: a block shown on two pages runs once."""
    places: dict[str, list[str]] = {}
    for where, _, code in blocks:
        places.setdefault(code, []).append(where)
    return [(" = ".join(w), code) for code, w in places.items()]


@pytest.mark.parametrize("where, code", _unique(_blocks("readme-test")))
def test_readme_block_runs(where: str, code: str, capsys: pytest.CaptureFixture[str]) -> None:
    exec(compile(code, where, "exec"), {})
    out = capsys.readouterr().out.splitlines()
    assert out[:4] == ["It reuses answers."] * 3 + ["?"]
    assert out[4].startswith("CacheHit(") and "Very." in out[4]
    assert "lookups=5, hits=3, exact_hits=1" in out[5]


def _agent(state: dict[str, Any]) -> dict[str, Any]:
    return {"messages": [AIMessage("It reuses answers.")]}


@pytest.mark.parametrize("where, marker, code", _blocks("docs-test"))
def test_docs_block_runs(where: str, marker: str, code: str, engine: LocalEngine) -> None:
    listed = marker.partition(":")[2].strip().removeprefix("with ")
    names = {n.strip() for n in listed.split(",") if n.strip()}
    embeddings = TableEmbeddings(dims=8)
    available: dict[str, Any] = {
        "embeddings": embeddings,
        "agent": _agent,
        "cache": ValkeySemanticCache(
            embeddings, url=engine.url, index_name=f"d_{uuid.uuid4().hex}"
        ),
    }
    assert names <= available.keys(), names
    scope = {"ValkeySemanticCache": ValkeySemanticCache, **{n: available[n] for n in names}}
    exec(compile(code.replace("url=...", f"url={engine.url!r}"), where, "exec"), scope)
