"""Lookup throughput on a coordinator cluster: primaries only vs primaries + replicas.

A local valkey-search cluster (3 primaries, one replica each, ``--use-coordinator``) is filled
with ``--entries`` entries; then 32 asyncio tasks (``--tasks``) run semantic lookups (paraphrases
at cosine 0.97, embeddings replayed) through the cache's asyncio cluster client, once with
``read_from_replicas=False`` (every KNN on the client's default node, HMGET on primaries) and
once with ``read_from_replicas=True`` (KNN on any node, HMGET over primaries and replicas).
The two set-ups alternate for ``--rounds`` rounds; the table shows each one's median rate and
the ratio. The cluster's six servers, the coordinator's fan-out and this client share the
machine's cores: on the 2-core VM, more nodes answering cannot add CPU, so the ratio shows
what spreading costs or saves there, not what separate hosts would give.

Run ``python bench/replica_reads.py`` (about a minute; ``--quick`` for a smoke run).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from pathlib import Path

import numpy as np
import valkey
from valkey.asyncio.cluster import ValkeyCluster as AsyncValkeyCluster
from valkey.cluster import ValkeyCluster

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent.parent))

from _common import ReplayEmbeddings, near, table, unit_rows
from _engines import valkey_search
from _workload import tasks_rate

from langchain_valkey_semcache import ValkeySemanticCache
from langchain_valkey_semcache.engine import SEARCH_MODULE_ENV
from tests.cluster_nodes import start_cluster


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=5000)
    parser.add_argument("--dims", type=int, default=384)
    parser.add_argument("--tasks", type=int, default=32)
    parser.add_argument("--lookups", type=int, default=3000, help="per round and set-up")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--valkey-search", help="libsearch.so (default: ../shared/engines 1.2.1)")
    parser.add_argument("--quick", action="store_true", help="small sizes, one round")
    args = parser.parse_args()
    if args.quick:
        args.entries, args.lookups, args.rounds = 500, 300, 1
    module = args.valkey_search or valkey_search()
    if module is None:
        raise SystemExit("no valkey-search build: pass --valkey-search PATH/libsearch.so")
    os.environ[SEARCH_MODULE_ENV] = str(module)

    rng = np.random.default_rng(20261206)
    rows = unit_rows(rng, args.entries, args.dims)
    paraphrases = near(rng, rows, 0.97)
    vectors = {f"q{i}": rows[i] for i in range(args.entries)}
    vectors.update({f"like q{i}": paraphrases[i] for i in range(args.entries)})
    emb = ReplayEmbeddings(vectors)
    work = [f"like q{i % args.entries}" for i in rng.permutation(args.lookups)]

    primaries, replicas = start_cluster(
        coordinator=True, replicas=1, args=("--repl-diskless-sync-delay", "0")
    )
    try:
        port = primaries[0].port
        filler = ValkeySemanticCache(emb, client=ValkeyCluster(host="127.0.0.1", port=port),
                                     index_name="bench_replicas", verifier=None)  # fmt: skip
        batch = 500
        for start in range(0, args.entries, batch):
            end = min(args.entries, start + batch)
            filler.store_many([(f"q{i}", f"answer {i}") for i in range(start, end)])
        for node in primaries:
            valkey.Valkey(port=node.port).execute_command("WAIT", 1, 10000)

        def cache(spread: bool) -> ValkeySemanticCache:
            kwargs = {"host": "127.0.0.1", "port": port, "read_from_replicas": spread}
            return ValkeySemanticCache(emb, client=ValkeyCluster(**kwargs),  # type: ignore[arg-type]
                                       async_client=AsyncValkeyCluster(**kwargs),  # type: ignore[arg-type]
                                       index_name="bench_replicas", verifier=None)  # fmt: skip

        rates: dict[str, list[float]] = {"primaries only": [], "primaries + replicas": []}
        hits: dict[str, int] = dict.fromkeys(rates, 0)
        for _ in range(args.rounds):
            for label, spread in (("primaries only", False), ("primaries + replicas", True)):
                c = cache(spread)
                rates[label].append(tasks_rate(c, c.asearch, work, args.tasks))
                hits[label] += c.stats().hits
        base = statistics.median(rates["primaries only"])
        out = [
            (label, f"{statistics.median(r):.0f}", f"{statistics.median(r) / base:.2f}",
             f"{hits[label] / (len(work) * args.rounds + args.rounds):.3f}")
            for label, r in rates.items()
        ]  # fmt: skip
        print(f"\n{args.entries} entries x {args.dims}-d, {args.tasks} asyncio tasks, "
              f"{args.lookups} lookups x {args.rounds} rounds, {os.cpu_count()} CPUs, "
              f"valkey-search at {module}")  # fmt: skip
        print(table(("set-up", "lookups/s (median)", "ratio", "hit rate"), out))
    finally:
        for node in [*primaries, *replicas]:
            node.stop()


if __name__ == "__main__":
    main()
