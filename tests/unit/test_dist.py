"""``make dist``: the wheel and sdist build, hold the library only, and install and import."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from pathlib import Path

import langchain_valkey_semcache as pkg

ROOT = Path(__file__).resolve().parents[2]
DIST = "langchain_valkey_semcache-0.1.0"


def test_wheel_and_sdist_build_install_and_import(tmp_path: Path) -> None:
    out = tmp_path / "dist"
    build = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    wheel = out / f"{DIST}-py3-none-any.whl"
    sdist = out / f"{DIST}.tar.gz"
    assert wheel.exists() and sdist.exists(), sorted(p.name for p in out.iterdir())

    names = zipfile.ZipFile(wheel).namelist()
    assert {n.split("/")[0] for n in names} == {"langchain_valkey_semcache", f"{DIST}.dist-info"}
    assert "langchain_valkey_semcache/py.typed" in names
    assert f"{DIST}.dist-info/licenses/LICENSE" in names
    with tarfile.open(sdist) as tar:
        files = {n.removeprefix(f"{DIST}/") for n in tar.getnames()}
    assert {"LICENSE", "README.md", "pyproject.toml", "langchain_valkey_semcache/cache.py"} <= files
    assert not any(f.startswith(("agentcore_app", "infra/", "bench/")) for f in files)

    # A clean venv with the wheel alone; its dependencies come from this environment's
    # site-packages as a plain path (a path, so this project's editable install stays off).
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    install = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps",
         "--no-index", str(wheel)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert install.returncode == 0, install.stderr
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    Path(site, "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    names_list = ", ".join(pkg.__all__)
    check = f"""
import importlib.util, pathlib
import langchain_valkey_semcache as p
from langchain_valkey_semcache import {names_list}
assert pathlib.Path(p.__file__).is_relative_to({str(venv)!r}), p.__file__
assert p.__version__ == "0.1.0"
assert importlib.util.find_spec("agentcore_app") is None
print("ok", len(p.__all__))
"""
    run = subprocess.run(
        [str(python), "-c", check], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == f"ok {len(pkg.__all__)}"
