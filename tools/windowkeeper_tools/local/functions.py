"""Run the template's Lambda handlers in this process, one invocation at a time per function.

A Lambda execution environment serves one request at a time, and handler modules keep
per-request state in globals (powertools' resolver holds the current event), so each function gets
a lock: concurrency across functions, none within one, as with one warm container each.
"""

from __future__ import annotations

import importlib
import logging
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from windowkeeper_tools.local.apigw import LocalLambdaContext
from windowkeeper_tools.local.template import FunctionDef

logger = logging.getLogger("windowkeeper.local")

Handler = Callable[[dict[str, Any], Any], Any]


@dataclass
class LocalFunction:
    definition: FunctionDef
    region: str
    _handler: Handler | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def handler(self) -> Handler:
        """Import the handler module on first use (after the stack has set the environment)."""
        if self._handler is None:
            code_dir = str(self.definition.code_dir)
            if code_dir not in sys.path:
                sys.path.insert(0, code_dir)
            module = importlib.import_module(self.definition.module)
            self._handler = getattr(module, self.definition.attribute)
        return self._handler

    def invoke(self, event: dict[str, Any]) -> Any:
        handler = self.handler()
        with self._lock:
            # The timeout runs from when the "container" takes the event, as in Lambda: time spent
            # queued behind another invocation of this function is not the handler's to lose (a
            # sweep queued behind a long one would otherwise stop for time before sweeping).
            context = LocalLambdaContext(
                function_name=self.definition.logical_id,
                memory_limit_in_mb=self.definition.memory_mb,
                timeout_seconds=self.definition.timeout_seconds,
                region=self.region,
            )
            return handler(event, context)


class FunctionPool:
    def __init__(self, definitions: dict[str, FunctionDef], region: str) -> None:
        self._functions = {name: LocalFunction(d, region) for name, d in definitions.items()}

    def get(self, logical_id: str) -> LocalFunction:
        return self._functions[logical_id]

    def by_module(self, module: str) -> LocalFunction | None:
        return next((f for f in self._functions.values() if f.definition.module == module), None)

    def preload(self) -> list[str]:
        """Import every handler now so a broken one shows at start-up; returns those that failed."""
        failed = []
        for name, function in self._functions.items():
            try:
                function.handler()
            except Exception:
                logger.exception("could not import the %s handler", name)
                failed.append(name)
        return failed
