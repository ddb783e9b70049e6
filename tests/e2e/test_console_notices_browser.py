"""The console's notifications panel in headless Chromium: events from the local event tap.

A window closing soon comes the real way (a customer's webhook, then the sweep). A refused
follow-up and a stuck send are put on the local bus by the bus publisher the services use, with
the details those services emit (their own firing needs a window to close or an invocation to
die, which the integration tier covers); the rest of the path (rule -> queue -> tap -> console)
is the real one. Another tenant's agent sees none of it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.e2e.test_console_browser import SCREENSHOTS, browser, console_tab  # noqa: F401 (fixture)
from tests.support.event_schemas import assert_conforms
from windowkeeper import bus
from windowkeeper.events import BusEvent, DetailType
from windowkeeper.policy.model import Channel
from windowkeeper_tools.local.stack import LocalStack

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

CLOSING_CONTACT = "psid-notice-closing"
FOLLOWUP_CONTACT = "igsid-notice-followup"
STUCK_CONTACT = "psid-notice-stuck"


def _followup_refused(now: datetime) -> BusEvent:
    detail = {
        "followup_id": "fu-notice-1",
        "tenant_id": "acme",
        "channel": "instagram",
        "account_id": "2222",
        "contact_id": FOLLOWUP_CONTACT,
        "status": "refused",
        "status_reason": "window_closed",
        "reasons": ["window_closed"],
        "path": None,
        "used_fallback": False,
        "platform_message_id": None,
        "send_at": now.isoformat(),
        "explanation": "Refused: the 24-hour window closed at 09:40 UTC and a bot cannot use HUMAN_AGENT.",
    }
    return BusEvent(DetailType.FOLLOWUP_REFUSED, "followup#fu-notice-1#refused", detail)


def _followup_stuck(now: datetime) -> BusEvent:
    detail = {
        "followup_id": "fu-notice-2",
        "tenant_id": "acme",
        "channel": "messenger",
        "account_id": "1111",
        "contact_id": STUCK_CONTACT,
        "status": "stuck",
        "started_at": (now - timedelta(minutes=20)).isoformat(),
        "message": "A follow-up to a Messenger contact started and never finished: it may have been "
        "delivered. Windowkeeper will not retry it; check the conversation.",
    }
    return BusEvent(DetailType.FOLLOWUP_STUCK, "followup#fu-notice-2#stuck", detail)


@pytest.fixture(scope="module")
def noticed(stack: LocalStack) -> LocalStack:
    assert stack.simulator is not None
    now = datetime.now(UTC)
    delivery = stack.simulator.simulator.customer_writes(
        Channel.MESSENGER,
        "1111",
        CLOSING_CONTACT,
        "Is the tent still in stock?",
        now - timedelta(hours=23, minutes=30),
    )
    assert delivery.status_code == 200
    stack.invoke_scheduler({"kind": "sweep"})
    events = [_followup_refused(now), _followup_stuck(now)]
    for event in events:
        assert_conforms(event.detail_type, {**event.detail, "event_id": event.event_id})
    bus.publish(events)
    return stack


def test_the_panel_lists_what_needs_a_person_and_opens_the_conversation(
    noticed: LocalStack,
    browser: Any,  # noqa: F811 (the fixture imported above)
    agent_token: str,
) -> None:
    from playwright.sync_api import expect

    with console_tab(browser, noticed.console_url, agent_token) as page:
        panel = page.get_by_role("region", name="Notifications")
        expect(panel).to_be_visible(timeout=10_000)
        closing = panel.locator('li[data-detail-type="window.closing_soon"]', has_text=CLOSING_CONTACT)
        expect(closing).to_be_visible(timeout=15_000)
        expect(closing).to_contain_text("Window closing soon")
        expect(closing).to_contain_text("The messaging window closes at")
        refused = panel.locator('li[data-detail-type="followup.refused"]', has_text=FOLLOWUP_CONTACT)
        expect(refused).to_contain_text("Follow-up refused")
        expect(refused).to_contain_text("a bot cannot use HUMAN_AGENT")
        stuck = panel.locator('li[data-detail-type="followup.stuck"]', has_text=STUCK_CONTACT)
        expect(stuck).to_contain_text("Stuck send")
        # Everything else is counted compactly, customer messages among it.
        expect(panel.locator("#notices-others-summary")).to_contain_text("other event")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "console-notifications.png"), full_page=False)
        # A notice opens its conversation.
        closing.get_by_role("button").click()
        expect(page.locator("#detail-title")).to_contain_text(CLOSING_CONTACT, timeout=10_000)


def test_another_tenants_agent_sees_none_of_acmes_notices(
    noticed: LocalStack,
    browser: Any,  # noqa: F811 (the fixture imported above)
    other_tenant_token: str,
) -> None:
    from playwright.sync_api import expect

    with console_tab(browser, noticed.console_url, other_tenant_token) as page:
        panel = page.get_by_role("region", name="Notifications")
        expect(panel).to_be_visible(timeout=10_000)
        expect(panel.locator("#notices-empty")).to_have_text("Nothing needs you right now.", timeout=10_000)
        page.wait_for_timeout(3_500)  # one more poll
        assert panel.locator("li.notice").count() == 0
