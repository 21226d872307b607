"""``python -m agentcore_app``: serve the agent on 0.0.0.0:8080 (AgentCore's contract).

Configured by environment variables (see the README); without AWS credentials it refuses to
start unless both models are local (``make run`` serves it that way, with a local engine).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

from .settings import Settings, SettingsError, check_credentials


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m agentcore_app", description=__doc__)
    parser.add_argument("--host", default=os.environ.get("HOST", "0.0.0.0"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8080")))
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        settings = Settings.from_env()
        check_credentials(settings)
    except SettingsError as exc:
        print(f"agentcore_app: {exc}", file=sys.stderr)
        return 2
    from .main import create_app
    from .serve import serve

    try:
        serve(create_app(settings), args.host, args.port)  # models load here, before listening
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
