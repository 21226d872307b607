"""The README's runnable quick start runs as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).parents[2] / "README.md"


def _blocks() -> list[str]:
    text = README.read_text()
    return re.findall(r"<!-- readme-test -->\n```python\n(.*?)```", text, flags=re.S)


def test_readme_has_runnable_blocks() -> None:
    assert _blocks()


@pytest.mark.parametrize("index", range(len(_blocks())))
def test_readme_block_runs(index: int, capsys: pytest.CaptureFixture[str]) -> None:
    exec(compile(_blocks()[index], f"README block {index}", "exec"), {})
    out = capsys.readouterr().out.splitlines()
    assert out[:4] == ["It reuses answers."] * 3 + ["?"]
    assert out[4].startswith("CacheHit(") and "Very." in out[4]
    assert "lookups=5, hits=3, exact_hits=1" in out[5]
