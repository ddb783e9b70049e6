"""The webhook's use cases on in-memory ports: what a signed POST stores, quarantines and publishes.

Meta's recorded payloads (``tests/fixtures/meta``) go through the real signature check, parser,
normaliser, collapse and write plan; only the backends are fakes (``tests/support/fakes/webhook.py``).
The same flows run against moto and over HTTP in ``tests/integration/webhook``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from tests.support.fakes.webhook import InMemoryWebhookBackends
from tests.unit.ingest.meta_fixtures import ALL_ACCOUNTS, BASE_MS, PAGE_ID, PSID_A, raw
from windowkeeper.events import DetailType
from windowkeeper.ingest.service import Outcome, handle_post, handle_subscription
from windowkeeper.ingest.signature import SIGNATURE_HEADER, sign
from windowkeeper.instants import from_ms
from windowkeeper.policy.model import Channel, ConsentScope, CustomerActionKind

APP_SECRET = "3f1c2a9b8e7d6c5b4a39281706f5e4d3"
NOW = datetime(2026, 11, 21, 22, 0, 30, tzinfo=UTC)  # half a minute after the fixtures' messages


def backends() -> InMemoryWebhookBackends:
    return InMemoryWebhookBackends.of(*ALL_ACCOUNTS, app_secret=APP_SECRET)


def post(meta: InMemoryWebhookBackends, body: bytes, *, signed_with: str = APP_SECRET) -> Outcome:
    headers = {SIGNATURE_HEADER: sign(body, signed_with)}
    return handle_post(body, headers, meta.ports(), now=NOW)


def test_a_customers_message_opens_the_window_at_its_own_timestamp() -> None:
    meta = backends()
    body = raw("messenger_text_start_keyword.json")
    outcome = post(meta, body)

    assert (outcome.status, outcome.body) == (200, {"status": "ok", "events": 1})
    contact = meta.contact("messenger", PAGE_ID, PSID_A)
    assert contact is not None
    assert contact.last_customer_action_kind is CustomerActionKind.MESSAGE
    written_at = from_ms(contact.last_customer_action_ms)
    assert (
        written_at is not None and datetime.fromtimestamp(BASE_MS / 1000, UTC) < written_at < NOW
    )  # own instant
    assert contact.due_kind is not None  # the closing-soon notice is queued
    assert "MSG" in meta.item_kinds() and "H" in meta.item_kinds()
    [action] = [e for e in meta.published if e.detail_type == DetailType.CUSTOMER_ACTION]
    assert action.detail["route"] == "bot"
    assert meta.quarantined == []


def test_a_stop_keyword_opts_out_and_files_a_consent_record() -> None:
    meta = backends()
    post(meta, raw("messenger_text_stop_keyword.json"))

    contact = meta.contact("messenger", PAGE_ID, PSID_A)
    assert contact is not None and ConsentScope.ALL in contact.scopes_opted_out()
    assert "DEC" in meta.item_kinds()  # the consent ledger rides the same batch
    assert DetailType.CONSENT_CHANGED in [e.detail_type for e in meta.published]


def test_a_redelivered_body_changes_nothing() -> None:
    meta = backends()
    body = raw("messenger_text_stop_keyword.json")
    post(meta, body)
    contacts, items = repr(meta.contacts), dict(meta.items)
    post(meta, body)
    assert repr(meta.contacts) == contacts and meta.items == items


def test_a_wrong_signature_is_refused_and_nothing_is_stored() -> None:
    meta = backends()
    outcome = post(meta, raw("messenger_text_stop_keyword.json"), signed_with="not-the-app-secret")

    assert outcome.status == 401
    assert isinstance(outcome.body, dict) and outcome.body["reason"] == "signature_invalid"
    assert meta.contacts == {} and meta.items == {} and meta.published == [] and meta.quarantined == []


def test_a_signed_body_that_is_not_json_is_kept_whole_and_answered_200() -> None:
    meta = backends()
    body = b'{"object": "page", "entry": [ '
    outcome = post(meta, body)

    assert outcome.status == 200
    assert meta.quarantined == [(body, "invalid_json", "the body is not JSON")]


def test_an_entry_of_an_unknown_page_is_refused_and_the_rest_still_lands() -> None:
    meta = backends()
    body = raw("messenger_two_pages_one_unknown.json")
    outcome = post(meta, body)

    assert outcome.status == 200 and outcome.metrics["UnknownAccount"] == 1
    assert meta.contact("messenger", PAGE_ID, PSID_A) is not None
    [(kept, reason, detail)] = meta.quarantined
    assert (kept, reason) == (body, "unknown_account") and "199900000000999" in detail


def test_a_bus_outage_answers_500_so_meta_delivers_again() -> None:
    meta = backends()
    meta.bus_down = True
    outcome = post(meta, raw("messenger_text_start_keyword.json"))

    assert outcome.status == 500
    assert isinstance(outcome.body, dict) and outcome.body["reason"] == "storage_unavailable"
    # What was written is idempotent: the redelivery, once the bus is back, completes it.
    meta.bus_down = False
    assert post(meta, raw("messenger_text_start_keyword.json")).status == 200
    assert DetailType.CUSTOMER_ACTION in [e.detail_type for e in meta.published]


@pytest.mark.parametrize(
    ("params", "status"),
    [
        (
            {"hub.mode": "subscribe", "hub.verify_token": "wk-verify-token", "hub.challenge": "1158201444"},
            200,
        ),
        ({"hub.mode": "subscribe", "hub.verify_token": "guessed", "hub.challenge": "1158201444"}, 403),
    ],
)
def test_the_subscription_handshake_answers_the_challenge_only_to_the_verify_token(
    params: dict[str, str], status: int
) -> None:
    outcome = handle_subscription(params, backends().ports())
    assert outcome.status == status
    if status == 200:
        assert outcome.body == "1158201444"


def test_a_body_over_the_limit_is_refused_before_it_is_read() -> None:
    meta = backends()
    meta.max_body_bytes = 64
    outcome = post(meta, raw("messenger_text_start_keyword.json"))
    assert outcome.status == 413 and meta.contacts == {}


def test_the_window_follows_the_message_timestamp_whatever_the_arrival() -> None:
    """A late delivery (an hour after the message) stores the message's instant, not NOW's."""
    meta = backends()
    body = raw("messenger_text_start_keyword.json")
    late = handle_post(
        body, {SIGNATURE_HEADER: sign(body, APP_SECRET)}, meta.ports(), now=NOW + timedelta(hours=1)
    )
    assert late.status == 200
    contact = meta.contact("messenger", PAGE_ID, PSID_A)
    assert contact is not None and contact.last_customer_action_ms is not None
    assert contact.last_customer_action_ms < BASE_MS + 60_000


def enforcement(action: str, at_ms: int, reason: str = "The bot violated our Platform Policies.") -> bytes:
    """Meta's ``messaging_policy_enforcement`` webhook for the Page (its shape as recorded)."""
    payload = json.loads(raw("messenger_policy_enforcement_warning.json"))
    event = payload["entry"][0]["messaging"][0]
    event["timestamp"] = at_ms
    event["policy_enforcement"] = (
        {"action": action, "reason": reason} if action != "unblock" else {"action": action}
    )
    return json.dumps(payload).encode()


