"""``python -m langchain_valkey_semcache``: look at and manage a cache's index from a shell.

Subcommands: ``info``, ``stats``, ``search "question"``, ``clear``, ``drop-index``. The
server is ``--url`` or the AgentCore app's variables (VALKEY_HOST, VALKEY_PORT, VALKEY_SSL,
VALKEY_USERNAME, VALKEY_PASSWORD, VALKEY_CA_FILE). Every command runs the library's own
flows through its own driver. Exit codes: 0 ok, 1 not found (no such index, no search
module), 2 bad usage, 3 unreachable (connection, timeout, authentication).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict
from typing import Any, TextIO, TypeVar

from langchain_core.embeddings import Embeddings

from . import _clients
from . import _inspect as inspect_
from . import _protocol as proto
from ._config import CacheConfig
from ._core import CacheCore, Flow
from ._entry import deserialize
from ._errors import (
    CacheUnavailableError,
    ConfigurationError,
    NoSearchModuleError,
    SemanticCacheError,
)
from ._io import run_sync
from .guards import GuardVerifier
from .verification import Verifier

OK, NOT_FOUND, USAGE, UNREACHABLE = 0, 1, 2, 3
PROG = "python -m langchain_valkey_semcache"
T = TypeVar("T")
_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}


class UsageError(Exception):
    """Bad arguments or variables (exit code 2)."""


class _NoEmbeddings(Embeddings):
    """For the commands that never embed."""

    def embed_query(self, text: str) -> list[float]:
        raise UsageError("this command does not embed")

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        raise UsageError("this command does not embed")


# -- arguments ----------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    conn = common.add_argument_group("server")
    conn.add_argument(
        "--url",
        help="valkey://[user:password@]host:port, valkeys:// for TLS (default: built from "
        "VALKEY_HOST, VALKEY_PORT, VALKEY_SSL, VALKEY_USERNAME, VALKEY_PASSWORD)",
    )
    conn.add_argument(
        "--ca-file", default=os.environ.get("VALKEY_CA_FILE"),
        help="CA bundle for TLS (default: VALKEY_CA_FILE)",
    )  # fmt: skip
    conn.add_argument("--timeout", type=float, default=5.0, help="socket timeout, seconds")
    cache = common.add_argument_group("cache")
    cache.add_argument("--index", default=CacheConfig.index_name, help="index name (%(default)s)")
    cache.add_argument("--key-prefix", help="entry key prefix (default: '<index>:')")
    common.add_argument("--json", action="store_true", help="JSON output for scripts")

    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Look at and manage a semantic cache's index from a shell.",
        epilog="Exit codes: 0 ok, 1 not found (no such index, no search module), 2 bad usage, "
        "3 unreachable (connection, timeout, authentication). '%(prog)s COMMAND --help' "
        "describes each command.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser(
        "info", parents=[common], help="engine, schema, entries, memory, HNSW settings",
        description="Engine and module version, index schema, entries (counted on every "
        "primary), hash memory per entry (a sample), HNSW settings.",
    )  # fmt: skip
    sub.add_parser(
        "stats", parents=[common], help="entries per namespace digest, TTL spread",
        description="Entries per namespace digest (tenants appear only as digests) and the "
        "spread of their remaining TTLs.",
    )  # fmt: skip
    search = sub.add_parser(
        "search", parents=[common], help="nearest entries and what the verifier says",
        description="The entries nearest a question with their cosine similarity, whether "
        "they pass the threshold and the verifier, and which one a lookup would serve.",
    )  # fmt: skip
    search.add_argument("question")
    search.add_argument("--namespace", default="", help="tenant namespace ('' by default)")
    search.add_argument(
        "--llm-string", help="the partition's llm_string (the app uses '<LLM_MODEL_ID>|v1'); "
        "default: every partition of the namespace",
    )  # fmt: skip
    search.add_argument("--context", default="", help="the partition's context (chat history)")
    search.add_argument("-k", type=int, default=5, help="entries to show (%(default)s)")
    search.add_argument(
        "--threshold", type=float, default=_env_float("SIMILARITY_THRESHOLD", 0.9),
        help="cosine similarity threshold (default: SIMILARITY_THRESHOLD or 0.9)",
    )  # fmt: skip
    search.add_argument(
        "--verifier", choices=("guards", "none"), default="guards",
        help="ask the library's guards about each entry, or no verifier (%(default)s)",
    )  # fmt: skip
    search.add_argument(
        "--embedding-model", default=os.environ.get("EMBEDDING_MODEL_ID"),
        help="'local-minilm' or a Bedrock model id (default: EMBEDDING_MODEL_ID, else "
        "Titan Text Embeddings V2 at the index's dimension)",
    )  # fmt: skip
    clear = sub.add_parser(
        "clear", parents=[common], help="delete the entries of a namespace (index stays)",
        description="Delete the entries of one namespace, or of all; the index stays.",
    )  # fmt: skip
    which = clear.add_mutually_exclusive_group(required=True)
    which.add_argument("--namespace", help="the tenant namespace ('' is the default one)")
    which.add_argument("--all-namespaces", action="store_true", help="every namespace")
    clear.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    drop = sub.add_parser(
        "drop-index", parents=[common], help="drop the index and delete its entries",
        description="Drop the index and delete every entry under its key prefix.",
    )  # fmt: skip
    drop.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    return parser


def _env_float(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name) or default)
    except ValueError:
        return default


def server_url(args: argparse.Namespace, env: dict[str, str]) -> tuple[str, dict[str, Any]]:
    """The URL and client keywords, from ``--url`` or the app's VALKEY_* variables."""
    extra: dict[str, Any] = {}
    if env.get("VALKEY_USERNAME"):
        extra["username"] = env["VALKEY_USERNAME"]
    if env.get("VALKEY_PASSWORD"):
        extra["password"] = env["VALKEY_PASSWORD"]
    if args.url:
        url = args.url
    elif env.get("VALKEY_HOST"):
        port = env.get("VALKEY_PORT") or "6379"
        if not port.isdigit() or not 0 < int(port) < 65536:
            raise UsageError(f"VALKEY_PORT={port!r} is not a port 1-65535")
        host = env["VALKEY_HOST"]
        local = host in ("localhost", "127.0.0.1", "::1")  # as the app: TLS unless local
        ssl = (env.get("VALKEY_SSL") or ("false" if local else "true")).strip().lower()
        if ssl not in _TRUE | _FALSE:
            raise UsageError(f"VALKEY_SSL={ssl!r} is not true or false")
        netloc = f"[{host}]" if ":" in host else host
        url = f"{'valkeys' if ssl in _TRUE else 'valkey'}://{netloc}:{port}"
    else:
        raise UsageError("give --url, or set VALKEY_HOST (and VALKEY_PORT, VALKEY_SSL...)")
    if url.startswith(("valkeys://", "rediss://")) and args.ca_file:
        extra["ssl_ca_certs"] = args.ca_file
    return url, extra


