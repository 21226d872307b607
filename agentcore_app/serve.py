"""Serving the app over HTTP with uvicorn: one log line per request, a "listening on" line."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

logger = logging.getLogger("agentcore_app")


def _server(app: Any, host: str, port: int) -> Any:
    import uvicorn

    # BedrockAgentCoreApp logs each request once, as JSON, on its own handler; stop the same
    # record reaching the root handler a second time as plain text.
    app.logger.propagate = False
    return uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning"))


def _announce(server: Any, url: str, on_ready: Callable[[str], None] | None) -> None:
    while not server.started and not server.should_exit:
        time.sleep(0.05)
    if server.started:
        logger.info("listening on %s", url)
        if on_ready is not None:
            on_ready(url)


def serve(app: Any, host: str, port: int, on_ready: Callable[[str], None] | None = None) -> None:
    """Serve in this thread until SIGINT or SIGTERM; ``on_ready(url)`` once listening.

    After a graceful shutdown uvicorn re-raises the signal it caught, so the caller's own
    handlers (``KeyboardInterrupt``, ``SystemExit``) then unwind its ``with`` blocks.
    """
    server = _server(app, host, port)
    url = f"http://{host}:{port}"
    threading.Thread(target=_announce, args=(server, url, on_ready), daemon=True).start()
    server.run()


def serve_in_thread(app: Any, port: int, host: str = "127.0.0.1") -> tuple[Any, threading.Thread]:
    """Serve on a background thread (the demo, tests); stop with ``server.should_exit = True``."""
    server = _server(app, host, port)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the app server did not start")
        time.sleep(0.05)
    return server, thread
