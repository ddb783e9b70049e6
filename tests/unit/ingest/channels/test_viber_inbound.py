"""Viber callbacks through the webhook service: the signature, messages, (un)subscribes, statuses."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.fakes.webhook import InMemoryWebhookBackends
from windowkeeper.accounts import AccountConfig
from windowkeeper.events import DetailType
from windowkeeper.ingest.channels.base import InboundRequest
from windowkeeper.ingest.service import Outcome, handle_channel
from windowkeeper.policy.model import Channel, ConsentScope
from windowkeeper.store.contact_item import ContactRecord

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
BOT = AccountConfig(
    tenant_id="acme", channel=Channel.VIBER, account_id="acmeoutdoor", access_token_secret_id="s"
)
AUTH_TOKEN = "4453b6ac12345678-e02c5f12174805f9-daec9cbb5448c51f"
USER = "01234567890A="
AT_MS = 1_763_640_000_000


def backends() -> InMemoryWebhookBackends:
    meta = InMemoryWebhookBackends.of(BOT, app_secret="unused")
    meta.credentials[BOT.account_id] = {"auth_token": AUTH_TOKEN}
    return meta


def callback(event: str, at_ms: int, **fields: Any) -> bytes:
    return json.dumps({"event": event, "timestamp": at_ms, "chat_hostname": "SN-CHAT-01_", **fields}).encode()


def message(token: int, text: str, at_ms: int = AT_MS) -> bytes:
    sender = {"id": USER, "name": "Olena Kovalenko", "country": "UA", "language": "uk", "api_version": 10}
    return callback(
        "message", at_ms, message_token=token, sender=sender, message={"type": "text", "text": text}
    )


def subscribed(at_ms: int) -> bytes:
    return callback("subscribed", at_ms, user={"id": USER, "name": "Olena Kovalenko"}, message_token=at_ms)


def unsubscribed(at_ms: int) -> bytes:
    return callback("unsubscribed", at_ms, user_id=USER, message_token=at_ms)


def post(meta: InMemoryWebhookBackends, body: bytes, *, key: str | None = AUTH_TOKEN) -> Outcome:
    headers = {"content-type": "application/json"}
    if key is not None:
        headers["x-viber-content-signature"] = hmac.new(key.encode(), body, hashlib.sha256).hexdigest()
    return handle_channel(
        "viber", BOT.account_id, InboundRequest("POST", body, headers, {}), meta.ports(), now=NOW
    )


def contact(meta: InMemoryWebhookBackends) -> ContactRecord:
    record = meta.contact("viber", BOT.account_id, USER)
    assert record is not None
    return record


def test_a_message_opens_the_session_at_its_own_timestamp_and_makes_a_subscriber() -> None:
    meta = backends()
    assert post(meta, message(5_000_000_000_000_000_001, "Do you ship to Lviv?")).status == 200
    record = contact(meta)
    assert record.last_customer_action_ms == AT_MS and record.subscribed
    assert record.display_name == "Olena Kovalenko"
    assert DetailType.CUSTOMER_ACTION in [e.detail_type for e in meta.published]


def test_a_body_signed_with_another_token_or_unsigned_is_refused_and_nothing_is_stored() -> None:
    meta = backends()
    body = message(1, "hi")
    wrong = post(meta, body, key="another-bots-token")
    missing = post(meta, body, key=None)
    assert (wrong.status, missing.status) == (401, 401)
    assert isinstance(wrong.body, dict) and wrong.body["reason"] == "signature_mismatch"
    assert isinstance(missing.body, dict) and missing.body["reason"] == "signature_missing"
    assert not meta.contacts


def test_the_webhook_check_and_a_conversation_start_store_nothing() -> None:
    meta = backends()
    assert post(meta, callback("webhook", AT_MS, message_token=1)).status == 200
    opened = callback(
        "conversation_started", AT_MS, message_token=2, type="open", user={"id": USER}, subscribed=False
    )
    assert post(meta, opened).status == 200
    assert not meta.contacts and not meta.quarantined


def test_a_status_is_published_and_an_unknown_event_is_kept_for_inspection() -> None:
    meta = backends()
    assert post(meta, callback("delivered", AT_MS, message_token=9, user_id=USER)).status == 200
    assert [e.detail_type for e in meta.published] == [DetailType.MESSAGE_STATUS]
    assert post(meta, callback("action", AT_MS, user_id=USER)).status == 200
    assert [reason for _, reason, _ in meta.quarantined] == ["unknown_event_kind"]


def test_a_message_after_stop_does_not_opt_the_user_back_in() -> None:
    meta = backends()
    for body in (message(1, "STOP", AT_MS), message(2, "where is my order?", AT_MS + 60_000)):
        assert post(meta, body).status == 200
    assert ConsentScope.ALL in contact(meta).scopes_opted_out()


_CALLBACKS = [
    message(11, "Hello", AT_MS),
    unsubscribed(AT_MS + 60_000),
    subscribed(AT_MS + 120_000),
    message(12, "STOP", AT_MS + 180_000),
    message(13, "One more question", AT_MS + 240_000),
    unsubscribed(AT_MS + 300_000),
]


def _final(bodies: list[bytes]) -> tuple[object, ...]:
    meta = backends()
    for body in bodies:
        assert post(meta, body).status == 200
    record = contact(meta)
    return (record.last_customer_action_ms, record.scopes_opted_out(), record.subscribed, record.display_name)


@settings(max_examples=60, deadline=None)
@given(st.permutations(range(len(_CALLBACKS))), st.lists(st.sampled_from(range(len(_CALLBACKS))), max_size=4))
def test_any_order_and_repetition_of_callbacks_ends_in_the_in_order_state(
    order: list[int], again: list[int]
) -> None:
    in_order = _final(list(_CALLBACKS))
    assert _final([_CALLBACKS[i] for i in [*order, *again]]) == in_order
    assert ConsentScope.ALL in in_order[1]  # type: ignore[operator]
