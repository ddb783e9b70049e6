"""``windowkeeper events``: its filters, and ``--follow --limit`` waiting for the event asked for.

The tap is played by a stand-in for ``httpx.get`` that answers each poll from a script, so the
order of what the stack published and when the command asked is exact.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from windowkeeper_tools.cli import main

TAP = "http://127.0.0.1:9/_local/events"


def notice(cursor: int, contact_id: str, detail_type: str = "window.closing_soon") -> dict[str, Any]:
    detail = {"tenant_id": "acme", "channel": "messenger", "account_id": "1111", "contact_id": contact_id}
    return {
        "cursor": cursor,
        "event_id": f"C#messenger#1111#{contact_id}#{detail_type}#{cursor}",
        "detail_type": detail_type,
        "time": "2026-11-21T10:00:00Z",
        "tenant_id": "acme",
        "detail": {**detail, "message": f"about {contact_id}"},
    }


class ScriptedTap:
    """Answers the n-th poll with the n-th page (then the last one again), recording each ``after``."""

    def __init__(self, pages: list[list[dict[str, Any]]]) -> None:
        self.pages = pages
        self.asked_after: list[int] = []

    def get(self, url: str, *, params: dict[str, Any], timeout: float) -> httpx.Response:
        assert url == TAP
        self.asked_after.append(int(params["after"]))
        page = self.pages[min(len(self.asked_after), len(self.pages)) - 1]
        newer = [e for e in page if e["cursor"] > int(params["after"])]
        cursor = max([int(params["after"]), *(e["cursor"] for e in page)])
        return httpx.Response(200, json={"events": newer, "cursor": cursor, "more": False})


@pytest.fixture
def tap(monkeypatch: pytest.MonkeyPatch) -> ScriptedTap:
    scripted = ScriptedTap([])
    monkeypatch.setattr(httpx, "get", scripted.get)
    return scripted


def test_follow_with_a_limit_waits_for_the_contact_asked_for_past_another_contacts_earlier_notice(
    tap: ScriptedTap, capsys: pytest.CaptureFixture[str]
) -> None:
    # The README's step 6: the tap already holds another customer's closing-soon notice when the
    # command starts; this customer's comes with a later sweep.
    earlier = notice(1, "psid-earlier")
    tap.pages = [
        [earlier],
        [earlier, notice(2, "psid-walk-3", "customer.action")],
        [earlier, notice(3, "psid-walk-3")],
    ]
    argv = ["events", "--events-url", TAP, "--follow", "--interval", "0"]
    code = main([*argv, "--type", "window.closing_soon", "--contact", "psid-walk-3", "--limit", "1"])

    assert code == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1, lines
    assert "!window.closing_soon" in lines[0] and "acme messenger/1111/psid-walk-3" in lines[0]
    assert tap.asked_after == [0, 1, 2]  # it kept polling from its cursor until the notice came


def test_a_notice_published_before_the_command_started_is_printed_at_once(
    tap: ScriptedTap, capsys: pytest.CaptureFixture[str]
) -> None:
    tap.pages = [[notice(1, "psid-other"), notice(2, "psid-walk-3"), notice(3, "psid-other")]]
    code = main(["events", "--events-url", TAP, "--follow", "--contact", "psid-walk-3", "--limit", "1"])

    assert code == 0
    assert [line.split()[-3] for line in capsys.readouterr().out.splitlines()] == [
        "messenger/1111/psid-walk-3"
    ]
    assert tap.asked_after == [0]


def test_without_follow_the_contact_filter_lists_that_contacts_events_only(
    tap: ScriptedTap, capsys: pytest.CaptureFixture[str]
) -> None:
    tap.pages = [
        [notice(1, "psid-a"), notice(2, "psid-b", "customer.action"), notice(3, "psid-a", "window.closed")]
    ]
    code = main(["events", "--events-url", TAP, "--contact", "psid-a"])

    assert code == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[1] for line in lines] == ["!window.closing_soon", "window.closed"]
    assert all("psid-a" in line for line in lines)
