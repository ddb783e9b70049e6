"""The console's inbox and composer in headless Chromium against the running local stack.

The inbox: each row shows the customer's name (from what the webhook carried) and the newest
message; a search box and a sort toggle ask the API again; "Load more" follows the cursor. The
composer: Send is disabled while the check says the message cannot go, the reason is a
sentence, and one click on an option applies the tag it names or fills in the template it names.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.e2e.test_console_browser import (  # noqa: F401  (browser: the module-scoped fixture)
    SCREENSHOTS,
    browser,
    console_tab,
    conversation_button,
)
from windowkeeper.policy.model import Channel
from windowkeeper_tools.local.stack import LocalStack
from windowkeeper_tools.simulator.payloads import customer_name

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

INBOX_PREFIX = "4477009051"  # 55 WhatsApp contacts 447700905100..54: more than one page (50)
CONTACTS = 55
PAGE = 50
TAG_CONTACT = "psid-inbox-late"
TEMPLATE_CONTACT = "447700906199"


@pytest.fixture(scope="module")
def inbox(stack: LocalStack) -> LocalStack:
    assert stack.simulator is not None
    sim = stack.simulator.simulator
    now = datetime.now(UTC)
    for index in range(CONTACTS):
        delivery = sim.customer_writes(
            Channel.WHATSAPP,
            "3333",
            f"{INBOX_PREFIX}{index:02d}",
            f"Question number {index}: is the tent waterproof?",
            now - timedelta(minutes=30 + index),
        )
        assert delivery.status_code == 200, delivery.response_text
    for channel, account, contact, text in [
        (Channel.MESSENGER, "1111", TAG_CONTACT, "The zip on my sleeping bag broke."),
        (Channel.WHATSAPP, "3333", TEMPLATE_CONTACT, "Has my order A-77 shipped?"),
    ]:
        delivery = sim.customer_writes(channel, account, contact, text, now - timedelta(days=2))
        assert delivery.status_code == 200, delivery.response_text
    return stack


@pytest.fixture(scope="module")
def page(inbox: LocalStack, browser: Any, agent_token: str) -> Any:  # noqa: F811 (the fixture)
    with console_tab(browser, inbox.console_url, agent_token) as tab:
        yield tab


def test_search_names_previews_and_load_more(page: Any) -> None:
    from playwright.sync_api import expect

    page.get_by_label("Search conversations").fill(INBOX_PREFIX)
    rows = page.locator("button.conversation")
    expect(rows).to_have_count(PAGE, timeout=10_000)
    newest = conversation_button(page, f"{INBOX_PREFIX}00")
    expect(newest.locator(".name")).to_have_text(customer_name(f"{INBOX_PREFIX}00"))
    expect(newest.locator(".preview")).to_have_text("Question number 0: is the tent waterproof?")
    more = page.get_by_role("button", name="Load more conversations")
    expect(more).to_be_visible()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "console-inbox.png"))  # the viewport: tools and first rows
    more.click()
    expect(rows).to_have_count(CONTACTS)
    expect(more).to_be_hidden()
    keys = [rows.nth(i).get_attribute("data-key") or "" for i in range(CONTACTS)]
    assert [k.rsplit("/", 1)[1] for k in keys] == [f"{INBOX_PREFIX}{i:02d}" for i in range(CONTACTS)]

    # Search by name; the sort toggle asks for open windows closing soonest first.
    name = customer_name(f"{INBOX_PREFIX}07")
    page.get_by_label("Search conversations").fill(name.lower())
    page.wait_for_function(  # the list answers the search: every row bears the name
        """name => {
            const names = [...document.querySelectorAll("button.conversation .name")].map(n => n.textContent);
            return names.length > 0 && names.every(n => n.includes(name));
        }""",
        arg=name,
    )
    expect(conversation_button(page, f"{INBOX_PREFIX}07")).to_be_visible()
    page.get_by_label("Search conversations").fill(INBOX_PREFIX)
    page.get_by_label("Sort conversations").select_option("closing")
    # Closing soonest reads every shard of every account of the tenant (one per channel in the
    # example file): on a loaded machine that answer can take several seconds.
    expect(rows.first).to_have_attribute(
        "data-key", f"whatsapp/3333/{INBOX_PREFIX}{CONTACTS - 1}", timeout=20_000
    )
    page.get_by_label("Search conversations").fill("nobody-has-this-name")
    expect(page.locator("#list-empty")).to_have_text("No conversation matches this search.", timeout=20_000)
    page.get_by_label("Search conversations").fill("")
    page.get_by_label("Sort conversations").select_option("recent")


def test_one_click_applies_the_tag_an_option_names(page: Any) -> None:
    from playwright.sync_api import expect

    page.get_by_label("Search conversations").fill(TAG_CONTACT)
    expect(page.locator("button.conversation")).to_have_count(1, timeout=20_000)
    # Messenger messages carry no name: the inbox asked Meta's User Profile API (the simulator).
    expect(conversation_button(page, TAG_CONTACT).locator(".name")).to_have_text(customer_name(TAG_CONTACT))
    conversation_button(page, TAG_CONTACT).click()
    expect(page.locator("#detail-meta")).to_contain_text(TAG_CONTACT)
    page.get_by_label("Message", exact=True).fill("A new zip is in the post.")
    verdict = page.locator("#verdict")
    expect(verdict).to_contain_text("Can go as the HUMAN_AGENT tag", timeout=5_000)
    apply = page.get_by_role("button", name="Apply the HUMAN_AGENT tag")
    apply.click()
    expect(page.get_by_label("Message tag")).to_have_value("HUMAN_AGENT")
    expect(apply).to_be_hidden()
    expect(page.get_by_role("button", name="Send", exact=True)).to_be_enabled()


def test_send_disabled_with_a_sentence_then_one_click_fills_the_template(page: Any) -> None:
    from playwright.sync_api import expect

    page.get_by_label("Search conversations").fill(TEMPLATE_CONTACT)
    conversation_button(page, TEMPLATE_CONTACT).click()
    expect(page.locator("#detail-meta")).to_contain_text(TEMPLATE_CONTACT)
    page.get_by_label("Message", exact=True).fill("Yes, it left this morning.")
    verdict = page.locator("#verdict")
    expect(verdict).to_contain_text("Cannot go.", timeout=5_000)
    expect(verdict).not_to_contain_text("window_closed")  # a sentence, not reason codes
    send = page.get_by_role("button", name="Send", exact=True)
    expect(send).to_be_disabled()
    page.screenshot(path=str(SCREENSHOTS / "console-composer-options.png"), full_page=True)
    page.get_by_role("button", name="Use template order_update").click()
    picker = page.get_by_label("Choose a template")
    expect(picker.locator("option:checked")).to_have_text("order_update (en_US, utility)")
    expect(page.get_by_label("{{1}} order number")).to_be_focused()
    page.get_by_label("{{1}} order number").fill("A-77")
    page.get_by_label("{{2}} status").fill("shipped")
    expect(verdict).to_contain_text("Can go as a utility template", timeout=5_000)
    expect(send).to_be_enabled()
