"""The agent console in headless Chromium against the running local stack: an agent sees the
conversations with their countdowns, is offered HUMAN_AGENT on a Messenger conversation whose
window closed, takes over and sends; on WhatsApp the same attempt offers the template picker."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.helpers import http
from windowkeeper.policy.model import Channel
from windowkeeper_tools.local.stack import LocalStack

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

CHROMIUM = os.environ.get("WINDOWKEEPER_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Screenshots land in test-results/ (ignored); WINDOWKEEPER_UPDATE_SCREENSHOTS=1 refreshes the ones
# the README shows, so an ordinary test run never rewrites tracked files.
_REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = (
    _REPO / "docs" / "screenshots"
    if os.environ.get("WINDOWKEEPER_UPDATE_SCREENSHOTS") == "1"
    else _REPO / "test-results" / "screenshots"
)
MESSENGER_CONTACT = "psid-browser-late"
WHATSAPP_CONTACT = "447700900777"
INSTAGRAM_CONTACT = "igsid-browser-fresh"


@pytest.fixture(scope="module")
def seeded(stack: LocalStack) -> LocalStack:
    assert stack.simulator is not None
    sim = stack.simulator.simulator
    now = datetime.now(UTC)
    for channel, account, contact, text, at in [
        (
            Channel.MESSENGER,
            "1111",
            MESSENGER_CONTACT,
            "My tent pole snapped, can you help?",
            now - timedelta(days=2),
        ),
        (Channel.WHATSAPP, "3333", WHATSAPP_CONTACT, "When does my order arrive?", now - timedelta(days=2)),
        (
            Channel.INSTAGRAM,
            "2222",
            INSTAGRAM_CONTACT,
            "Do you have the blue jacket in M?",
            now - timedelta(minutes=5),
        ),
    ]:
        delivery = sim.customer_writes(channel, account, contact, text, at)
        assert delivery.status_code == 200, delivery.response_text
    return stack


@pytest.fixture(scope="module")
def page(seeded: LocalStack, agent_token: str) -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/ensure-browser")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        context = browser.new_context(
            viewport={"width": 1280, "height": 900}, locale="en-GB", timezone_id="UTC"
        )
        tab = context.new_page()
        errors: list[str] = []
        tab.on("pageerror", lambda error: errors.append(str(error)))
        tab.goto(seeded.console_url)
        # First visit: no token yet, so the settings form is open.
        tab.get_by_label("Bearer token").fill(agent_token)
        tab.get_by_role("button", name="Save and connect").click()
        yield tab
        assert errors == [], f"JavaScript errors on the page: {errors}"
        context.close()
        browser.close()


def conversation_button(page: Any, contact: str) -> Any:
    return page.locator(f'button.conversation[data-key$="/{contact}"]')


def test_conversation_list_shows_states_and_live_countdowns(page: Any) -> None:
    from playwright.sync_api import expect

    fresh = conversation_button(page, INSTAGRAM_CONTACT)
    expect(fresh).to_be_visible(timeout=10_000)
    expect(fresh.locator(".badge")).to_have_text("Open")
    countdown = fresh.locator(".countdown")
    expect(countdown).to_contain_text("Reply window: closes in 23h")
    first = countdown.inner_text()
    # Ticks client-side, between polls.
    expect(countdown).not_to_have_text(first, timeout=3_000)
    expect(conversation_button(page, MESSENGER_CONTACT).locator(".badge")).to_have_text("Human agent only")
    expect(conversation_button(page, WHATSAPP_CONTACT).locator(".badge")).to_have_text("Template only")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "console-conversations.png"), full_page=True)


def test_messenger_after_two_days_offers_human_agent_then_delivers(page: Any, seeded: LocalStack) -> None:
    from playwright.sync_api import expect

    conversation_button(page, MESSENGER_CONTACT).click()
    expect(page.locator("#detail-meta")).to_contain_text(MESSENGER_CONTACT)
    expect(page.locator("#messages")).to_contain_text("My tent pole snapped")
    expect(page.locator("#detail-windows")).to_contain_text("Reply window: closed 1d")

    page.get_by_label("Message", exact=True).fill("A new pole is on its way, free of charge.")
    verdict = page.locator("#verdict")
    expect(verdict).to_contain_text("HUMAN_AGENT", timeout=5_000)
    expect(page.locator("#options")).to_contain_text(
        "a normal reply (inside the 24-hour window): not available"
    )

    page.get_by_role("button", name="Take over from the bot").click()
    expect(page.locator("#detail-owner")).to_contain_text("Handled by agent-1")
    expect(page.get_by_role("button", name="Give back to the bot")).to_be_focused()
    page.screenshot(path=str(SCREENSHOTS / "console-messenger-human-agent.png"), full_page=True)

    with page.expect_request(lambda r: r.url.endswith("/v1/messages") and r.method == "POST") as sending:
        page.get_by_role("button", name="Send", exact=True).click()
    # Every send carries a key, so a repeated click or a retry after a timeout cannot send twice.
    assert sending.value.headers.get("idempotency-key")
    expect(page.locator("#status")).to_contain_text(
        "Delivered to Meta as the HUMAN_AGENT tag", timeout=20_000
    )
    expect(page.locator("#messages")).to_contain_text("A new pole is on its way")

    graph = http("GET", f"{seeded.simulator_url}/_sim/requests?edge=messages").body
    calls = graph["requests"] if isinstance(graph, dict) else graph
    sent = [
        c
        for c in calls
        if (c["body"].get("recipient") or {}).get("id") == MESSENGER_CONTACT and c["status"] == 200
    ]
    assert [c["body"]["tag"] for c in sent] == ["HUMAN_AGENT"]


def test_whatsapp_after_two_days_offers_the_template_picker(page: Any, seeded: LocalStack) -> None:
    from playwright.sync_api import expect

    conversation_button(page, WHATSAPP_CONTACT).click()
    expect(page.locator("#detail-meta")).to_contain_text(WHATSAPP_CONTACT)
    page.get_by_label("Message", exact=True).fill("It arrives tomorrow.")
    expect(page.locator("#verdict")).to_contain_text("Cannot go", timeout=5_000)
    expect(page.locator("#verdict")).to_contain_text("window_closed")

    page.get_by_role("button", name="Reopen with a template").first.click()
    picker = page.get_by_label("Choose a template")
    expect(picker).to_be_focused()
    expect(picker.locator("option", has_text="summer_clearance")).to_be_disabled()
    picker.select_option(label="order_update (en_US, utility)")
    page.get_by_label("{{1}} order number").fill("A-1042")
    page.get_by_label("{{2}} status").fill("out for delivery")
    expect(page.locator("#verdict")).to_contain_text("Can go as a utility template", timeout=5_000)
    page.screenshot(path=str(SCREENSHOTS / "console-whatsapp-template.png"), full_page=True)

    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.locator("#status")).to_contain_text("Delivered to Meta as a utility template")
    graph = http("GET", f"{seeded.simulator_url}/_sim/requests?edge=messages").body
    calls = graph["requests"] if isinstance(graph, dict) else graph
    sent = [c for c in calls if c["body"].get("to") == WHATSAPP_CONTACT and c["status"] == 200]
    assert [c["body"]["template"]["name"] for c in sent] == ["order_update"]
