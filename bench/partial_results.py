"""What a coordinator cluster answers in the seconds after a primary dies, before the cluster
has noticed: complete results, partial ones (the dead shard left out, no error), or errors.

A local valkey-search cluster (3 primaries, one replica each, ``--use-coordinator``,
``cluster-node-timeout`` 3 s so that the window is wide enough to probe) holds ``--entries``
questions. The cache (public API, a cluster client, 2 s socket timeout, no back-off) looks up
the paraphrase of every question whose entry lives on shard 0, then shard 0's primary is
SIGKILLed and the same lookups run again at once. Each is counted as: served (the same entry),
nearest entry missing (a miss whose best candidate is another, far entry: the search left the
dead shard out), or an error. A missing nearest entry is served only if another entry clears
the threshold, which these random questions never do; with real questions it can be a
near-duplicate.

Run ``python bench/partial_results.py`` (about 30 s per build).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import valkey
from valkey.cluster import ValkeyCluster

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent.parent))

from _common import ReplayEmbeddings, near, table, unit_rows
from _engines import valkey_search

from langchain_valkey_semcache import ValkeySemanticCache
from langchain_valkey_semcache.engine import SEARCH_MODULE_ENV
from tests.cluster_nodes import start_cluster


def probe(module: Path, entries: int, dims: int) -> tuple[Counter[str], float, float]:
    """(outcomes of the lookups after the kill, the best similarity of another entry found
    when the nearest was missing, the seconds the lookups took after the kill)."""
    os.environ[SEARCH_MODULE_ENV] = str(module)
    rng = np.random.default_rng(7)
    rows = unit_rows(rng, entries, dims)
    paraphrases = near(rng, rows, 0.97)
    vectors = {f"q{i}": rows[i] for i in range(entries)}
    vectors.update({f"like q{i}": paraphrases[i] for i in range(entries)})
    args = ("--cluster-node-timeout", "3000", "--repl-diskless-sync-delay", "0")
    primaries, replicas = start_cluster(coordinator=True, replicas=1, args=args)
    try:
        victim = primaries[0]
        client = ValkeyCluster(host="127.0.0.1", port=primaries[1].port, socket_timeout=2.0,
                               cluster_error_retry_attempts=0)  # fmt: skip
        cache = ValkeySemanticCache(ReplayEmbeddings(vectors), client=client, index_name="partial",
                                    verifier=None, retry_after_seconds=0)  # fmt: skip
        keys = cache.store_many([(f"q{i}", f"answer {i}") for i in range(entries)])
        on_victim = set(valkey.Valkey(port=victim.port).scan_iter(match="partial:*"))
        probes = [(f"like q{i}", k) for i, k in enumerate(keys) if k and k.encode() in on_victim]
        before = [cache.search(q).hit for q, _ in probes]
        assert all(h is not None and h.key == k for h, (_, k) in zip(before, probes, strict=True))
        assert victim.process is not None
        victim.process.kill()
        victim.process.wait()
        killed = time.monotonic()
        seen: Counter[str] = Counter()
        nearest_other = 0.0
        for question, key in probes:
            result = cache.search(question)
            if result.error:
                seen[f"error ({result.error})"] += 1
            elif result.hit is not None and result.hit.key == key:
                seen["served"] += 1
            else:
                seen["nearest entry missing"] += 1
                nearest_other = max(nearest_other, result.best_similarity or 0.0)
        return seen, nearest_other, time.monotonic() - killed
    finally:
        for node in [*primaries, *replicas]:
            node.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=300)
    parser.add_argument("--dims", type=int, default=64)
    parser.add_argument("--versions", nargs="+", default=["1.2.1", "1.0.2"])
    args = parser.parse_args()
    rows = []
    for version in args.versions:
        module = valkey_search(version)
        if module is None:
            raise SystemExit(f"no valkey-search {version} build in ../shared/engines")
        seen, nearest_other, seconds = probe(module, args.entries, args.dims)
        outcomes = ", ".join(f"{k}: {v}" for k, v in sorted(seen.items()))
        rows.append((version, sum(seen.values()), outcomes, f"{seconds:.1f}",
                     f"{nearest_other:.2f}"))  # fmt: skip
    headers = ("valkey-search", "lookups", "outcomes right after the kill", "over (s)",
               "best other similarity")  # fmt: skip
    print(table(headers, rows))


if __name__ == "__main__":
    main()
