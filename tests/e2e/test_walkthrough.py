"""The README's "Walk through" runs: every bash block of the section, in order, in one shell,
against the running local stack, and each block prints what the README says it does.

The shell is a new terminal's: the system PATH, no activated virtualenv, a working directory
whose ``.venv/bin/windowkeeper`` and ``.local-state`` stand for the clone's. Two stand-ins keep
the commands on the suite's calendar (the stack's clock is ``E2E_NOW``, not today's):
``.venv/bin/windowkeeper`` runs the real CLI with the process clock at the stack's instant, and
``date`` on PATH is GNU date relative to that instant. The gateway's URL replaces the default
``http://127.0.0.1:8787`` (the suite's stack listens on a free port).

The stack is the tier's shared one, so the event tap already holds other customers' notices
(the tier's earlier tests leave some; the test adds one of its own so that it does not depend on
their order): step 6's ``events --follow ... --limit 1`` must wait for its own customer's.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.helpers import http
from tests.e2e.test_local_stack import customer_writes
from windowkeeper.policy.model import Channel
from windowkeeper_tools.local.stack import LocalStack, cli_command

pytestmark = pytest.mark.e2e

README = Path(__file__).resolve().parents[2] / "README.md"
DEFAULT_API = "http://127.0.0.1:8787"

# What each block must print (regular expressions), in the order of the section's bash blocks.
EXPECTED: list[list[str]] = [
    [],  # scripts/run: the suite's stack is already running
    [],  # tokens and the send() helper
    [r'"state":\s*"open"', r'"status":\s*"sent".*HTTP 200'],
    [r"human_only.*HTTP 409", r'"path":\s*"human_agent".*HTTP 200'],
    [r"window_closed.*HTTP 409", r"utility_template.*HTTP 200"],
    [r"HTTP 409"],
    [r'"followup_id"', r'"followups"'],
    [r"!window\.closing_soon\s+acme messenger/1111/psid-walk-3", r"customer\.action"],
    [r'"status":\s*"sent".*"path":\s*"direct".*HTTP 200', r"opted_out.*HTTP 409"],
    [r"message\.status", r"contact\.unreachable", r"contact\.consent_changed"],
    [r'"status_code":\s*200', r'"kind":\s*"server_error"', r'"requests"', r'"now"'],
]


# Step 6 (block 7) waits with `events --follow --type window.closing_soon ... --limit 1`: the first
# closing-soon line the block prints is that command's, and it must be the walk-through's customer.
# (The block's `events` listing after it names psid-walk-3 too once the sweep has published, so
# the pattern above alone passed by luck whenever the follower stopped at an older notice.)
FOLLOWED_BLOCK = 7
FOLLOWED_NOTICE = r"!window\.closing_soon\s+acme messenger/1111/psid-walk-3"
EARLIER_CONTACT = "psid-walk-earlier"


def walkthrough_blocks() -> list[str]:
    text = README.read_text(encoding="utf-8")
    section = text.split("\n## Walk through\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```bash\n(.*?)```", section, flags=re.DOTALL)


class Sweeps:
    """The test's stand-in for the loop's minute sweep, every second, keeping what each run said."""

    def __init__(self, stack: LocalStack) -> None:
        self.stack = stack
        self.reports: list[dict[str, Any]] = []
        self.errors: list[str] = []
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._done.wait(1.0):
            try:
                self.reports.append(self.stack.invoke_scheduler({"kind": "sweep"}))
            except Exception as error:  # a failed run must not end the sweeping (the loop goes on too)
                self.errors.append(repr(error))

    def __enter__(self) -> Sweeps:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._done.set()
        self._thread.join(timeout=10)

    def summary(self) -> str:
        published = sum(int(r.get("published", 0)) for r in self.reports if isinstance(r, dict))
        last = self.reports[-1] if self.reports else None
        return (
            f"{len(self.reports)} sweeps, {published} notices published, "
            f"errors {self.errors[-3:]}, last report {last}"
        )


def tap_events(stack: LocalStack) -> list[dict[str, Any]]:
    """Everything the event tap holds, page by page (oldest first)."""
    events: list[dict[str, Any]] = []
    cursor = 0
    while True:
        reply = http("GET", f"{stack.events_url}?after={cursor}")
        assert reply.status == 200, f"GET /_local/events answered {reply.status}: {reply.body}"
        events += reply.body["events"]
        cursor = reply.body["cursor"]
        if not reply.body["more"]:
            return events


def closing_soon_contacts(events: list[dict[str, Any]]) -> list[str]:
    return [e["detail"].get("contact_id") for e in events if e["detail_type"] == "window.closing_soon"]


def tap_summary(stack: LocalStack) -> str:
    """What the event tap holds, for a failure message: how many, and every closing-soon notice."""
    events = tap_events(stack)
    notices = [
        f"#{e['cursor']} {e['time']} {e['detail_type']} {e['detail'].get('contact_id')}"
        for e in events
        if str(e["detail_type"]).endswith("closing_soon")
    ]
    first = events[0]["cursor"] if events else None
    return f"the tap holds {len(events)} events from cursor {first}; " + (
        "closing-soon notices: " + "; ".join(notices) if notices else "no closing-soon notice"
    )


def another_customers_notice_on_the_tap(stack: LocalStack) -> None:
    """A closing-soon notice of another customer, published before the walk-through starts."""
    customer_writes(
        stack,
        Channel.MESSENGER,
        "1111",
        EARLIER_CONTACT,
        "Anyone there?",
        ago=timedelta(hours=23, minutes=30),
    )
    stack.invoke_scheduler({"kind": "sweep"})
    deadline = time.monotonic() + 30
    while EARLIER_CONTACT not in closing_soon_contacts(tap_events(stack)):
        assert time.monotonic() < deadline, tap_summary(stack)
        time.sleep(0.25)
        stack.invoke_scheduler({"kind": "sweep"})


def _stand_ins(root: Path, stack: LocalStack, now: datetime) -> Path:
    """``root/.venv/bin/windowkeeper``, ``root/.local-state`` and ``root/shims/date``."""
    venv_bin = root / ".venv" / "bin"
    venv_bin.mkdir(parents=True)
    (root / ".local-state").symlink_to(stack.settings.state_dir.resolve())
    wrapper = venv_bin / "windowkeeper"
    wrapper.write_text(
        f"#!{sys.executable}\n"
        "import sys, time_machine\n"
        "from datetime import datetime\n"
        "from windowkeeper_tools.cli import main\n"
        f"time_machine.travel(datetime.fromisoformat({now.isoformat()!r}), tick=True).start()\n"
        "sys.exit(main(sys.argv[1:]))\n",
        encoding="utf-8",
    )
    shims = root / "shims"
    shims.mkdir()
    real_date = shutil.which("date") or "/bin/date"
    stamp = now.strftime("%Y-%m-%d %H:%M:%S UTC")
    date = shims / "date"
    date.write_text(
        f"#!{sys.executable}\n"
        "import os, sys\n"
        "args = sys.argv[1:]\n"
        "if '-d' in args:\n"
        "    i = args.index('-d') + 1\n"
        f"    args[i] = {stamp!r} + ' ' + args[i]\n"
        "else:\n"
        f"    args = ['-d', {stamp!r}, *args]\n"
        f"os.execv({real_date!r}, [{real_date!r}, *args])\n",
        encoding="utf-8",
    )
    for script in (wrapper, date):
        script.chmod(0o755)
    return shims


def test_every_command_of_the_walk_through_works(stack: LocalStack, tmp_path: Path) -> None:
    blocks = walkthrough_blocks()
    assert len(blocks) == len(EXPECTED), f"README has {len(blocks)} bash blocks; update EXPECTED"
    assert blocks[0].strip() == "scripts/run"
    assert "WK=.venv/bin/windowkeeper" in blocks[1] and cli_command(README.parent).endswith("windowkeeper")

    another_customers_notice_on_the_tap(stack)
    now = datetime.now(UTC)  # the stack's instant (the suite's clock)
    shims = _stand_ins(tmp_path, stack, now)
    script = ["set -euo pipefail"]
    for index, block in enumerate(blocks[1:], start=1):
        script += [f"echo '@@block {index}@@'", block.replace(DEFAULT_API, stack.api_url)]
    env = {
        "PATH": f"{shims}:/usr/local/bin:/usr/bin:/bin",
        "HOME": os.environ.get("HOME", str(tmp_path)),
        "LANG": "C.UTF-8",
        # The CLI finds the clone's .local-state beside its sources; here, the suite stack's.
        "WINDOWKEEPER_STATE_DIR": str(stack.settings.state_dir),
    }

    # The minute sweep publishes window.closing_soon; the loop would run it within a minute.
    with Sweeps(stack) as sweeps:
        try:
            run = subprocess.run(
                ["/bin/bash", "-c", "\n".join(script)],
                cwd=tmp_path,
                env=env,
                capture_output=True,
                text=True,
                timeout=240,
                check=False,
            )
            stdout, stderr = run.stdout, run.stderr
        except subprocess.TimeoutExpired as timeout:
            run, stdout, stderr = None, _text(timeout.stdout), _text(timeout.stderr)

    def explained(problem: str, printed: str) -> str:
        """The failure, what was printed, and what the stack held then: a failure explains itself."""
        return (
            f"{problem}:\n{printed[-3000:]}\nstderr: {stderr[-3000:]}\n"
            f"{tap_summary(stack)}\n{sweeps.summary()}"
        )

    assert run is not None, explained("the walk-through did not finish in 240 s", stdout)
    assert run.returncode == 0, explained(f"the walk-through stopped (exit {run.returncode})", stdout)
    outputs = re.split(r"@@block \d+@@\n", stdout)[1:]
    assert len(outputs) == len(blocks) - 1
    for index, (output, patterns) in enumerate(zip(outputs, EXPECTED[1:], strict=True), start=1):
        flat = output.replace("\n", " ")
        for pattern in patterns:
            assert re.search(pattern, flat), explained(f"block {index} did not print {pattern!r}", output)
        if index == FOLLOWED_BLOCK:
            followed = next((line for line in output.splitlines() if "window.closing_soon" in line), "")
            assert re.search(FOLLOWED_NOTICE, followed), explained(
                f"`events --follow` of block {index} printed {followed!r}, not psid-walk-3's notice", output
            )


def _text(captured: str | bytes | None) -> str:
    if isinstance(captured, bytes):
        return captured.decode("utf-8", "replace")
    return captured or ""


def test_the_banner_names_a_windowkeeper_command_a_new_terminal_can_run(stack: LocalStack) -> None:
    banner = stack.banner()
    command_lines = [
        line.strip()
        for line in banner.splitlines()
        if re.search(r"windowkeeper(_tools\.cli)? (token|simulate|events)", line)
    ]
    assert len(command_lines) >= 4, banner
    cli = cli_command()
    assert all(line.startswith(f"{cli} ") for line in command_lines), command_lines
    done = subprocess.run(
        ["/bin/sh", "-c", f"{cli} token --help"],
        env={"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": os.environ.get("HOME", "/")},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "source " in banner and "bin/activate" in banner
