"""``python -m langchain_valkey_semcache``: look at and manage a cache's index from a shell.

Subcommands: ``info``, ``stats``, ``search "question"``, ``clear``, ``drop-index``. The
server is ``--url`` or the AgentCore app's variables (VALKEY_HOST, VALKEY_PORT, VALKEY_SSL,
VALKEY_USERNAME, VALKEY_PASSWORD, VALKEY_CA_FILE). Every command runs the library's own
flows through its own driver. Exit codes (:data:`EXIT_CODES`): 0 ok, 1 not found (no
such index, no search module, not a cache's index), 2 bad usage, 3 unreachable or refused
(connection, timeout, authentication, ACL, a cluster without cross-shard search), 4 the
server or the embedding model failed, 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict
from typing import Any, TextIO, TypeVar

from langchain_core.embeddings import Embeddings

from . import _inspect as inspect_
from ._admin_args import PROG, UsageError, parser, server_url, sync_client
from ._config import CacheConfig
from ._effects import Flow
from ._entry import deserialize
from ._errors import (
    CacheUnavailableError,
    ConfigurationError,
    EmbeddingError,
    IndexMismatchError,
    NoSearchModuleError,
    SemanticCacheError,
)
from ._flows import CacheCore
from ._io import run_sync
from .guards import GuardVerifier
from .verification import Verifier

OK, NOT_FOUND, USAGE, UNREACHABLE, FAILED, INTERRUPTED = 0, 1, 2, 3, 4, 130
T = TypeVar("T")


# row whose kind matches wins. A ConfigurationError here came from the server (ACL, a
# cluster without coordinator): the command's own settings are checked as UsageError.
EXIT_CODES: tuple[tuple[type[BaseException], int, str], ...] = (
    (UsageError, USAGE, ""),
    (inspect_.NotFoundError, NOT_FOUND, ""),
    (NoSearchModuleError, NOT_FOUND, ""),
    (IndexMismatchError, NOT_FOUND, "not this cache's index: "),
    (CacheUnavailableError, UNREACHABLE, "cannot use the server: "),
    (ConfigurationError, UNREACHABLE, "the server refused: "),
    (EmbeddingError, FAILED, "embedding failed (give the model that filled the index with "
     "--embedding-model: local-minilm or a Bedrock model id): "),
    (SemanticCacheError, FAILED, ""),
    (KeyboardInterrupt, INTERRUPTED, "interrupted"),
)  # fmt: skip


def exit_code(exc: BaseException) -> tuple[int, str]:
    """The exit code of ``exc`` and its one-line message (an unlisted kind propagates)."""
    for kind, code, lead in EXIT_CODES:
        if isinstance(exc, kind):
            if isinstance(exc, KeyboardInterrupt):
                return code, lead
            plain = isinstance(exc, UsageError | inspect_.NotFoundError | NoSearchModuleError)
            detail = str(exc) if plain or lead else f"{type(exc).__name__}: {exc}"
            return code, lead + detail
    raise exc


class _NoEmbeddings(Embeddings):
    """For the commands that never embed."""

    def embed_query(self, text: str) -> list[float]:
        raise UsageError("this command does not embed")

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        raise UsageError("this command does not embed")


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
        self.core = CacheCore(_config(args, candidates=max(1, min(100, getattr(args, "k", 3)))))
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


def _rounded(value: float | None) -> int | None:
    return None if value is None else round(value)


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
        "ef_runtime_per_query": admin.core.ef_runtime(),
        "entries": report.entries,
        "num_docs_this_node": info.num_docs,
        "indexing_failures": info.indexing_failures,
        "bytes_per_entry": _rounded(report.bytes_per_entry),
        "memory_sample": report.sampled,
        "index_bytes_per_entry": _rounded(report.index_bytes_per_entry),
        "total_bytes_per_entry": _rounded(report.total_bytes_per_entry),
    }
    names = {"m": "M", "ef_construction": "EF_CONSTRUCTION", "ef_runtime": "index EF_RUNTIME"}
    hnsw = ", ".join(f"{names[k]} {v}" for k, v in vector.items() if k in names)
    rows = [
        ("engine", f"{report.engine or 'unknown'} (module version {report.engine_version})"),
        ("index", f"{report.index} (key prefix {report.prefix})"),
        ("schema", ", ".join(f"{f} {t}" for f, t in info.schema)),
        ("vector", f"{vector.get('algorithm', '?')} {vector.get('data_type', '?')} "
                   f"DIM {info.dim} {info.metric}"),
        ("HNSW", f"{hnsw}; EF_RUNTIME {data['ef_runtime_per_query']} per query (the "
                 "library's, fitted to num_docs)"),
        ("entries", f"{report.entries} (SCAN on every primary)"),
        ("num_docs", f"{info.num_docs} (FT.INFO: this node's shard)"),
        ("indexing failures", str(info.indexing_failures)),
        ("hash per entry", f"{data['bytes_per_entry']} bytes (MEMORY USAGE of "
                           f"{report.sampled} entries)"
            if report.bytes_per_entry else "-"),
        ("index per entry", f"{data['index_bytes_per_entry']} bytes (FT.INFO memory over "
                            "num_docs)"
            if report.index_bytes_per_entry is not None else "not reported by this engine"),
        ("total per entry", f"{data['total_bytes_per_entry']} bytes"
            if report.total_bytes_per_entry is not None else "-"),
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
    admin.run(inspect_.index_info(admin.core))  # a missing index: exit 1, as every command
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


_MINILM_DIM = 384  # the local model's dimension: an index of it was filled locally


def _default_model(dim: int | None) -> str:
    """The local MiniLM for a 384-d index (filled locally: no Bedrock needed), else Titan
    Text Embeddings V2 at the index's dimension."""
    return "local-minilm" if dim == _MINILM_DIM else "amazon.titan-embed-text-v2:0"


