"""The main command runs end to end: engine, HTTP app, MiniLM, the seed's session."""

from __future__ import annotations

import os
import subprocess
import sys


def test_demo_replays_the_seed_session() -> None:
    env = {**os.environ, "OFFLINE_LLM_LATENCY_MS": "50", "AWS_EC2_METADATA_DISABLED": "true"}
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE", "LLM_MODEL_ID"):
        env.pop(key, None)
    proc = subprocess.run(
        [sys.executable, "-m", "agentcore_app.demo"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = [
        line.split()
        for line in proc.stdout.splitlines()
        if line[:2] in {f"{i} " for i in range(1, 6)}
    ]
    outcomes = [next(w for w in row if w in ("HIT", "miss")) for row in rows]
    assert outcomes == ["miss", "HIT", "miss", "HIT", "miss"]
    assert "offline demo model" in proc.stdout and "UNEXPECTED" not in proc.stdout
    answers = proc.stdout.split("The answers", 1)[1].splitlines()[1:6]
    asked = [line.split("You asked: ", 1)[1].split("'")[1] for line in answers]
    assert asked == [  # hits return the answer stored for the question they matched
        "What is semantic caching?",
        "What is semantic caching?",
        "Is semantic caching difficult?",
        "What is semantic caching?",
        "Is cheese naan delicious?",
    ]
