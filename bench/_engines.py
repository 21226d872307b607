"""The engines a benchmark runs on, side by side: RediSearch 2.10 and valkey-search 1.2.1.

valkey-search builds come from ``../shared/engines`` (see ``ENGINES.md`` there) or from
``--valkey-search``. To build large indexes once and reuse them across runs, start the
servers yourself and pass ``--attach URL URL --keep`` to ``speed.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import valkey

from langchain_valkey_semcache.engine import LocalEngine

ROOT = Path(__file__).resolve().parent.parent
ENGINES_DIRS = (ROOT.parent / "shared" / "engines", Path("/work/shared/engines"))


@dataclass(frozen=True)
class EngineChoice:
    label: str  # as printed in the tables
    module: str  # "redisearch" or a path to libsearch.so


def valkey_search(version: str = "1.2.1") -> Path | None:
    for folder in ENGINES_DIRS:
        path = folder / f"valkey-search-{version}" / "libsearch.so"
        if path.is_file():
            return path
    return None


def choices(names: list[str], valkey_search_path: str | None) -> list[EngineChoice]:
    """``names`` among ``redisearch`` and ``valkey-search``; a missing build is an error."""
    out = []
    for name in names:
        if name == "redisearch":
            out.append(EngineChoice("RediSearch 2.10", "redisearch"))
        elif name == "valkey-search":
            path = Path(valkey_search_path) if valkey_search_path else valkey_search()
            if path is None or not path.is_file():
                raise SystemExit("no valkey-search build: pass --valkey-search PATH/libsearch.so")
            out.append(EngineChoice("valkey-search 1.2.1", str(path)))
        else:
            raise SystemExit(f"unknown engine {name!r} (redisearch, valkey-search)")
    return out


def start(choice: EngineChoice) -> LocalEngine:
    """A throw-away local engine with this module."""
    return LocalEngine(module=choice.module).start()


def used_memory(url: str) -> int:
    client = valkey.Valkey.from_url(url)
    try:
        return int(client.info("memory")["used_memory"])
    finally:
        client.close()


def cpu_seconds(url: str) -> float:
    """CPU the server process used so far, all threads (INFO cpu)."""
    client = valkey.Valkey.from_url(url)
    try:
        info = client.info("cpu")
        return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])
    finally:
        client.close()
