"""Test helpers shared by unit and integration tests (no Valkey stand-ins here)."""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from langchain_core.embeddings import Embeddings


def unit(vector: Sequence[float]) -> list[float]:
    norm = math.sqrt(sum(x * x for x in vector))
    return [x / norm for x in vector]


def at_similarity(cos: float, dims: int = 8) -> list[float]:
    """A unit vector whose cosine similarity with e0 is ``cos``."""
    return [cos, math.sqrt(max(0.0, 1 - cos * cos))] + [0.0] * (dims - 2)


class TableEmbeddings(Embeddings):
    """Deterministic embeddings: listed texts get listed vectors, others a hashed vector.

    Records every text it embeds, so tests can count embedding calls.
    """

    def __init__(self, table: dict[str, Sequence[float]] | None = None, dims: int = 8) -> None:
        self.table = {k: list(v) for k, v in (table or {}).items()}
        self.dims = dims
        self.calls: list[str] = []
        self._lock = threading.Lock()

    def vector(self, text: str) -> list[float]:
        if text in self.table:
            return self.table[text]
        seed = hashlib.sha256(text.encode()).digest()
        raw = [seed[i % len(seed)] - 127.5 for i in range(self.dims)]
        return unit(raw)

    def embed_query(self, text: str) -> list[float]:
        with self._lock:
            self.calls.append(text)
        return self.vector(text)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self.embed_query(t) for t in texts]


class BrokenEmbeddings(Embeddings):
    """Returns whatever vector it is given (NaN, wrong length) or raises."""

    def __init__(self, result: Any) -> None:
        self.result = result

    def embed_query(self, text: str) -> list[float]:
        if isinstance(self.result, BaseException):
            raise self.result
        return self.result  # type: ignore[no-any-return]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self.embed_query(t) for t in texts]


def aws_client(service: str) -> Any:
    """A real boto3 client with dummy credentials, to wrap in a botocore ``Stubber``."""
    import boto3

    return boto3.client(
        service, region_name="us-west-2",
        aws_access_key_id="testing", aws_secret_access_key="testing",
    )  # fmt: skip


TITAN_V2 = "amazon.titan-embed-text-v2:0"


def expect_titan(stub: Any, vector: list[float], model: str = TITAN_V2) -> None:
    """Queue one Titan Text Embeddings V2 ``invoke_model`` reply with ``vector`` on ``stub``."""
    import io
    import json

    from botocore.response import StreamingBody
    from botocore.stub import ANY

    data = json.dumps({"embedding": vector, "inputTextTokenCount": 6}).encode()
    reply = {"body": StreamingBody(io.BytesIO(data), len(data)), "contentType": "application/json"}
    expected = {"modelId": model, "body": ANY, "accept": "application/json",
                "contentType": "application/json"}  # fmt: skip
    stub.add_response("invoke_model", reply, expected)


def expect_converse(stub: Any, model: str, text: str) -> None:
    """Queue one Bedrock Converse reply saying ``text`` on ``stub``."""
    from botocore.stub import ANY

    reply = {
        "output": {"message": {"role": "assistant", "content": [{"text": text}]}},
        "stopReason": "end_turn",
        "usage": {"inputTokens": 90, "outputTokens": 1, "totalTokens": 91},
        "metrics": {"latencyMs": 120},
    }
    expected = {"modelId": model, "messages": ANY, "system": ANY, "inferenceConfig": ANY}
    stub.add_response("converse", reply, expected)


def _event_message(event_type: str, payload: bytes) -> bytes:
    """One message of the AWS event-stream wire format (prelude, headers, payload, CRCs)."""
    import binascii
    import struct

    headers = b""
    for name, value in ((":event-type", event_type), (":content-type", "application/json"),
                        (":message-type", "event")):  # fmt: skip
        raw = value.encode()
        headers += bytes([len(name)]) + name.encode() + b"\x07" + struct.pack(">H", len(raw)) + raw
    total = 12 + len(headers) + len(payload) + 4
    prelude = struct.pack(">II", total, len(headers))
    prelude += struct.pack(">I", binascii.crc32(prelude))
    message = prelude + headers + payload
    return message + struct.pack(">I", binascii.crc32(message))


def expect_converse_stream(stub: Any, model: str, chunks: Sequence[str]) -> None:
    """Queue one Bedrock ConverseStream reply streaming ``chunks`` on ``stub``.

    The Stubber validates a placeholder; a handler on the client then puts a real botocore
    ``EventStream`` over the encoded events in its place, so botocore's own event parser
    decodes them as it would from the network.
    """
    import json

    from botocore.eventstream import EventStream
    from botocore.parsers import EventStreamJSONParser
    from botocore.stub import ANY

    events: list[tuple[str, dict[str, Any]]] = [("messageStart", {"role": "assistant"})]
    events += [
        ("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": c}}) for c in chunks
    ]
    events += [
        ("contentBlockStop", {"contentBlockIndex": 0}),
        ("messageStop", {"stopReason": "end_turn"}),
        ("metadata", {"usage": {"inputTokens": 9, "outputTokens": len(chunks), "totalTokens": 9
                                + len(chunks)}, "metrics": {"latencyMs": 50}}),
    ]  # fmt: skip
    wire = b"".join(_event_message(name, json.dumps(body).encode()) for name, body in events)

    class Raw:
        def stream(self) -> Any:
            yield wire

        def close(self) -> None:
            pass

    client = stub.client
    shape = client.meta.service_model.operation_model("ConverseStream").output_shape
    stream_shape = shape.members["stream"]

    def swap(parsed: dict[str, Any], **_: Any) -> None:
        client.meta.events.unregister("after-call.bedrock-runtime.ConverseStream", swap)
        parsed["stream"] = EventStream(
            Raw(), stream_shape, EventStreamJSONParser(), "ConverseStream"
        )

    client.meta.events.register("after-call.bedrock-runtime.ConverseStream", swap)
    placeholder = {"stream": {"messageStart": {"role": "assistant"}}}
    stub.add_response(
        "converse_stream",
        placeholder,
        {"modelId": model, "messages": ANY, "system": ANY, "inferenceConfig": ANY},
    )


def children_of(pid: int) -> list[int]:
    """Live child processes of ``pid`` (Linux /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(stat.parent.name))
    return found


def process_gone(pid: int) -> bool:
    """True when ``pid`` no longer runs (exited, or a zombie waiting to be reaped)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return True


def wait_gone(pid: int, timeout: float = 15.0) -> bool:
    """Wait for ``pid`` to stop; whether it did."""
    deadline = time.monotonic() + timeout
    while not process_gone(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    return process_gone(pid)
