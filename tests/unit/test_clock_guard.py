"""The wall clock is read at the edge only: a guard over the whole shared package and the handlers.

A wall-clock read below the edge makes an answer depend on the calendar the code runs on: it
is how a Graph client stamping Meta's 131049 back-off with its own clock turned CI red on every
date after 2026-11-23. Every module of ``windowkeeper`` and of ``functions/`` is parsed and any
call that reads the wall clock fails this test, unless the module is on the allow-list below.
Elapsed-time clocks (``time.monotonic``, ``perf_counter``) are not wall clocks: they bound
retries and cache ages and never date anything.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import windowkeeper

SHARED = Path(windowkeeper.__file__).parent
FUNCTIONS = SHARED.parent.parent / "functions"

# Edge modules that may read the wall clock, each with why. Everything else receives ``now``.
ALLOWED = {
    SHARED / "clock.py": "the one wall-clock read; handlers take it as their Clock",
}

# Called as an attribute (datetime.now(), time.time(), date.today()...).
WALL_CLOCK_ATTRIBUTES = {"now", "utcnow", "today", "time", "time_ns", "ctime", "asctime"}
# Called with no argument, these read the clock too (with one they only convert).
WALL_CLOCK_WITHOUT_ARGUMENT = {"localtime", "gmtime"}
# ``from time import time`` and friends: a bare call would escape the attribute check.
WALL_CLOCK_NAMES = {("time", "time"), ("time", "time_ns"), ("time", "ctime"), ("time", "localtime")}


def wall_clock_reads(source: str) -> list[str]:
    """``line: call`` for every wall-clock read in ``source``."""
    tree = ast.parse(source)
    imported: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                if (node.module, alias.name) in WALL_CLOCK_NAMES:
                    imported[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    found: list[str] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Attribute):
            if func.attr in WALL_CLOCK_ATTRIBUTES or (
                func.attr in WALL_CLOCK_WITHOUT_ARGUMENT and not node.args
            ):
                found.append(f"{node.lineno}: .{func.attr}()")
        elif isinstance(func, ast.Name) and func.id in imported:
            found.append(f"{node.lineno}: {imported[func.id]}()")
    return found


def _modules() -> list[Path]:
    modules = sorted(SHARED.rglob("*.py")) + sorted(FUNCTIONS.rglob("*.py"))
    assert SHARED / "graph" / "client.py" in modules  # the shape of the tree is what we think
    assert FUNCTIONS / "send" / "send_app.py" in modules
    return modules


def test_no_module_below_the_edge_reads_the_wall_clock() -> None:
    offenders = {
        str(path.relative_to(SHARED.parent.parent)): reads
        for path in _modules()
        if path not in ALLOWED and (reads := wall_clock_reads(path.read_text(encoding="utf-8")))
    }
    assert offenders == {}, f"wall-clock reads outside the allow-list: {offenders}"


def test_the_allow_list_names_real_modules_that_do_read_the_clock() -> None:
    """A stale allow-list entry would let a future read through unnoticed."""
    for path in ALLOWED:
        assert wall_clock_reads(path.read_text(encoding="utf-8")), f"{path} reads no clock"


@pytest.mark.parametrize(
    "source",
    [
        "from datetime import UTC, datetime\ndatetime.now(UTC)\n",
        "import datetime\ndatetime.datetime.utcnow()\n",
        "from datetime import date\ndate.today()\n",
        "import time\ntime.time()\n",
        "from time import time as wall\nwall()\n",
        "import time\ntime.localtime()\n",
    ],
)
def test_the_guard_sees_each_way_of_reading_the_clock(source: str) -> None:
    assert wall_clock_reads(source)


@pytest.mark.parametrize(
    "source",
    [
        "import time\ntime.monotonic()\n",  # elapsed time, not a date
        "import time\ntime.localtime(0)\n",  # a conversion, not a read
        "from datetime import UTC, datetime\ndatetime.fromtimestamp(0, tz=UTC)\n",
        "def decide(now):\n    return now\n",
    ],
)
def test_the_guard_lets_conversions_and_elapsed_time_through(source: str) -> None:
    assert not wall_clock_reads(source)