def _client(url: str, timeout: float, extra: dict[str, Any]) -> Any:
    """A client like the cache's; a cluster client when the server is in cluster mode."""
    try:
        client: Any = _clients.sync_from_url(url, timeout, extra)
    except ConfigurationError as exc:
        raise UsageError(str(exc)) from exc
    except ValueError as exc:  # a malformed URL (port, query)
        raise UsageError(f"--url is not a valid Valkey URL: {exc}") from exc
    try:
        enabled = client.info("cluster").get("cluster_enabled")
    except Exception as exc:
        err = proto.translate(exc)
        if isinstance(err, CacheUnavailableError):
            raise err from exc
        enabled = False  # INFO refused (ACL): take it as a standalone server
    if not enabled:
        return client
    client.close()
    return _clients.cluster_from_url(url, timeout, extra)


# -- running ------------------------------------------------------------------------------


class Admin:
    """One connection and one cache core; runs the library's flows."""

    def __init__(
        self,
        args: argparse.Namespace,
        client: Any,
        embeddings: Embeddings | None = None,
        verifier: Verifier | None = None,
    ) -> None:
        self.args = args
        self.client = client
        config = CacheConfig(
            index_name=args.index,
            key_prefix=args.key_prefix,
            candidates=max(1, min(100, getattr(args, "k", 3))),
        )
        self.core = CacheCore(config, verify=verifier is not None)
        self.embeddings = embeddings or _NoEmbeddings()
        self.verifier = verifier

    def run(self, flow: Flow[T]) -> T:
        return run_sync(flow, self.client, self.embeddings, self.verifier)


def _confirm(question: str, yes: bool, stdin: TextIO) -> bool:
    if yes:
        return True
    if not stdin.isatty():
        raise UsageError("refusing without --yes: standard input is not a terminal")
    print(f"{question} [y/N] ", end="", flush=True)
    return stdin.readline().strip().lower() in ("y", "yes")


