"""The one place that speaks to the server: every command built, every reply parsed,
every error translated.

Pure functions: they build command tuples and parse replies into typed values; they do
no I/O. Only the portable dialect shared by valkey-search 1.x and RediSearch 2.x is
emitted (DIALECT 2, TAG values of ``[A-Za-z0-9_]`` only, no SORTBY, no TEXT fields).
``commands`` builds, ``replies`` parses, ``errors`` maps client exceptions and server
wording to this package's errors.
"""

from .commands import (
    ANSWER,
    ENTRY_FIELDS,
    EXPIRES,
    NS,
    PART,
    PROMPT,
    REDISEARCH,
    SCHEMA_FIELDS,
    VALKEY_SEARCH,
    VEC,
    IndexSpec,
    create_index,
    drop_index,
    encode_vector,
    get_entry,
    info_index,
    is_lookup_read,
    knn_probe,
    knn_search,
    list_indexes,
    memory_usage,
    module_list,
    names_no_key,
    new_entries,
    pttl,
    server_info,
    tag,
    unlink,
    write_entry,
)
from .errors import (
    ACL_MESSAGE,
    NO_MODULE_MESSAGE,
    IndexExistsError,
    IndexMissingError,
    translate,
)
from .replies import (
    Candidate,
    Engine,
    IndexInfo,
    StoredEntry,
    check_index,
    parse_entry,
    parse_info,
    parse_list,
    parse_modules,
    parse_search,
)

__all__ = [
    "ACL_MESSAGE", "ANSWER", "ENTRY_FIELDS", "EXPIRES", "NO_MODULE_MESSAGE", "NS", "PART",
    "PROMPT", "REDISEARCH", "SCHEMA_FIELDS", "VALKEY_SEARCH", "VEC",
    "Candidate", "Engine", "IndexExistsError", "IndexInfo", "IndexMissingError", "IndexSpec",
    "StoredEntry", "check_index", "create_index", "drop_index", "encode_vector", "get_entry",
    "info_index", "is_lookup_read", "knn_probe", "knn_search", "list_indexes", "memory_usage",
    "module_list", "names_no_key", "new_entries", "parse_entry", "parse_info", "parse_list",
    "parse_modules", "parse_search", "pttl", "server_info", "tag", "translate", "unlink",
    "write_entry",
]  # fmt: skip