def _embeddings(args: argparse.Namespace, dim: int | None) -> Embeddings:
    """The model of ``--embedding-model``, else :func:`_default_model`."""
    model = args.embedding_model or _default_model(dim)
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
    # langchain_aws logs a failed call with its traceback before raising: the error's one
    # line below says it all.
    logging.getLogger("langchain_aws").setLevel(logging.CRITICAL + 1)
    try:
        args = parser().parse_args(argv)
    except SystemExit as exc:  # --help (0) or a usage error (2), already printed
        return int(exc.code or 0) if isinstance(exc.code, int) else USAGE
    client = None
    try:
        _config(args)  # the command's own settings: bad usage before any connection
        url, extra = server_url(args, dict(os.environ))
        client = sync_client(url, args.timeout, extra)
        verifier = None
        if args.command == "search":
            verifier = GuardVerifier() if args.verifier == "guards" else None
            if embeddings is None:
                info = run_sync(inspect_.index_info(_core(args)), client, _NoEmbeddings())
                try:
                    embeddings = _embeddings(args, info.dim)
                except Exception as exc:  # no credentials, region or model package
                    raise EmbeddingError(f"{type(exc).__name__}: {exc}") from exc
        admin = Admin(args, client, embeddings, verifier)
        commands: dict[str, Callable[[], tuple[int, Any, Any]]] = {
            "info": lambda: cmd_info(admin),
            "stats": lambda: cmd_stats(admin),
            "search": lambda: cmd_search(admin),
            "clear": lambda: cmd_clear(admin, stdin or sys.stdin),
            "drop-index": lambda: cmd_drop(admin, stdin or sys.stdin),
        }
        code, data, rows = commands[args.command]()
    except (UsageError, SemanticCacheError, KeyboardInterrupt) as exc:
        return _fail(err, *exit_code(exc))
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


def _config(args: argparse.Namespace, candidates: int = 3) -> CacheConfig:
    try:
        return CacheConfig(index_name=args.index, key_prefix=args.key_prefix, candidates=candidates)
    except ConfigurationError as exc:
        raise UsageError(str(exc)) from exc


def _core(args: argparse.Namespace) -> CacheCore:
    return CacheCore(_config(args))


def _fail(err: TextIO, code: int, message: str) -> int:
    print(f"{PROG.split()[-1]}: error: {' '.join(message.split())}", file=err)
    return code