def cmd_info(admin: Admin) -> tuple[int, Any, list[tuple[str, str]]]:
    report = admin.run(inspect_.index_report(admin.core))
    info, vector = report.info, report.info.vector or {}
    data = {
        "engine": report.engine,
        "engine_version": report.engine_version,
        "index": report.index,
        "key_prefix": report.prefix,
        "schema": [{"field": f, "type": t} for f, t in info.schema],
        "dim": info.dim,
        "distance_metric": info.metric,
        "vector": vector,
        "ef_runtime_per_query": admin.core.config.hnsw_ef_runtime,
        "entries": report.entries,
        "num_docs_this_node": info.num_docs,
        "indexing_failures": info.indexing_failures,
        "bytes_per_entry": round(report.bytes_per_entry) if report.bytes_per_entry else None,
        "memory_sample": report.sampled,
    }
    names = {"m": "M", "ef_construction": "EF_CONSTRUCTION", "ef_runtime": "index EF_RUNTIME"}
    hnsw = ", ".join(f"{names[k]} {v}" for k, v in vector.items() if k in names)
    rows = [
        ("engine", f"{report.engine or 'unknown'} (module version {report.engine_version})"),
        ("index", f"{report.index} (key prefix {report.prefix})"),
        ("schema", ", ".join(f"{f} {t}" for f, t in info.schema)),
        ("vector", f"{vector.get('algorithm', '?')} {vector.get('data_type', '?')} "
                   f"DIM {info.dim} {info.metric}"),
        ("HNSW", f"{hnsw}; EF_RUNTIME {data['ef_runtime_per_query']} per query (library)"),
        ("entries", f"{report.entries} (SCAN on every primary)"),
        ("num_docs", f"{info.num_docs} (FT.INFO: this node's shard)"),
        ("indexing failures", str(info.indexing_failures)),
        ("memory per entry", f"{data['bytes_per_entry']} bytes (MEMORY USAGE of "
                             f"{report.sampled} entries; the vector index is extra)"
            if report.bytes_per_entry else "-"),
    ]  # fmt: skip
    return OK, data, rows


def cmd_stats(admin: Admin) -> tuple[int, Any, list[tuple[str, ...]]]:
    admin.run(inspect_.index_info(admin.core))
    found = admin.run(inspect_.namespace_rows(admin.core))
    default = admin.core.namespace_tag("")
    data = [{**asdict(r), "default_namespace": r.digest == default} for r in found]

    def secs(v: float | None) -> str:
        return "-" if v is None else f"{v:.0f}"

    rows: list[tuple[str, ...]] = [
        ("namespace digest", "entries", "no expiry", "ttl min s", "ttl median s", "ttl max s")
    ]
    for r in found:
        name = r.digest + (" (default)" if r.digest == default else "")
        rows.append((name, str(r.entries), str(r.no_expiry), secs(r.ttl_min_seconds),
                     secs(r.ttl_median_seconds), secs(r.ttl_max_seconds)))  # fmt: skip
    return OK, data, rows


def cmd_search(admin: Admin) -> tuple[int, Any, list[tuple[str, ...]]]:
    args = admin.args
    if not 0.0 <= args.threshold <= 1.0:
        raise UsageError("--threshold must be a cosine similarity in [0, 1]")
    flow = inspect_.nearest(
        admin.core, args.question, llm_string=args.llm_string, context=args.context,
        namespace=args.namespace, threshold=args.threshold, now=time.time(),
    )  # fmt: skip
    found = admin.run(flow)
    data = [{**asdict(n), "answer": _answer_text(n.answer)} for n in found]
    rows: list[tuple[str, ...]] = [("similarity", "threshold", "verifier", "served", "prompt",
                                    "answer")]  # fmt: skip
    for n in found:
        verdict = "-" if n.verdict is None else ("accepts" if n.verdict else "rejects")
        rows.append((
            f"{n.similarity:.4f}", "pass" if n.above_threshold else "below",
            verdict, "SERVED" if n.served else ("expired" if n.expired else ""),
            _short(n.prompt), _short(_answer_text(n.answer)),
        ))  # fmt: skip
    return (OK if found else NOT_FOUND), data, rows


def cmd_clear(admin: Admin, stdin: TextIO) -> tuple[int, Any, list[tuple[str, str]]]:
    args = admin.args
    scope = {"all_namespaces": True} if args.all_namespaces else {"namespace": args.namespace}
    keys = admin.run(admin.core.entry_keys(**scope))  # type: ignore[arg-type]
    what = "every namespace" if args.all_namespaces else f"namespace {args.namespace!r}"
    if keys and not _confirm(f"Delete {len(keys)} entries of {what}?", args.yes, stdin):
        return OK, {"deleted": 0, "cancelled": True}, [("deleted", "0 (cancelled)")]
    deleted = admin.run(admin.core.clear(**scope)) if keys else 0  # type: ignore[arg-type]
    return OK, {"deleted": deleted}, [("deleted", f"{deleted} entries of {what}")]


