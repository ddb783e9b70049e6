"""The local stack's Lambda stand-in: one invocation at a time per function, each with its own
timeout counted from when it starts (as a Lambda container's is), not from when it was queued."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from windowkeeper_tools.local.functions import LocalFunction
from windowkeeper_tools.local.template import FunctionDef


def test_time_queued_behind_another_invocation_does_not_count_against_the_timeout() -> None:
    function = LocalFunction(FunctionDef("Sweeper", "app.handler", Path(), timeout_seconds=3), "eu-west-1")
    remaining_ms: list[int] = []

    def handler(_event: dict[str, Any], context: Any) -> None:
        remaining_ms.append(context.get_remaining_time_in_millis())

    function._handler = handler
    with function._lock:  # another invocation of the function is running
        queued = threading.Thread(target=function.invoke, args=({"kind": "sweep"},))
        queued.start()
        time.sleep(1.0)
    queued.join(timeout=10)

    assert len(remaining_ms) == 1
    assert remaining_ms[0] > 2500, f"{remaining_ms[0]} ms of 3000 left: the queued second was counted"
