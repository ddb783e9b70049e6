"""Telegram updates through the webhook service: the secret token, messages, /start, blocks."""

from __future__ import annotations

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
from windowkeeper.instants import from_ms
from windowkeeper.policy.model import Channel, ConsentScope

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
BOT = AccountConfig(
    tenant_id="acme", channel=Channel.TELEGRAM, account_id="acme_support_bot", access_token_secret_id="s"
)
SECRET = "tg-secret-token-0123456789"
USER_ID = 424242
SENT_AT = 1_763_640_000  # 2025-11-20T12:00:00Z, Unix seconds as Telegram sends them


def backends() -> InMemoryWebhookBackends:
    meta = InMemoryWebhookBackends.of(BOT, app_secret="unused")
    meta.credentials[BOT.account_id] = {"bot_token": "123:abc", "webhook_secret_token": SECRET}
    return meta


def update(update_id: int, **fields: Any) -> bytes:
    return json.dumps({"update_id": update_id, **fields}).encode()


def message(message_id: int, text: str, *, date: int = SENT_AT, chat_type: str = "private") -> dict[str, Any]:
    sender = {
        "id": USER_ID,
        "is_bot": False,
        "first_name": "Ana",
        "last_name": "Souza",
        "language_code": "pt",
    }
    chat = {"id": USER_ID, "type": chat_type, "first_name": "Ana"}
    return {"message_id": message_id, "from": sender, "chat": chat, "date": date, "text": text}


def post(meta: InMemoryWebhookBackends, body: bytes, *, token: str | None = SECRET) -> Outcome:
    headers = {"content-type": "application/json"}
    if token is not None:
        headers["x-telegram-bot-api-secret-token"] = token
    request = InboundRequest("POST", body, headers, {})
    return handle_channel("telegram", BOT.account_id, request, meta.ports(), now=NOW)


def blocked(update_id: int, *, date: int) -> bytes:
    return update(
        update_id,
        my_chat_member={
            "chat": {"id": USER_ID, "type": "private"},
            "from": {"id": USER_ID, "is_bot": False, "first_name": "Ana"},
            "date": date,
            "old_chat_member": {"status": "member", "user": {"id": 1, "is_bot": True, "first_name": "Bot"}},
            "new_chat_member": {"status": "kicked", "user": {"id": 1, "is_bot": True, "first_name": "Bot"}},
        },
    )


def test_start_makes_the_user_a_subscriber_at_the_messages_own_instant() -> None:
    meta = backends()
    outcome = post(meta, update(1, message=message(1, "/start")))
    assert outcome.status == 200, outcome.body
    record = meta.contact("telegram", BOT.account_id, str(USER_ID))
    assert record is not None
    assert record.subscribed
    assert record.display_name == "Ana Souza"
    assert from_ms(record.last_customer_action_ms) == datetime.fromtimestamp(SENT_AT, UTC)
    kinds = [e.detail_type for e in meta.published]
    assert DetailType.CUSTOMER_ACTION in kinds


def test_a_missing_or_wrong_secret_token_is_refused_and_nothing_is_stored() -> None:
    meta = backends()
    missing = post(meta, update(1, message=message(1, "hi")), token=None)
    wrong = post(meta, update(1, message=message(1, "hi")), token="guess")
    assert reason(missing) == (401, "signature_missing")
    assert reason(wrong) == (401, "signature_mismatch")
    assert not meta.contacts and not meta.published


def test_stop_opts_out_once_however_often_telegram_delivers_it() -> None:
    stop = update(2, message=message(2, "STOP", date=SENT_AT + 60))
    for order in ([stop], [stop, stop]):
        meta = backends()
        for body in order:
            assert post(meta, body).status == 200
        record = meta.contact("telegram", BOT.account_id, str(USER_ID))
        assert record is not None and ConsentScope.ALL in record.scopes_opted_out()


def test_a_block_after_a_message_opts_the_user_out_whatever_the_delivery_order() -> None:
    hello = update(1, message=message(1, "hello"))
    block = blocked(2, date=SENT_AT + 120)
    for order in ([hello, block], [block, hello], [block, hello, block]):
        meta = backends()
        for body in order:
            assert post(meta, body).status == 200
        record = meta.contact("telegram", BOT.account_id, str(USER_ID))
        assert record is not None
        assert ConsentScope.ALL in record.scopes_opted_out(), order


def test_group_messages_are_not_a_customer() -> None:
    meta = backends()
    assert post(meta, update(1, message=message(1, "hi all", chat_type="group"))).status == 200
    assert not meta.contacts


def test_an_authentic_body_that_is_not_an_update_is_kept_whole() -> None:
    meta = backends()
    outcome = post(meta, b'{"update": "no id"}')
    assert outcome.status == 200
    assert [reason for _, reason, _ in meta.quarantined] == ["schema_invalid"]


def reason(outcome: Outcome) -> tuple[int, str]:
    assert isinstance(outcome.body, dict)
    return outcome.status, str(outcome.body["reason"])


def test_an_unknown_channel_or_account_is_a_404_with_a_reason() -> None:
    meta = backends()
    request = InboundRequest("POST", b"{}", {}, {})
    assert reason(handle_channel("myspace", "x", request, meta.ports(), now=NOW)) == (404, "unknown_channel")
    assert reason(handle_channel("telegram", "nobody", request, meta.ports(), now=NOW)) == (
        404,
        "unknown_account",
    )


def test_a_restart_after_a_block_makes_the_user_reachable_again_in_any_order() -> None:
    block = blocked(2, date=SENT_AT + 120)
    restart = update(3, message=message(3, "/start", date=SENT_AT + 240))
    for order in ([block, restart], [restart, block], [restart, block, restart]):
        meta = backends()
        for body in order:
            assert post(meta, body).status == 200
        record = meta.contact("telegram", BOT.account_id, str(USER_ID))
        assert record is not None
        assert ConsentScope.ALL not in record.scopes_opted_out(), order


# ---------------------------------------------------------------- any order, any duplication

_UPDATES = [
    update(10, message=message(10, "Hello", date=SENT_AT)),
    blocked(11, date=SENT_AT + 60),
    update(12, message=message(12, "/start", date=SENT_AT + 120)),
    update(13, message=message(13, "STOP", date=SENT_AT + 180)),
    update(14, message=message(14, "Where is my parcel?", date=SENT_AT + 240)),
]


def _final_state(bodies: list[bytes]) -> tuple[object, ...]:
    meta = backends()
    for body in bodies:
        assert post(meta, body).status == 200
    record = meta.contact("telegram", BOT.account_id, str(USER_ID))
    assert record is not None
    return (
        record.last_customer_action_ms,
        record.last_customer_action_kind,
        record.scopes_opted_out(),
        record.subscribed,
        record.display_name,
    )


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.sampled_from(range(len(_UPDATES))), min_size=len(_UPDATES), max_size=12).flatmap(
        st.permutations
    )
)
def test_any_delivery_order_or_repetition_ends_in_the_in_order_state(indices: list[int]) -> None:
    """Telegram retries and may reorder: whatever arrives, in whatever order and however often,
    once every update has arrived the contact is what in-order delivery gives (STOP, the newest
    consent fact, holds; the last message is the window's clock)."""
    if set(indices) != set(range(len(_UPDATES))):
        indices = [*indices, *range(len(_UPDATES))]  # every update arrives at least once
    in_order = _final_state(list(_UPDATES))
    assert _final_state([_UPDATES[i] for i in indices]) == in_order
    assert ConsentScope.ALL in in_order[2]  # type: ignore[operator]