def test_a_policy_block_stops_the_pages_sends_and_only_a_newer_unblock_lifts_it() -> None:
    meta = backends()
    blocked = post(meta, enforcement("block", BASE_MS + 60_000))
    health = meta.health.get(Channel.MESSENGER, PAGE_ID)
    assert health is not None and (health.status, health.since_ms) == ("blocked", BASE_MS + 60_000)
    assert blocked.metrics["AccountUnavailable"] == 1
    assert [e.detail["status"] for e in meta.published] == ["blocked"]

    post(meta, enforcement("unblock", BASE_MS + 30_000))  # an older unblock delivered late
    still = meta.health.get(Channel.MESSENGER, PAGE_ID)
    assert still is not None and still.status == "blocked"

    post(meta, enforcement("unblock", BASE_MS + 90_000))
    lifted = meta.health.get(Channel.MESSENGER, PAGE_ID)
    assert lifted is not None and lifted.status == "ok"
    assert [e.detail["status"] for e in meta.published] == ["blocked", "ok"]


def test_a_policy_warning_is_logged_not_kept() -> None:
    meta = backends()
    assert post(meta, raw("messenger_policy_enforcement_warning.json")).status == 200
    assert meta.health.get(Channel.MESSENGER, PAGE_ID) is None and meta.published == []
