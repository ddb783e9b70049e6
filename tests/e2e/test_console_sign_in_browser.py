"""Signing in to the console in headless Chromium through the local OpenID provider (the same
code path as the Cognito hosted UI): sign in as an acme agent, open a conversation, sign out,
sign in as a globex agent; then the same switch by pasting a token. After a switch nothing of the
old tenant stays on screen and no request for its accounts is made (today's defect: the old
conversation stayed and its polls were filed as cross-tenant violations)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.e2e.test_console_browser import SCREENSHOTS, browser  # noqa: F401 (fixture)
from windowkeeper.policy.model import Channel
from windowkeeper_tools.local.stack import LocalStack
from windowkeeper_tools.local.tokens import development_claims, mint

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

ACME_CONTACT = "psid-signin-acme"
GLOBEX_CONTACT = "psid-signin-globex"
ACME_ACCOUNTS = ("/1111/", "/2222/", "/3333/")
POLL_WAIT_MS = 7_000  # more than two of the local console's 3-second polls


@pytest.fixture(scope="module")
def seeded(stack: LocalStack) -> LocalStack:
    assert stack.simulator is not None
    sim = stack.simulator.simulator
    now = datetime.now(UTC)
    for channel, account, contact, text in [
        (Channel.MESSENGER, "1111", ACME_CONTACT, "Acme: where is my parcel?"),
        (Channel.MESSENGER, "9999", GLOBEX_CONTACT, "Globex: my invoice is wrong."),
    ]:
        delivery = sim.customer_writes(channel, account, contact, text, now - timedelta(minutes=10))
        assert delivery.status_code == 200, delivery.response_text
    return stack


@pytest.fixture
def tab(seeded: LocalStack, browser: Any) -> Iterator[Any]:  # noqa: F811 (fixture)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB", timezone_id="UTC")
    context.clock.install(time=datetime.now(UTC))
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.requests = []  # every URL the page asks for, in order
    page.on("request", lambda request: page.requests.append(request.url))
    page.goto(seeded.console_url)
    yield page
    assert errors == [], f"JavaScript errors on the page: {errors}"
    context.close()


def _conversation(page: Any, contact: str) -> Any:
    return page.locator(f'button.conversation[data-key$="/{contact}"]')


def _sign_in_as(page: Any, name: str, screenshot: str | None = None) -> None:
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/oauth2/authorize?**")
    page.get_by_label(name).check()
    if screenshot:
        page.screenshot(path=str(SCREENSHOTS / screenshot))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/console/")


def _old_tenant_requests(urls: list[str]) -> list[str]:
    return [url for url in urls if "/v1/" in url and any(account in url for account in ACME_ACCOUNTS)]


def test_sign_in_switch_tenant_and_sign_out_through_the_local_provider(tab: Any) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    _sign_in_as(tab, "Ana Ortiz", screenshot="console-sign-in.png")
    assert "code=" not in tab.url  # the single-use code is not left in the address bar
    tab.get_by_text("Signed in as Ana Ortiz · agent-1 (acme, agent)").wait_for()
    _conversation(tab, ACME_CONTACT).click()
    tab.locator("#detail-meta").get_by_text(ACME_CONTACT, exact=False).wait_for()  # the title: its name
    tab.screenshot(path=str(SCREENSHOTS / "console-signed-in.png"))

    with tab.expect_navigation(url="**/console/"):  # via the provider's /logout and back
        tab.get_by_role("button", name="Sign out").click()
    tab.get_by_role("button", name="Sign in").wait_for()
    assert tab.evaluate("sessionStorage.length") == 0
    assert tab.locator("#whoami").text_content() == ""

    _sign_in_as(tab, "Gus Lindqvist")
    switched_at = len(tab.requests)
    tab.get_by_text("Signed in as Gus Lindqvist · agent-9 (globex, agent)").wait_for()
    _conversation(tab, GLOBEX_CONTACT).wait_for()
    tab.wait_for_timeout(POLL_WAIT_MS)
    assert _conversation(tab, ACME_CONTACT).count() == 0
    assert tab.locator("#detail").is_hidden()
    assert _old_tenant_requests(tab.requests[switched_at:]) == []

    with tab.expect_navigation(url="**/console/"):  # via the provider's /logout and back
        tab.get_by_role("button", name="Sign out").click()
    tab.get_by_role("button", name="Sign in").wait_for()
    assert tab.evaluate("sessionStorage.length") == 0


def test_switching_tenant_by_pasting_a_token_clears_the_old_conversation_and_its_polls(
    tab: Any, seeded: LocalStack
) -> None:
    assert seeded.keys is not None
    acme = mint(seeded.keys, development_claims(subject="agent-1", tenant_id="acme", human=True))
    globex = mint(seeded.keys, development_claims(subject="agent-9", tenant_id="globex", human=True))
    tab.locator("#settings > summary").click()
    tab.get_by_label("Bearer token").fill(acme)
    tab.get_by_role("button", name="Save and connect").click()
    _conversation(tab, ACME_CONTACT).click()
    tab.locator("#detail-meta").get_by_text(ACME_CONTACT, exact=False).wait_for()  # the title: its name

    tab.locator("#settings > summary").click()
    tab.get_by_label("Bearer token").fill(globex)
    switched_at = len(tab.requests)
    tab.get_by_role("button", name="Save and connect").click()
    _conversation(tab, GLOBEX_CONTACT).wait_for()
    tab.wait_for_timeout(POLL_WAIT_MS)
    assert tab.locator("#detail").is_hidden()
    assert tab.locator("#messages li").count() == 0
    assert _conversation(tab, ACME_CONTACT).count() == 0
    assert _old_tenant_requests(tab.requests[switched_at:]) == []


def test_a_token_about_to_expire_is_refreshed_with_the_refresh_token(tab: Any) -> None:
    _sign_in_as(tab, "Ben Walsh")
    tab.get_by_text("Signed in as Ben Walsh · agent-2 (acme, agent)").wait_for()
    session_key = "windowkeeper.console.session"
    before = tab.evaluate(f"JSON.parse(sessionStorage.getItem('{session_key}'))")
    # As if the hour were nearly up: the console refreshes before using the token.
    tab.evaluate(
        f"""sessionStorage.setItem('{session_key}', JSON.stringify(
        {{...JSON.parse(sessionStorage.getItem('{session_key}')), expiresAt: Date.now() + 1000}}))"""
    )
    with tab.expect_request(
        lambda r: r.url.endswith("/oauth2/token") and "refresh_token" in (r.post_data or "")
    ):
        tab.reload()
    tab.get_by_text("Signed in as Ben Walsh · agent-2 (acme, agent)").wait_for()
    tab.get_by_text("Connected: 10 accounts.").wait_for()  # acme's, one per channel
    after = tab.evaluate(f"JSON.parse(sessionStorage.getItem('{session_key}'))")
    assert after["idToken"] != before["idToken"]
    assert after["refreshToken"] == before["refreshToken"]  # Cognito keeps the refresh token
    assert after["expiresAt"] >= before["expiresAt"]  # a fresh hour, not the nearly-spent one
