"""The policy package is pure: no AWS or HTTP clients, and it never reads the clock."""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

import windowkeeper.policy

POLICY_DIR = Path(windowkeeper.policy.__file__).parent
FORBIDDEN_MODULES = {
    "boto3",
    "botocore",
    "httpx",
    "requests",
    "urllib",
    "socket",
    "time",
    "aws_lambda_powertools",
}
CLOCK_CALLS = {"now", "utcnow", "today", "time", "monotonic", "perf_counter", "time_ns"}


def _policy_sources() -> list[Path]:
    sources = sorted(POLICY_DIR.rglob("*.py"))  # the package and its subpackages (paths/)
    assert len(sources) >= 5  # model, rules, engine, promotional, explain
    assert POLICY_DIR / "paths" / "tags.py" in sources  # the evaluators are screened too
    return sources


def test_policy_modules_import_no_io_or_clock_modules() -> None:
    for source in _policy_sources():
        tree = ast.parse(source.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            for name in names:
                assert name.split(".")[0] not in FORBIDDEN_MODULES, f"{source.name} imports {name}"


def test_policy_modules_call_no_clock_function() -> None:
    for source in _policy_sources():
        tree = ast.parse(source.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                assert node.func.attr not in CLOCK_CALLS, (
                    f"{source.name}:{node.lineno} calls .{node.func.attr}()"
                )


def test_deciding_in_a_process_whose_clock_raises() -> None:
    """Import and run the engine with datetime.now/utcnow/today and time.time patched to raise."""
    script = textwrap.dedent(
        """
        import datetime as real_datetime, sys, time

        class NoClock(real_datetime.datetime):
            @classmethod
            def now(cls, tz=None):
                raise AssertionError("the engine read the clock")
            utcnow = today = now

        def no_time(*args):
            raise AssertionError("the engine read the clock")

        real_datetime.datetime = NoClock
        time.time = time.time_ns = time.monotonic = no_time

        from windowkeeper.policy.engine import decide, evaluate_paths, window_closings
        from windowkeeper.policy import model as m

        at = real_datetime.datetime(2026, 11, 21, 10, 0, tzinfo=real_datetime.timezone.utc)
        contact = m.ContactState(channel=m.Channel.MESSENGER, account_id="p", contact_id="c",
                                 last_customer_action_at=at - real_datetime.timedelta(hours=30),
                                 last_customer_action_kind=m.CustomerActionKind.MESSAGE)
        account = m.AccountProfile(channel=m.Channel.MESSENGER, account_id="p", tenant_id="t",
                                   permissions=frozenset({"human_agent"}))
        sender = m.Sender(kind=m.SenderKind.HUMAN, principal_id="agent")
        decision = decide(m.DecisionInput(contact=contact, account=account, sender=sender,
                                          content=m.Content(kind=m.ContentKind.TEXT, text="Hello")), at)
        evaluate_paths(contact, account, sender, at)
        window_closings(contact, account)
        banned = {"boto3", "botocore", "httpx"} & set(sys.modules)
        assert not banned, banned
        print(decision.path)
        """
    )
    shared = str(POLICY_DIR.parent.parent)
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": shared},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "human_agent"
