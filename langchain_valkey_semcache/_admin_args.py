"""The admin command's arguments and its server: the parser, the URL from ``--url`` or
the AgentCore app's VALKEY_* variables, and a client like the cache's."""

from __future__ import annotations

import argparse
import os
from typing import Any

from . import _clients
from . import _protocol as proto
from ._config import CacheConfig
from ._errors import CacheUnavailableError, ConfigurationError

PROG = "python -m langchain_valkey_semcache"
_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}


class UsageError(Exception):
    """Bad arguments or variables (exit code 2)."""


def parser() -> argparse.ArgumentParser:
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
        "3 unreachable or refused (connection, timeout, authentication, ACL), 4 the server "
        "or the embedding model failed, 130 interrupted. '%(prog)s COMMAND --help' "
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


def sync_client(url: str, timeout: float, extra: dict[str, Any]) -> Any:
    """A client like the cache's; a cluster client when the server is in cluster mode."""
    try:
        client: Any = _clients.sync_from_url(url, timeout, extra)
    except ConfigurationError as exc:
        raise UsageError(str(exc)) from exc
    except ValueError as exc:  # a malformed URL (port, query)
        raise UsageError(f"--url is not a valid Valkey URL: {exc}") from exc
    try:
        enabled = client.execute_command(*proto.server_info("cluster")).get("cluster_enabled")
    except Exception as exc:
        err = proto.translate(exc)
        if isinstance(err, CacheUnavailableError):
            raise err from exc
        enabled = False  # INFO refused (ACL): take it as a standalone server
    if not enabled:
        return client
    client.close()
    return _clients.cluster_from_url(url, timeout, extra)
