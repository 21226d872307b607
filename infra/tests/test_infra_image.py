"""The agent's Docker image: Dockerfile contents and what the CDK asset stages."""

from __future__ import annotations

import re
from pathlib import Path

import aws_cdk as cdk
import pytest
from infra_helpers import INFRA_DIR
from semcache_infra import DOCKER_ASSET_INCLUDE, agent_image_asset

DOCKERFILE = INFRA_DIR / "Dockerfile"
MAX_STAGED_BYTES = 5 * 1024 * 1024

FORBIDDEN_PARTS = {
    ".venv",
    ".git",
    "cdk.out",
    "tests",
    "bench",
    "node_modules",
    "__pycache__",
    ".pytest_cache",
    ".mypy_cache",
    ".ruff_cache",
}


def _instructions() -> list[tuple[str, str]]:
    lines: list[tuple[str, str]] = []
    buffer = ""
    for raw in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        buffer += line.rstrip("\\").strip() + " "
        if not line.endswith("\\"):
            keyword, _, rest = buffer.strip().partition(" ")
            lines.append((keyword.upper(), rest.strip()))
            buffer = ""
    return lines


def _staged_files(asset_dir: Path) -> set[str]:
    return {p.relative_to(asset_dir).as_posix() for p in asset_dir.rglob("*") if p.is_file()}


# ------------------------------------------------------------------ Dockerfile
def test_base_image_is_arm64_python_slim() -> None:
    froms = [rest for kw, rest in _instructions() if kw == "FROM"]
    assert len(froms) == 1
    assert re.fullmatch(r"--platform=linux/arm64 python:3\.1[12]-slim", froms[0]), froms[0]


def test_runs_as_non_root_user() -> None:
    instructions = _instructions()
    users = [(i, rest) for i, (kw, rest) in enumerate(instructions) if kw == "USER"]
    assert users, "no USER instruction"
    last_index, user = users[-1]
    assert user not in {"root", "0", "0:0"}
    cmd_index = max(i for i, (kw, _) in enumerate(instructions) if kw == "CMD")
    assert last_index < cmd_index
    assert any(kw == "RUN" and "useradd" in rest and user in rest for kw, rest in instructions)


def test_installs_the_package_with_agentcore_extra_and_serves_8080() -> None:
    instructions = _instructions()
    copies = [rest for kw, rest in instructions if kw == "COPY"]
    copied = {src.rstrip("/") for rest in copies for src in rest.split()[:-1]}
    assert copied == {"pyproject.toml", "README.md", "langchain_valkey_semcache", "agentcore_app"}
    runs = " ".join(rest for kw, rest in instructions if kw == "RUN")
    assert "pip install --no-cache-dir '.[agentcore]'" in runs
    assert ("EXPOSE", "8080") in instructions
    assert instructions[-1] == ("CMD", '["python", "-m", "agentcore_app"]')


def test_everything_the_dockerfile_copies_is_in_the_asset_allowlist() -> None:
    copies = [rest for kw, rest in _instructions() if kw == "COPY"]
    copied = {src.rstrip("/") for rest in copies for src in rest.split()[:-1]}
    assert copied | {"infra/Dockerfile"} == set(DOCKER_ASSET_INCLUDE)


# --------------------------------------------------------------- asset staging
@pytest.fixture()
def fake_repo(tmp_path: Path) -> Path:
    """A repository root with what the image needs plus every kind of junk."""
    root = tmp_path / "repo"
    files = {
        "pyproject.toml": "[project]\nname='x'\n",
        "README.md": "# x\n",
        "langchain_valkey_semcache/__init__.py": "",
        "langchain_valkey_semcache/cache.py": "X = 1\n",
        "langchain_valkey_semcache/__pycache__/cache.cpython-311.pyc": "junk",
        "agentcore_app/__init__.py": "",
        "agentcore_app/__main__.py": "",
        "agentcore_app/stale.pyc": "junk",
        "infra/Dockerfile": DOCKERFILE.read_text(),
        "infra/app.py": "",
        "infra/cdk.out/manifest.json": "{}",
        "infra/tests/test_x.py": "",
        ".venv/lib/python3.11/site-packages/big.bin": "0" * (2 * 1024 * 1024),
        ".git/HEAD": "ref: refs/heads/main\n",
        "cdk.out/tree.json": "{}",
        "tests/test_cache.py": "",
        "bench/run.py": "",
        "node_modules/x/index.js": "",
        ".pytest_cache/v/cache": "",
        "Makefile": "all:\n",
        ".env": "SECRET=1\n",
    }
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    return root


def test_asset_stages_only_what_the_image_needs(fake_repo: Path, tmp_path: Path) -> None:
    outdir = tmp_path / "out"
    app = cdk.App(outdir=str(outdir))
    stack = cdk.Stack(
        app, "AssetOnly", env=cdk.Environment(account="123456789012", region="us-west-2")
    )
    asset = agent_image_asset(stack, "AgentImage", fake_repo)
    app.synth()
    staged = _staged_files(outdir / f"asset.{asset.asset_hash}")
    assert staged == {
        "pyproject.toml",
        "README.md",
        "langchain_valkey_semcache/__init__.py",
        "langchain_valkey_semcache/cache.py",
        "agentcore_app/__init__.py",
        "agentcore_app/__main__.py",
        "infra/Dockerfile",
    }


def test_real_repo_asset_is_small_and_clean(synth_container) -> None:
    synth = synth_container
    asset_dir = synth.outdir / f"asset.{synth.stack.image_asset.asset_hash}"
    assert asset_dir.is_dir()
    files = [p for p in asset_dir.rglob("*") if p.is_file()]
    total = sum(p.stat().st_size for p in files)
    assert total < MAX_STAGED_BYTES, f"staged Docker context is {total} bytes"
    for path in files:
        rel = path.relative_to(asset_dir)
        assert not FORBIDDEN_PARTS & set(rel.parts), rel
        assert path.suffix not in {".pyc", ".pyo"}, rel
        assert rel.parts[0] in {
            "pyproject.toml",
            "README.md",
            "langchain_valkey_semcache",
            "agentcore_app",
            "infra",
        }, rel
    assert (asset_dir / "infra" / "Dockerfile").is_file()
