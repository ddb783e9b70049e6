"""The agent console in headless Chromium against the running local stack: an agent sees the
conversations with their countdowns, is offered HUMAN_AGENT on a Messenger conversation whose
window closed, takes over and sends; on WhatsApp the same attempt offers the template picker.
Below the composer: pending follow-ups with Cancel, consent per scope (an opt-out recorded by an
agent refuses marketing templates; an automation's opt-in is refused with the API's sentence), and
the decision history, newest first, paged with "Load more"."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
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
FOLLOWUP_CONTACT = "igsid-browser-followup"
CONSENT_CONTACT = "447700900888"
HISTORY_CONTACT = "psid-browser-history"
HISTORY_PAGE = 20  # the console asks for 20 decisions at a time


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
        (Channel.INSTAGRAM, "2222", FOLLOWUP_CONTACT, "Is my repair done yet?", now - timedelta(minutes=20)),
        (Channel.WHATSAPP, "3333", CONSENT_CONTACT, "Stop the sale messages.", now - timedelta(hours=1)),
        (Channel.MESSENGER, "1111", HISTORY_CONTACT, "Where is my refund?", now - timedelta(days=2)),
    ]:
        delivery = sim.customer_writes(channel, account, contact, text, at)
        assert delivery.status_code == 200, delivery.response_text
    return stack


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/ensure-browser")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield launched
        launched.close()


@contextmanager
def console_tab(browser: Any, console_url: str, token: str) -> Iterator[Any]:
    """A fresh browser profile on the console, signed in with ``token``; fails on any JS error."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB", timezone_id="UTC")
    # The page's clock follows the test process's (moved to the suite's calendar), so countdowns
    # computed in the browser agree with the instants the stack answers with.
    context.clock.install(time=datetime.now(UTC))
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    tab.goto(console_url)
    # The paste-a-token box is the advanced path, under Settings (Sign in is the main one).
    tab.locator("#settings > summary").click()
    tab.get_by_label("Bearer token").fill(token)
    tab.get_by_role("button", name="Save and connect").click()
    yield tab
    assert errors == [], f"JavaScript errors on the page: {errors}"
    context.close()


@pytest.fixture(scope="module")
def page(seeded: LocalStack, browser: Any, agent_token: str) -> Iterator[Any]:
    with console_tab(browser, seeded.console_url, agent_token) as tab:
        yield tab


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
    expect(page.locator("#verdict")).not_to_contain_text("window_closed")  # a sentence, not codes
    expect(page.get_by_role("button", name="Send", exact=True)).to_be_disabled()

    page.get_by_role("button", name="Use template order_update").click()
    picker = page.get_by_label("Choose a template")
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


def contact_path(channel: str, account: str, contact: str) -> str:
    return f"/v1/contacts/{channel}/{account}/{contact}"


