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
# The pure modules (the flows' rooms and the protocol package) are measured against the unit
# tests alone: scripted replies, no server, about a second per mutant. The integration suite
# kills more of them; ``--with-engine`` adds the integration tests that exercise each.
UNIT = [
    "tests/unit/test_flows.py",
    "tests/unit/test_flows_exact.py",
    "tests/unit/test_inspect_flows.py",
    "tests/unit/test_stats.py",
    "tests/unit/test_ef.py",
    "tests/unit/test_protocol.py",
    "tests/unit/test_parser_properties.py",
    "tests/unit/test_admin_contract.py",
    "tests/unit/test_commands.py",
    "tests/unit/test_flows_failover.py",
    "tests/unit/test_failover_rules.py",
    "tests/unit/test_routing.py",
]
ENGINE_TESTS: dict[str, list[str]] = {
    "_protocol/replies.py": ["tests/integration/test_malformed_replies.py"],
    "_protocol/errors.py": ["tests/integration/test_failures.py"],
    "_flows.py": [
        "tests/integration/test_cache.py",
        "tests/integration/test_failures.py",
        "tests/integration/test_batch_and_verifier.py",
    ],
    "_index.py": [
        "tests/integration/test_engine_choice.py",
        "tests/integration/test_cluster.py",
        "tests/integration/test_ef_runtime.py",
    ],
    "_stats.py": ["tests/integration/test_telemetry.py", "tests/integration/test_failures.py"],
    "_failover.py": [
        "tests/integration/test_failover.py",
        "tests/integration/test_failover_states.py",
    ],
    "_routing.py": ["tests/integration/test_replica_reads.py"],
}
PLAN: dict[str, list[str]] = {
    "_protocol/commands.py": UNIT,
    "_protocol/replies.py": UNIT,
    "_protocol/errors.py": UNIT,
    "_flows.py": UNIT,
    "_index.py": UNIT,
    "_stats.py": UNIT,
    "_failover.py": UNIT,
    "_routing.py": UNIT,
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
    parser.add_argument("--with-engine", action="store_true",
                        help="add the integration tests of the pure modules (slow)")  # fmt: skip
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
        tests = PLAN[target] + (ENGINE_TESTS.get(target, []) if args.with_engine else [])
        work = _workdir(target, tests, args.workdir, args.resume)
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
