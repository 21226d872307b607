"""``make run``: the app served locally on embedded defaults, until Ctrl-C or SIGTERM.

A local engine (valkey-server + search module, started here and stopped on exit), the
offline all-MiniLM-L6-v2 embeddings and the offline chat model: no AWS account, no
credentials. ``LLM_MODEL_ID`` picks a Bedrock model instead (then credentials are needed).
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from pathlib import Path

from langchain_valkey_semcache.engine import EngineError, LocalEngine, exit_on_signals

from .settings import LOCAL_MINILM, OFFLINE_LLM, Settings, SettingsError, check_credentials

EXAMPLE = "What is semantic caching?"


def local_settings(engine_port: int, llm_model_id: str | None = None) -> Settings:
    """The app's settings for an engine on this machine and the offline embeddings."""
    env = {
        **os.environ,
        "VALKEY_HOST": "127.0.0.1",
        "VALKEY_PORT": str(engine_port),
        "VALKEY_SSL": "false",
        "EMBEDDING_MODEL_ID": LOCAL_MINILM,
        "VECTOR_DIMS": "384",
        **({"LLM_MODEL_ID": llm_model_id} if llm_model_id else {}),
    }
    return Settings.from_env(env)


def invoke_command(url: str) -> str:
    """A client command line the user can paste as is, with this interpreter."""
    python = Path(sys.executable)
    shown = os.path.relpath(python) if python.is_relative_to(Path.cwd()) else str(python)
    return f'{shown} -m agentcore_app.invoke "{EXAMPLE}" --url {url}'


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m agentcore_app.local", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="interface (default: %(default)s)")
    parser.add_argument(
        "--port",
        type=int,
        default=int(os.environ.get("PORT", "8080")),
        help="HTTP port (default: $PORT or %(default)s)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    exit_on_signals(signal.SIGTERM, signal.SIGHUP)  # unwinds the engine's `with` block

    def ready(url: str) -> None:
        print(f"app: {url}/invocations (Ctrl-C stops the app and the engine)", flush=True)
        print(f"try: {invoke_command(url)}", flush=True)

    from .main import create_app
    from .serve import serve

    try:
        with LocalEngine() as engine:
            settings = local_settings(engine.port, os.environ.get("LLM_MODEL_ID") or OFFLINE_LLM)
            check_credentials(settings)
            llm = settings.llm_model_id
            threshold = settings.similarity_threshold
            print(f"engine: {engine.url} (valkey-server + search module, stopped on exit)")
            print(f"embeddings: offline all-MiniLM-L6-v2; threshold {threshold}")
            print(
                f"LLM: {'offline model, no AWS calls' if llm == OFFLINE_LLM else llm}", flush=True
            )
            serve(create_app(settings), args.host, args.port, on_ready=ready)
    except KeyboardInterrupt:
        return 0
    except SettingsError as exc:
        print(f"agentcore_app.local: {exc}", file=sys.stderr)
        return 2
    except EngineError as exc:
        print(f"agentcore_app.local: the local engine did not start: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
