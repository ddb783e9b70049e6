"""WeChat messages and events through the webhook service: the URL signature and its freshness,
the handshake, XML read safely, what each message and event opens."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.fakes.webhook import InMemoryWebhookBackends
from windowkeeper.accounts import AccountConfig
from windowkeeper.ingest.channels.base import InboundRequest
from windowkeeper.ingest.service import Outcome, handle_channel
from windowkeeper.policy.model import Channel, ConsentScope, CustomerActionKind

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
OA = AccountConfig(
    tenant_id="acme", channel=Channel.WECHAT, account_id="gh_acme0000001", access_token_secret_id="s"
)
TOKEN = "wechat-url-token"
OPENID = "oAcme_9sX2k3VjHk1f0Qw"
CREATED = int(NOW.timestamp()) - 30


def backends() -> InMemoryWebhookBackends:
    meta = InMemoryWebhookBackends.of(OA, app_secret="unused")
    meta.credentials[OA.account_id] = {"token": TOKEN, "app_id": "wx1", "app_secret": "s"}
    return meta


def signed(timestamp: int | None = None, nonce: str = "1405834", token: str = TOKEN) -> dict[str, str]:
    stamp = str(timestamp if timestamp is not None else int(NOW.timestamp()))
    signature = hashlib.sha1("".join(sorted([token, stamp, nonce])).encode()).hexdigest()
    return {"signature": signature, "timestamp": stamp, "nonce": nonce, "openid": OPENID}


def text(msg_id: int, content: str, created: int = CREATED) -> bytes:
    return (
        f"<xml><ToUserName><![CDATA[{OA.account_id}]]></ToUserName><FromUserName><![CDATA[{OPENID}]]></FromUserName>"
        f"<CreateTime>{created}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId></xml>"
    ).encode()


def event(name: str, created: int = CREATED, key: str = "") -> bytes:
    return (
        f"<xml><ToUserName><![CDATA[{OA.account_id}]]></ToUserName><FromUserName><![CDATA[{OPENID}]]></FromUserName>"
        f"<CreateTime>{created}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
        f"<Event><![CDATA[{name}]]></Event><EventKey><![CDATA[{key}]]></EventKey></xml>"
    ).encode()


def post(meta: InMemoryWebhookBackends, body: bytes, query: dict[str, str] | None = None) -> Outcome:
    request = InboundRequest("POST", body, {"content-type": "text/xml"}, signed() if query is None else query)
    return handle_channel("wechat", OA.account_id, request, meta.ports(), now=NOW)


def test_the_url_check_echoes_only_to_the_right_token() -> None:
    meta = backends()
    ok = handle_channel(
        "wechat",
        OA.account_id,
        InboundRequest("GET", b"", {}, signed() | {"echostr": "8142523"}),
        meta.ports(),
        now=NOW,
    )
    assert (ok.status, ok.body) == (200, "8142523")
    wrong = handle_channel(
        "wechat",
        OA.account_id,
        InboundRequest("GET", b"", {}, signed(token="x") | {"echostr": "1"}),
        meta.ports(),
        now=NOW,
    )
    assert wrong.status == 401


def test_a_message_opens_the_48_hour_window_at_create_time_and_is_answered_success() -> None:
    meta = backends()
    outcome = post(meta, text(24602342456789001, "还有货吗?"))
    assert (outcome.status, outcome.body) == (200, "success")
    record = meta.contact("wechat", OA.account_id, OPENID)
    assert record is not None and record.last_customer_action_ms == CREATED * 1000
    assert record.last_customer_action_kind is CustomerActionKind.MESSAGE


def test_a_follow_and_a_menu_click_open_the_one_minute_window() -> None:
    for body, kind in (
        (event("subscribe"), CustomerActionKind.FOLLOW),
        (event("CLICK", key="MENU_ORDERS"), CustomerActionKind.POSTBACK),
    ):
        meta = backends()
        assert post(meta, body).status == 200
        record = meta.contact("wechat", OA.account_id, OPENID)
        assert record is not None and record.last_customer_action_kind is kind


def test_a_wrong_signature_and_a_replayed_url_are_refused() -> None:
    meta = backends()
    wrong = post(meta, text(1, "hi"), signed(token="not-ours"))
    stale = post(meta, text(1, "hi"), signed(timestamp=int((NOW - timedelta(hours=1)).timestamp())))
    assert isinstance(wrong.body, dict) and (wrong.status, wrong.body["reason"]) == (
        401,
        "signature_mismatch",
    )
    assert isinstance(stale.body, dict) and (stale.status, stale.body["reason"]) == (401, "timestamp_stale")
    assert not meta.contacts


def test_declarations_and_safe_mode_are_kept_in_quarantine_not_read() -> None:
    meta = backends()
    bomb = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><xml><MsgType>&a;</MsgType></xml>'
    assert post(meta, bomb).body == "success"
    encrypted = post(
        meta, b"<xml><Encrypt><![CDATA[abc]]></Encrypt></xml>", signed() | {"encrypt_type": "aes"}
    )
    assert encrypted.status == 200
    assert [reason for _, reason, _ in meta.quarantined] == [
        "xml_declarations_refused",
        "encrypted_mode_unsupported",
    ]
    assert not meta.contacts


_BODIES = [
    event("subscribe", CREATED - 300),
    text(11, "Hello", CREATED - 240),
    event("unsubscribe", CREATED - 180),
    event("subscribe", CREATED - 120),
    text(12, "STOP", CREATED - 60),
]


def _final(bodies: list[bytes]) -> tuple[object, ...]:
    meta = backends()
    for body in bodies:
        assert post(meta, body).status == 200
    record = meta.contact("wechat", OA.account_id, OPENID)
    assert record is not None
    return (record.last_customer_action_ms, record.last_customer_action_kind, record.scopes_opted_out())


@settings(max_examples=60, deadline=None)
@given(st.permutations(range(len(_BODIES))), st.lists(st.sampled_from(range(len(_BODIES))), max_size=4))
def test_retries_in_any_order_end_in_the_in_order_state(order: list[int], again: list[int]) -> None:
    in_order = _final(list(_BODIES))
    assert _final([_BODIES[i] for i in [*order, *again]]) == in_order
    assert ConsentScope.ALL in in_order[2]  # type: ignore[operator]