def test_schedule_a_follow_up_then_cancel_it_from_the_list(
    page: Any, seeded: LocalStack, agent_token: str
) -> None:
    from playwright.sync_api import expect

    conversation_button(page, FOLLOWUP_CONTACT).click()
    expect(page.locator("#detail-meta")).to_contain_text(FOLLOWUP_CONTACT)
    expect(page.locator("#followups-empty")).to_have_text("No follow-ups pending.")

    # The browser runs in UTC, so the datetime-local value is the UTC instant.
    fires_at = (datetime.now(UTC) + timedelta(hours=3)).replace(second=0, microsecond=0)
    page.get_by_text("Schedule a follow-up").click()
    page.get_by_label("Send at (your local time)").fill(fires_at.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Follow-up message").fill("Your repair is ready for pick-up.")
    page.get_by_role("button", name="Schedule", exact=True).click()
    expect(page.locator("#status")).to_contain_text("Follow-up scheduled", timeout=10_000)

    items = page.locator("#followups li")
    expect(items).to_have_count(1)
    expect(items.first).to_contain_text("Fires")
    expect(items.first).to_contain_text("(in 2h 5")  # ticks down from just under 3 hours
    expect(items.first).to_contain_text("Purpose: support")
    expect(page.locator("#followups-empty")).to_be_hidden()
    cancel = items.first.get_by_role("button", name="Cancel the follow-up of")
    followup_id = cancel.get_attribute("data-followup-id")
    assert followup_id
    scheduled = http("GET", f"{seeded.api_url}/v1/followups/{followup_id}", token=agent_token)
    assert scheduled.status == 200, scheduled.body
    assert scheduled.body["followup"]["status"] == "scheduled"

    cancel.focus()
    page.keyboard.press("Enter")  # keyboard operable, like every control
    expect(page.locator("#status")).to_contain_text("cancelled", timeout=10_000)
    expect(items).to_have_count(0)
    expect(page.locator("#followups-empty")).to_be_visible()
    # Focus lands on the form to schedule another rather than on the page's top.
    expect(page.locator("#followup-details summary")).to_be_focused()
    cancelled = http("GET", f"{seeded.api_url}/v1/followups/{followup_id}", token=agent_token)
    assert cancelled.body["followup"]["status"] == "cancelled"


def test_marketing_opt_out_shows_in_consent_and_refuses_a_marketing_template(
    page: Any, seeded: LocalStack, agent_token: str
) -> None:
    from playwright.sync_api import expect

    # An earlier reply inside the window, for the history to show.
    earlier = http(
        "POST",
        f"{seeded.api_url}/v1/messages",
        {
            "channel": "whatsapp",
            "account_id": "3333",
            "contact_id": CONSENT_CONTACT,
            "content": {"type": "text", "text": "Sorry about that, we will take you off the list."},
        },
        token=agent_token,
    )
    assert earlier.status == 200, earlier.body

    conversation_button(page, CONSENT_CONTACT).click()
    expect(page.locator("#detail-meta")).to_contain_text(CONSENT_CONTACT)
    marketing = page.locator('#consent-scopes dd[data-scope="marketing"]')
    expect(marketing).to_have_text("Not opted out")

    # The template's body, filled in as the agent types.
    page.get_by_role("radio", name="Template").check()
    page.get_by_label("Choose a template").select_option(label="winter_sale (en_US, marketing)")
    preview = page.locator("#template-body")
    expect(preview).to_have_text("Hi [first name], our winter sale starts today: 20% off all jackets.")
    page.get_by_label("{{1}} first name").fill("Mia")
    expect(preview).to_have_text("Hi Mia, our winter sale starts today: 20% off all jackets.")
    expect(preview.locator("mark")).to_have_text("Mia")
    # Before the opt-out the template is held back only for want of an opt-in on record.
    before = page.locator("#verdict")
    expect(before).to_contain_text("need the contact's opt-in on record", timeout=5_000)
    expect(before).not_to_contain_text("opted out")

    page.get_by_text("Record what the customer asked for").click()
    page.get_by_label("Scope").select_option("marketing")
    page.get_by_label("Opt out").check()
    page.get_by_label("Note (kept only as a hash)").fill("Asked by phone to get no more offers.")
    page.get_by_role("button", name="Record consent change").click()
    expect(page.locator("#consent-result")).to_have_text("Recorded the opt-out of marketing.", timeout=10_000)
    expect(marketing).to_have_text("Opted out")
    expect(page.locator('#consent-scopes dd[data-scope="all"]')).to_have_text("Not opted out")
    expect(page.locator("#consent-extra")).to_contain_text("Last changed")

    verdict = page.locator("#verdict")
    expect(verdict).to_contain_text("Cannot go", timeout=5_000)
    expect(verdict).to_contain_text(re.compile("opted out", re.IGNORECASE))
    stored = http(
        "GET", f"{seeded.api_url}{contact_path('whatsapp', '3333', CONSENT_CONTACT)}", token=agent_token
    )
    assert stored.body["consent"]["opted_out"] == {"all": False, "marketing": True, "outside_window": False}

    # Send is not even offered; the history (newest first) has the consent change and the reply.
    expect(page.get_by_role("button", name="Send", exact=True)).to_be_disabled()
    page.get_by_text("Decision history").click()
    entries = page.locator("#history-list > li")
    expect(entries).to_have_count(2, timeout=10_000)
    expect(entries.nth(0)).to_contain_text("Consent recorded")
    expect(entries.nth(0)).to_contain_text("Agent agent-1 · opt-out of marketing")
    expect(entries.nth(1)).to_contain_text("Sent")
    expect(entries.nth(1)).to_contain_text("via a normal reply")
    expect(page.locator("#history-more")).to_be_hidden()
    page.screenshot(path=str(SCREENSHOTS / "console-history-and-consent.png"), full_page=True)


def test_an_automation_cannot_opt_a_customer_back_in(
    browser: Any, seeded: LocalStack, bot_token: str
) -> None:
    from playwright.sync_api import expect

    with console_tab(browser, seeded.console_url, bot_token) as tab:
        conversation_button(tab, CONSENT_CONTACT).click()
        expect(tab.locator("#detail-meta")).to_contain_text(CONSENT_CONTACT)
        tab.get_by_text("Record what the customer asked for").click()
        tab.get_by_label("Scope").select_option("marketing")
        tab.get_by_label("Opt in").check()
        tab.get_by_role("button", name="Record consent change").click()
        result = tab.locator("#consent-result")
        # The API's own 403 sentence, with its reason.
        expect(result).to_contain_text("(human_only)", timeout=10_000)
        expect(result).to_have_class("form-result refused")


def test_decision_history_pages_newest_first_with_load_more(
    page: Any, seeded: LocalStack, agent_token: str, bot_token: str
) -> None:
    from playwright.sync_api import expect

    contact = {"channel": "messenger", "account_id": "1111", "contact_id": HISTORY_CONTACT}
    sent = http(
        "POST",
        f"{seeded.api_url}/v1/messages",
        {**contact, "tag": "HUMAN_AGENT", "content": {"type": "text", "text": "Your refund left today."}},
        token=agent_token,
    )
    assert sent.status == 200, sent.body
    # More bot attempts than one page holds: each is refused (a person must answer after 24 hours).
    for attempt in range(HISTORY_PAGE + 1):
        refused = http(
            "POST",
            f"{seeded.api_url}/v1/messages",
            {**contact, "content": {"type": "text", "text": f"Automatic answer {attempt}"}},
            token=bot_token,
        )
        assert refused.status == 409, refused.body

    conversation_button(page, HISTORY_CONTACT).click()
    expect(page.locator("#detail-meta")).to_contain_text(HISTORY_CONTACT)
    history = page.locator("#history")
    if history.get_attribute("open") is None:
        page.get_by_text("Decision history").click()
    entries = page.locator("#history-list > li")
    expect(entries).to_have_count(HISTORY_PAGE, timeout=10_000)
    expect(entries.first).to_contain_text("Refused")
    expect(entries.first).to_contain_text("Bot bot-1")
    expect(entries.first).to_contain_text("human_only")
    more = page.get_by_role("button", name="Load more")
    expect(more).to_be_visible()

    more.focus()
    page.keyboard.press("Enter")
    expect(entries).to_have_count(HISTORY_PAGE + 2, timeout=10_000)
    expect(more).to_be_hidden()
    oldest = entries.last
    expect(oldest).to_contain_text("Sent")
    expect(oldest).to_contain_text("Agent agent-1 · via the HUMAN_AGENT tag")
    expect(oldest).to_contain_text("tag HUMAN_AGENT")
    expect(page.locator("#history-status")).to_contain_text("22 decisions shown, that is all.")
    # The first entry the button brought in takes focus, since the button is gone.
    expect(entries.nth(HISTORY_PAGE)).to_be_focused()


def test_a_page_blocked_by_meta_is_said_above_the_conversation_until_meta_lifts_it(
    page: Any, seeded: LocalStack
) -> None:
    """Meta's ``messaging_policy_enforcement`` block reaches the console through the account's
    health (GET /v1/accounts, polled with the conversations); the unblock takes it away."""
    from playwright.sync_api import expect

    assert seeded.simulator is not None
    sim = seeded.simulator.simulator
    blocked_at = datetime.now(UTC)
    reason = "The bot violated our Platform Policies."
    assert (
        sim.policy_enforcement(Channel.MESSENGER, "1111", "block", blocked_at, reason=reason).status_code
        == 200
    )
    try:
        conversation_button(page, HISTORY_CONTACT).click()
        alert = page.locator("#account-health")
        expect(alert).to_be_visible(timeout=15_000)
        expect(alert).to_contain_text("Meta blocked this app from messaging for the account")
        expect(alert).to_contain_text("sends resume when Meta unblocks it")
        page.screenshot(path=str(SCREENSHOTS / "console-account-health.png"))  # the viewport: the alert
    finally:
        lifted = sim.policy_enforcement(
            Channel.MESSENGER, "1111", "unblock", blocked_at + timedelta(seconds=1)
        )
        assert lifted.status_code == 200
    expect(page.locator("#account-health")).to_be_hidden(timeout=15_000)
