"""LINE webhooks through the webhook service: the signature, the URL check, follows and blocks."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.fakes.webhook import InMemoryWebhookBackends
from windowkeeper.accounts import AccountConfig
from windowkeeper.ingest.channels.base import InboundRequest
from windowkeeper.ingest.service import Outcome, handle_channel
from windowkeeper.policy.model import Channel, ConsentScope

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
CHANNEL = AccountConfig(
    tenant_id="acme", channel=Channel.LINE, account_id="2000000001", access_token_secret_id="s"
)
SECRET = "8c570fa6dd201bb328f1c1eac23a96d8"
USER = "U4af4980629abcdef0123456789abcdef"
AT_MS = 1_763_640_000_000


def backends() -> InMemoryWebhookBackends:
    meta = InMemoryWebhookBackends.of(CHANNEL, app_secret="unused")
    meta.credentials[CHANNEL.account_id] = {"channel_secret": SECRET, "channel_access_token": "t"}
    return meta


def event(kind: str, at_ms: int, event_id: str, **fields: Any) -> dict[str, Any]:
    return {
        "type": kind,
        "timestamp": at_ms,
        "mode": "active",
        "webhookEventId": event_id,
        "deliveryContext": {"isRedelivery": False},
        "source": {"type": "user", "userId": USER},
        **fields,
    }


def text(at_ms: int, event_id: str, words: str) -> dict[str, Any]:
    return event(
        "message", at_ms, event_id, replyToken="r", message={"id": event_id, "type": "text", "text": words}
    )


def body(*events: dict[str, Any]) -> bytes:
    return json.dumps({"destination": "Ub1f2c3d4e5f60718293a4b5c6d7e8f90", "events": list(events)}).encode()


def post(meta: InMemoryWebhookBackends, raw: bytes, *, secret: str | None = SECRET) -> Outcome:
    headers = {"content-type": "application/json"}
    if secret is not None:
        headers["x-line-signature"] = base64.b64encode(
            hmac.new(secret.encode(), raw, hashlib.sha256).digest()
        ).decode()
    return handle_channel(
        "line", CHANNEL.account_id, InboundRequest("POST", raw, headers, {}), meta.ports(), now=NOW
    )


def test_the_consoles_url_check_is_answered_and_keeps_nothing() -> None:
    meta = backends()
    assert post(meta, body()).status == 200
    assert not meta.contacts and not meta.quarantined


def test_a_follow_then_a_message_make_a_reachable_contact_at_the_events_instants() -> None:
    meta = backends()
    outcome = post(meta, body(event("follow", AT_MS, "01FOLLOW"), text(AT_MS + 5_000, "01MSG", "Hello")))
    assert outcome.status == 200
    record = meta.contact("line", CHANNEL.account_id, USER)
    assert record is not None and record.subscribed and record.last_customer_action_ms == AT_MS + 5_000
    assert not record.scopes_opted_out()


def test_a_wrong_or_missing_signature_is_refused() -> None:
    meta = backends()
    wrong = post(meta, body(text(AT_MS, "01X", "hi")), secret="another-channel")
    missing = post(meta, body(text(AT_MS, "01X", "hi")), secret=None)
    assert isinstance(wrong.body, dict) and (wrong.status, wrong.body["reason"]) == (
        401,
        "signature_mismatch",
    )
    assert isinstance(missing.body, dict) and (missing.status, missing.body["reason"]) == (
        401,
        "signature_missing",
    )
    assert not meta.contacts


def test_group_events_are_not_a_customer_and_unknown_types_are_kept() -> None:
    meta = backends()
    group = event("message", AT_MS, "01G", message={"id": "1", "type": "text", "text": "hi all"})
    group["source"] = {"type": "group", "groupId": "Cabc", "userId": USER}
    assert post(meta, body(group, event("membership", AT_MS, "01M"))).status == 200
    assert not meta.contacts
    assert [reason for _, reason, _ in meta.quarantined] == ["unknown_event_kind"]


_BODIES = [
    body(event("follow", AT_MS, "01A")),
    body(text(AT_MS + 1_000, "01B", "Is the store open?")),
    body(event("unfollow", AT_MS + 2_000, "01C")),
    body(event("follow", AT_MS + 3_000, "01D", follow={"isUnblocked": True})),
    body(text(AT_MS + 4_000, "01E", "STOP")),
]


def _final(bodies: list[bytes]) -> tuple[object, ...]:
    meta = backends()
    for raw in bodies:
        assert post(meta, raw).status == 200
    record = meta.contact("line", CHANNEL.account_id, USER)
    assert record is not None
    return (record.last_customer_action_ms, record.scopes_opted_out(), record.subscribed)


@settings(max_examples=60, deadline=None)
@given(st.permutations(range(len(_BODIES))), st.lists(st.sampled_from(range(len(_BODIES))), max_size=4))
def test_redeliveries_in_any_order_end_in_the_in_order_state(order: list[int], again: list[int]) -> None:
    in_order = _final(list(_BODIES))
    assert _final([_BODIES[i] for i in [*order, *again]]) == in_order
    assert ConsentScope.ALL in in_order[1]  # type: ignore[operator]
