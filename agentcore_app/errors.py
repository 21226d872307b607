"""One error shape for every refused request: ``{"error": {"type": ..., "message": ...}}``.

BedrockAgentCoreApp answers a body that is not JSON (malformed, empty, not UTF-8) itself,
before the entrypoint runs, as ``{"error": "Invalid JSON", "details": ...}``. The middleware
here reads the body of ``POST /invocations`` first and refuses such a body in the app's own
shape; a JSON body is handed on unchanged.
"""

from __future__ import annotations

import json

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

EXAMPLE = '{"prompt": "..."}'


def error_response(status: int, kind: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"type": kind, "message": message}}, status_code=status)


def body_problem(body: bytes) -> str | None:
    """Why ``body`` is not JSON (as Starlette's ``request.json()`` reads it), or None."""
    if not body.strip():
        return f"the body is empty; send a JSON object like {EXAMPLE}"
    try:
        json.loads(body)
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError
        return f"the body is not valid JSON ({exc}); send a JSON object like {EXAMPLE}"
    return None


class JsonBody:
    """ASGI middleware: ``POST /invocations`` with a body that is not JSON gets a 400 in
    the app's error shape."""

    def __init__(self, app: ASGIApp, path: str = "/invocations") -> None:
        self.app = app
        self.path = path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != self.path:
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        problem = body_problem(body)
        if problem is not None:
            await error_response(400, "bad_request", problem)(scope, receive, send)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)
