"""Entrypoint of the AgentCore direct-code package (copied to its root as ``main.py``).

AgentCore starts it as ``opentelemetry-instrument main.py``; the app serves 0.0.0.0:8080.
"""

import sys

from agentcore_app.__main__ import main

if __name__ == "__main__":
    sys.exit(main())
