"""``python -m windowkeeper_tools.simulator`` starts, answers and stops on SIGTERM."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import httpx

from tests.integration.simulator.conftest import LOOPBACK_ONLY

pytestmark = LOOPBACK_ONLY


def test_module_entry_point_serves_and_stops_cleanly():
    process = subprocess.Popen(
        [sys.executable, "-m", "windowkeeper_tools.simulator", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:(\d+)", line)
        assert match, line
        url = match.group(0)
        deadline = time.monotonic() + 10
        while True:
            try:
                assert httpx.get(f"{url}/_sim/health").json() == {"status": "ok"}
                break
            except httpx.ConnectError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
