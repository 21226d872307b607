"""Replies recorded from Engine A (valkey-server 9.1.2 + RediSearch 2.10.5, RESP2).

``VALKEY_SEARCH_INFO`` is not recorded: it follows the layout ENGINE.md documents for
valkey-search 1.0 (the DIM under ``attributes[i].index.dimensions``).
"""

SEARCH = [
    2,
    b"t:2", [b"score", b"0.226042747498", b"prompt", b"hello2", b"answer", b"[]",
             b"expires_at", b"inf"],
    b"t:1", [b"score", b"0.00496286153793", b"prompt", b"hello", b"answer", b"[]",
             b"expires_at", b"inf"],
]  # fmt: skip
SEARCH_EMPTY = [0]
SEARCH_IDENTICAL = [1, b"t:1", [b"score", b"-1.19209289551e-07", b"prompt", b"x", b"answer", b"[]",
                               b"expires_at", b"1700000000.5"]]  # fmt: skip

REDISEARCH_INFO = [
    b"index_name", b"idx", b"index_options", [],
    b"index_definition", [b"key_type", b"HASH", b"prefixes", [b"t:"], b"default_score", b"1"],
    b"attributes", [
        [b"identifier", b"part", b"attribute", b"part", b"type", b"TAG", b"SEPARATOR", b","],
        [b"identifier", b"ns", b"attribute", b"ns", b"type", b"TAG", b"SEPARATOR", b","],
        [b"identifier", b"vec", b"attribute", b"vec", b"type", b"VECTOR", b"algorithm", b"HNSW",
         b"data_type", b"FLOAT32", b"dim", 4, b"distance_metric", b"COSINE", b"M", 16,
         b"ef_construction", 200],
    ],
    b"num_docs", 2, b"max_doc_id", 2, b"hash_indexing_failures", 0, b"indexing", 0,
]  # fmt: skip

# The memory part of a RediSearch 2.10.5 FT.INFO, recorded (2,000 docs of 512-d FLOAT32, HNSW
# M 16); valkey-search 1.0.2 and 1.2.1 report no memory of the index in FT.INFO.
REDISEARCH_MEMORY = [
    b"num_docs", 2000, b"max_doc_id", 2000, b"num_terms", 0, b"num_records", 4000,
    b"inverted_sz_mb", b"0.0021762847900390625", b"vector_index_sz_mb", b"4.691539764404297",
    b"total_inverted_index_blocks", 2, b"offset_vectors_sz_mb", b"0",
    b"doc_table_size_mb", b"0.13627052307128906", b"sortable_values_size_mb", b"0",
    b"key_table_size_mb", b"0.05534076690673828", b"tag_overhead_sz_mb", b"2.765655517578125e-5",
    b"text_overhead_sz_mb", b"0", b"total_index_memory_sz_mb", b"0.1938152313232422",
]  # fmt: skip
REDISEARCH_MEMORY_INFO = [*REDISEARCH_INFO[:8], *REDISEARCH_MEMORY]

VALKEY_SEARCH_INFO = [
    b"index_name", b"idx",
    b"attributes", [
        [b"identifier", b"part", b"attribute", b"part", b"type", b"TAG", b"SEPARATOR", b","],
        [b"identifier", b"ns", b"attribute", b"ns", b"type", b"TAG", b"SEPARATOR", b","],
        [b"identifier", b"vec", b"attribute", b"vec", b"type", b"VECTOR",
         b"index", [b"capacity", 10240, b"dimensions", 1024, b"distance_metric", b"COSINE",
                    b"size", b"3", b"data_type", b"FLOAT32", b"algorithm",
                    [b"name", b"HNSW", b"m", 16, b"ef_construction", 200, b"ef_runtime", 10]]],
    ],
    b"num_docs", b"3", b"hash_indexing_failures", b"0",
]  # fmt: skip

MODULES_REDISEARCH = [
    [b"name", b"lua", b"ver", 1, b"path", b"lua", b"args", []],
    [b"name", b"search", b"ver", 21005, b"path", b"/x/redisearch.so", b"args", []],
]
MODULES_VALKEY_SEARCH = [
    [b"name", b"search", b"ver", 10000, b"path", b"/x/libsearch.so", b"args", []]
]
MODULES_VALKEY_SEARCH_12 = [
    [b"name", b"search", b"ver", 66049, b"path", b"/x/libsearch.so", b"args", []]
]
# valkey-search 1.2.1, recorded: counts are integers, attributes in another order.
VALKEY_SEARCH_12_INFO = [
    b"index_name", b"idx",
    b"index_definition", [b"key_type", b"HASH", b"prefixes", [b"t:"], b"default_score", b"1"],
    b"attributes", [
        [b"identifier", b"ns", b"attribute", b"ns", b"user_indexed_memory", 0, b"type", b"TAG",
         b"SEPARATOR", b",", b"CASESENSITIVE", b"0", b"size", b"0"],
        [b"identifier", b"part", b"attribute", b"part", b"user_indexed_memory", 0, b"type", b"TAG",
         b"SEPARATOR", b",", b"CASESENSITIVE", b"0", b"size", b"0"],
        [b"identifier", b"vec", b"attribute", b"vec", b"user_indexed_memory", 0, b"type", b"VECTOR",
         b"index", [b"capacity", 10240, b"dimensions", 4, b"distance_metric", b"COSINE",
                    b"size", b"0", b"data_type", b"FLOAT32", b"algorithm",
                    [b"name", b"HNSW", b"m", 16, b"ef_construction", 200, b"ef_runtime", 10]]],
    ],
    b"num_docs", 0, b"num_records", 0, b"total_term_occurrences", 0, b"num_terms", 0,
    b"hash_indexing_failures", b"0", b"backfill_in_progress", b"1",
    b"state", b"backfill_in_progress", b"language", b"english",
]  # fmt: skip
MODULES_NONE = [[b"name", b"lua", b"ver", 1, b"path", b"lua", b"args", []]]

ERR_UNKNOWN_INDEX_REDISEARCH = "Unknown index name"
ERR_UNKNOWN_INDEX_VALKEY_SEARCH = "Index with name 'idx' not found"
ERR_HYBRID_POLICY = (
    "Error parsing vector similarity parameters: `[KNN 1 @vec $vec EF_RUNTIME 10 HYBRID_POLICY "
    "BATCHES AS score]`. Unexpected argument `HYBRID_POLICY`"
)
ERR_ACL_VALKEY_SEARCH_10 = "The user doesn't have a permission to execute a command"
ERR_ACL_VALKEY_SEARCH_12 = "The user does not have permission to access the key prefix"
ERR_EXISTS = "Index already exists"
ERR_NO_MODULE = "unknown command 'FT.INFO', with args beginning with: 'idx' "
ERR_BLOB = (
    "Error parsing vector similarity query: query vector blob size (8) does not match "
    "index's expected size (16)."
)

FT_LIST = [b"idx", b"agent_semcache"]

# Failover and restart errors, recorded from valkey-server 9.1.2 (text after the error code).
ERR_READONLY = "You can't write against a read only replica."  # valkey-py strips READONLY
ERR_MASTERDOWN = "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'."
ERR_READONLY_PIPELINE = (  # valkey-py's pipeline error: the failed command comes first
    "Command # 1 (HSET k prompt busy room loading) of pipeline caused error: " + ERR_READONLY
)
