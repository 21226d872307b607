"""Mutation testing of the cache's core modules with mutmut 3 (``make mutation``).

mutmut 3 runs the tests from a copy of the project under ``mutants/``; this driver gives
each target file its own copy under ``build/mutation/<file>/`` with a ``[tool.mutmut]``
section naming only that file and the tests that exercise it, runs ``mutmut run`` there
within a time cap, and prints one table of killed / survived / not checked per file.

    python tools/mutation.py [--cap-seconds 900] [--max-children 2] [--only _flows.py] [--resume]

A capped run reports the mutants it checked: "not checked" counts the rest. Surviving
mutants are listed with ``mutmut results`` / ``mutmut show NAME`` inside the work folder.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "langchain_valkey_semcache"

# Target file -> the tests that exercise it (the relevant subset: mutation runs are CPU-heavy;
# the slow load, hostile-input and shipped-defaults tests are left to the suite itself).
FLOWS_UNIT = ["tests/unit/test_flows.py", "tests/unit/test_inspect_flows.py"]
PROTOCOL_UNIT = ["tests/unit/test_protocol.py", "tests/unit/test_parser_properties.py"]
PLAN: dict[str, list[str]] = {
    # The protocol package: pure, so its unit tests and the scripted flows do most of it.
    "_protocol/commands.py": [*PROTOCOL_UNIT, *FLOWS_UNIT],
    "_protocol/replies.py": [
        *PROTOCOL_UNIT, *FLOWS_UNIT, "tests/integration/test_malformed_replies.py",
    ],
    "_protocol/errors.py": [
        *PROTOCOL_UNIT, "tests/unit/test_admin_contract.py",
        "tests/integration/test_failures.py",
    ],
    # What was _core.py: the flows, the index's life and the engine's facts, the accounting.
    "_flows.py": [
        *FLOWS_UNIT, "tests/integration/test_cache.py", "tests/integration/test_failures.py",
        "tests/integration/test_batch_and_verifier.py",
    ],
    "_index.py": [
        *FLOWS_UNIT, "tests/unit/test_ef.py", "tests/integration/test_engine_choice.py",
        "tests/integration/test_ef_runtime.py",  # the spread check: test_flows.py
    ],
    "_stats.py": [
        *FLOWS_UNIT, "tests/integration/test_telemetry.py", "tests/integration/test_failures.py",
    ],
    "guards.py": ["tests/unit/test_guards.py", "tests/integration/test_minilm.py"],
    "cache.py": [
        "tests/integration/test_cache.py", "tests/integration/test_langchain.py",
        "tests/integration/test_failures.py", "tests/integration/test_batch_and_verifier.py",
        "tests/unit/test_public_api.py",
    ],
}  # fmt: skip
# The engine the tests start: production's valkey-search 1.2.1 when its build is beside the
# project (its cluster and engine-choice tests need it; RediSearch skips them), else whatever
# SEMCACHE_SEARCH_MODULE says (RediSearch when unset).
ENGINE = ROOT.parent / "shared" / "engines" / "valkey-search-1.2.1" / "libsearch.so"
DESELECT = "not shipped_defaults and not threads_and_tasks and not bad_vectors and not round_trips"


def _workdir(target: str, tests: list[str], base: Path, resume: bool = False) -> Path:
    work = base / target.removesuffix(".py")
    if resume and (work / "mutants").is_dir():
        return work  # mutmut checks only the mutants that have no result yet
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for folder in (PACKAGE, "tests", "agentcore_app"):
        shutil.copytree(ROOT / folder, work / folder, ignore=ignore)
    settings = "\n".join(
        [
            "",
            "[tool.mutmut]",
            f'source_paths = ["{PACKAGE}/"]',
            f'only_mutate = ["{PACKAGE}/{target}"]',
            f"pytest_add_cli_args_test_selection = {json.dumps(tests)}",
            "pytest_add_cli_args = "
            + json.dumps(["-p", "no:randomly", "-p", "no:cacheprovider", "-q", "-k", DESELECT]),
            "mutate_only_covered_lines = true",
            "",
        ]
    )
    (work / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text() + settings)
    return work


def _stats(work: Path) -> dict[str, int]:
    path = work / "mutants" / "mutmut-cicd-stats.json"
    subprocess.run([sys.executable, "-m", "mutmut", "export-cicd-stats"], cwd=work,
                   capture_output=True, check=False)  # fmt: skip
    return json.loads(path.read_text()) if path.exists() else {}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cap-seconds", type=float, default=900.0, help="per file")
    parser.add_argument("--max-children", type=int, default=2)
    parser.add_argument("--only", action="append", choices=sorted(PLAN))
    parser.add_argument("--workdir", type=Path, default=ROOT / "build" / "mutation")
    parser.add_argument("--resume", action="store_true",
                        help="continue a capped run in its work folder (the code must not "
                        "have changed since)")  # fmt: skip
    args = parser.parse_args(argv)
    env = dict(os.environ)
    if "SEMCACHE_SEARCH_MODULE" not in env and ENGINE.is_file():
        env["SEMCACHE_SEARCH_MODULE"] = str(ENGINE)
    print(f"engine: {env.get('SEMCACHE_SEARCH_MODULE', 'redisearch')}", file=sys.stderr)
    rows = []
    for target in args.only or list(PLAN):
        work = _workdir(target, PLAN[target], args.workdir, args.resume)
        started = time.monotonic()
        command = [sys.executable, "-m", "mutmut", "run", "--max-children", str(args.max_children)]
        try:
            with (work / "mutmut.log").open("wb") as log:
                subprocess.run(command, cwd=work, timeout=args.cap_seconds, check=False,
                               env=env, stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
            capped = False
        except subprocess.TimeoutExpired:
            capped = True
        s = _stats(work)
        done = {k: s.get(k, 0) for k in ("killed", "timeout", "survived", "skipped", "no_tests",
                                         "suspicious", "segfault")}  # fmt: skip
        checked = done["killed"] + done["timeout"] + done["survived"]
        score = f"{(done['killed'] + done['timeout']) / checked:.1%}" if checked else "-"
        spent = f"{time.monotonic() - started:.0f}" + (" (capped)" if capped else "")
        if not checked:
            spent += " (no mutant ran: see mutmut.log)"
        rows.append((target, s.get("total", 0), done["killed"], done["timeout"], done["survived"],
                     s.get("total", 0) - sum(done.values()), score, spent))  # fmt: skip
    header = ("file", "mutants", "killed", "timeout", "survived", "not checked", "score", "s")
    print(" | ".join(header))
    print(" | ".join("---" for _ in header))
    for row in rows:
        print(" | ".join(str(x) for x in row))
    return 0


if __name__ == "__main__":
    sys.exit(main())