def cmd_drop(admin: Admin, stdin: TextIO) -> tuple[int, Any, list[tuple[str, str]]]:
    args = admin.args
    admin.run(inspect_.index_info(admin.core))
    keys = admin.run(admin.core.entry_keys(all_namespaces=True))
    question = f"Drop index {args.index!r} and delete its {len(keys)} entries?"
    if not _confirm(question, args.yes, stdin):
        return OK, {"dropped": False, "deleted": 0}, [("dropped", "no (cancelled)")]
    deleted = admin.run(admin.core.drop())
    return OK, {"dropped": True, "deleted": deleted}, [
        ("dropped", args.index), ("deleted", f"{deleted} entries")
    ]  # fmt: skip


def _answer_text(payload: str | bytes | None) -> str | None:
    if payload is None:
        return None
    try:
        gens = deserialize(payload)
    except SemanticCacheError:
        return "(undecodable)"
    return gens[0].text if gens else ""


def _short(text: str | None, width: int = 60) -> str:
    flat = " ".join((text or "").split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def _table(rows: Sequence[Sequence[str]], out: TextIO) -> None:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip(), file=out)


def _embeddings(args: argparse.Namespace, dim: int | None) -> Embeddings:
    model = args.embedding_model or "amazon.titan-embed-text-v2:0"
    if model == "local-minilm":
        from .embeddings import MiniLMEmbeddings

        return MiniLMEmbeddings()
    from langchain_aws import BedrockEmbeddings

    kwargs: dict[str, Any] = {"region_name": os.environ.get("AWS_REGION", "us-west-2")}
    if "titan-embed-text-v2" in model:  # as the app calls it, at the index's dimension
        kwargs["model_kwargs"] = {"normalize": True}
        if dim:
            kwargs["dimensions"] = dim
    return BedrockEmbeddings(model_id=model, **kwargs)


def main(
    argv: Sequence[str] | None = None,
    *,
    embeddings: Embeddings | None = None,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Run one subcommand; returns the exit code (``embeddings`` replaces the model for
    ``search``, e.g. in tests)."""
    out, err = stdout or sys.stdout, stderr or sys.stderr
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # --help (0) or a usage error (2), already printed
        return int(exc.code or 0) if isinstance(exc.code, int) else USAGE
    client = None
    try:
        url, extra = server_url(args, dict(os.environ))
        client = _client(url, args.timeout, extra)
        verifier = None
        if args.command == "search":
            verifier = GuardVerifier() if args.verifier == "guards" else None
            if embeddings is None:
                info = run_sync(inspect_.index_info(_core(args)), client, _NoEmbeddings())
                embeddings = _embeddings(args, info.dim)
        admin = Admin(args, client, embeddings, verifier)
        commands: dict[str, Callable[[], tuple[int, Any, Any]]] = {
            "info": lambda: cmd_info(admin),
            "stats": lambda: cmd_stats(admin),
            "search": lambda: cmd_search(admin),
            "clear": lambda: cmd_clear(admin, stdin or sys.stdin),
            "drop-index": lambda: cmd_drop(admin, stdin or sys.stdin),
        }
        code, data, rows = commands[args.command]()
    except UsageError as exc:
        return _fail(err, USAGE, str(exc))
    except (inspect_.NotFoundError, NoSearchModuleError) as exc:
        return _fail(err, NOT_FOUND, str(exc))
    except CacheUnavailableError as exc:
        return _fail(err, UNREACHABLE, f"cannot use the server: {exc}")
    except ConfigurationError as exc:
        return _fail(err, USAGE, str(exc))
    except SemanticCacheError as exc:
        return _fail(err, NOT_FOUND, f"{type(exc).__name__}: {exc}")
    except KeyboardInterrupt:
        return _fail(err, USAGE, "interrupted")
    finally:
        if client is not None:
            client.close()
    if args.json:
        print(json.dumps(data, indent=2, default=str), file=out)
    elif len(rows) > 1 or args.command != "search":
        _table(rows, out)
    else:
        print("no entries near that question in this namespace", file=out)
    return code


def _core(args: argparse.Namespace) -> CacheCore:
    return CacheCore(CacheConfig(index_name=args.index, key_prefix=args.key_prefix))


def _fail(err: TextIO, code: int, message: str) -> int:
    print(f"{PROG.split()[-1]}: error: {' '.join(message.split())}", file=err)
    return code
