"""The console on a channel beyond Meta's, in headless Chromium: a Telegram user who started the
bot shows in the list as Telegram, and an agent's reply is decided and delivered by Telegram's
(simulated) Bot API, the status naming Telegram, not Meta."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.helpers import http
from tests.e2e.test_console_browser import SCREENSHOTS, browser, console_tab  # noqa: F401 (fixture)
from windowkeeper_tools.local.stack import LocalStack

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

BOT = "acme_support_bot"
CONTACT = "7200001"


def test_an_agent_answers_a_telegram_user_from_the_console(
    stack: LocalStack,
    browser: Any,  # noqa: F811 (the fixture imported above)
    agent_token: str,
) -> None:
    from playwright.sync_api import expect

    played = http(
        "POST",
        f"{stack.simulator_url}/_sim/customer",
        {
            "channel": "telegram",
            "account_id": BOT,
            "contact_id": CONTACT,
            "kind": "start",
            "ago_seconds": 120,
        },
    )
    assert played.status == 200 and played.body["webhook"]["status_code"] == 200, played.body
    with console_tab(browser, stack.console_url, agent_token) as page:
        page.locator("#channel-filter").select_option("telegram")
        row = page.locator(f'button.conversation[data-key$="/{CONTACT}"]')
        expect(row).to_be_visible(timeout=10_000)
        expect(row).to_contain_text("Telegram")
        row.click()
        expect(page.locator("#detail-meta")).to_contain_text("Telegram")
        page.get_by_label("Message", exact=True).fill("Hi! How can we help with your order?")
        expect(page.locator("#verdict")).to_contain_text("a direct message", timeout=5_000)
        page.get_by_role("button", name="Send", exact=True).click()
        expect(page.locator("#status")).to_contain_text(
            "Delivered to Telegram as a direct message", timeout=20_000
        )
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "console-telegram.png"), full_page=True)
    calls = http("GET", f"{stack.simulator_url}/_sim/requests?edge=sendMessage").body["requests"]
    assert [c["body"]["text"] for c in calls if str(c["body"].get("chat_id")) == CONTACT] == [
        "Hi! How can we help with your order?"
    ]
