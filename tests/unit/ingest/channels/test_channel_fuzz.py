"""Any body a platform could sign, on every channel's route: never a 500, never an exception.

Each case is authentic (signed the platform's way with the account's credentials), so it gets
past verification and into the reader: what it cannot read is answered 200 and kept in
quarantine, what it can read lands; nothing raises.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.fakes.webhook import InMemoryWebhookBackends
from windowkeeper.accounts import AccountConfig
from windowkeeper.ingest.channels.base import InboundRequest
from windowkeeper.ingest.service import handle_channel
from windowkeeper.policy.model import Channel
from windowkeeper_tools.simulator.platforms.webchat import visitor_token

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
CREDENTIALS: dict[Channel, dict[str, str]] = {
    Channel.TELEGRAM: {"bot_token": "1:a", "webhook_secret_token": "tg-secret"},
    Channel.VIBER: {"auth_token": "viber-token"},
    Channel.LINE: {"channel_secret": "line-secret", "channel_access_token": "t"},
    Channel.WECHAT: {"token": "wechat-token", "app_id": "wx1", "app_secret": "s"},
    Channel.WEBCHAT: {"widget_secret": "widget-secret"},
}


def _hmac(key: str, body: bytes) -> bytes:
    return hmac.new(key.encode(), body, hashlib.sha256).digest()


def _wechat_query() -> dict[str, str]:
    stamp, nonce = str(int(NOW.timestamp())), "77"
    signature = hashlib.sha1("".join(sorted(["wechat-token", stamp, nonce])).encode()).hexdigest()
    return {"signature": signature, "timestamp": stamp, "nonce": nonce}


# How each platform signs a body: (headers, query).
SIGNERS: dict[Channel, Callable[[bytes], tuple[dict[str, str], dict[str, str]]]] = {
    Channel.TELEGRAM: lambda body: ({"x-telegram-bot-api-secret-token": "tg-secret"}, {}),
    Channel.VIBER: lambda body: ({"x-viber-content-signature": _hmac("viber-token", body).hex()}, {}),
    Channel.LINE: lambda body: (
        {"x-line-signature": base64.b64encode(_hmac("line-secret", body)).decode()},
        {},
    ),
    Channel.WECHAT: lambda body: ({}, _wechat_query()),
    Channel.WEBCHAT: lambda body: (
        {"authorization": f"Bearer {visitor_token('widget-secret', 'v-1', NOW)}"},
        {},
    ),
}

KNOWN_QUARANTINE_REASONS = {
    "invalid_json",
    "json_too_deep",
    "schema_invalid",
    "invalid_xml",
    "xml_declarations_refused",
    "unknown_event_kind",
    "unencodable_text",
    "schema_invalid,unknown_event_kind",
    "unencodable_text,unknown_event_kind",
}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=20,
)
# Shapes near each platform's own, so the readers' deeper branches are reached too.
near_shapes = st.fixed_dictionaries(
    {},
    optional={
        "update_id": st.integers(),
        "message": json_values,
        "event": st.sampled_from(["message", "subscribed", "unsubscribed", "delivered", "webhook", "x"]),
        "timestamp": st.integers(),
        "sender": json_values,
        "user_id": json_values,
        "destination": st.text(max_size=5),
        "events": st.lists(json_values, max_size=3),
        "type": st.sampled_from(["message", "opened", "closed", "other"]),
        "id": json_values,
        "text": json_values,
        "my_chat_member": json_values,
        "callback_query": json_values,
    },
)
bodies = (
    st.binary(max_size=300)
    | json_values.map(lambda v: json.dumps(v).encode())
    | near_shapes.map(lambda v: json.dumps(v).encode())
    | st.text(max_size=200).map(
        lambda t: f"<xml><MsgType>{t}</MsgType></xml>".encode("utf-8", "surrogatepass")
    )
)


@pytest.mark.parametrize("channel", list(SIGNERS), ids=lambda c: c.value)
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=bodies)
def test_an_authentic_body_of_any_shape_is_answered_without_a_server_error(
    channel: Channel, body: bytes
) -> None:
    account = AccountConfig(
        tenant_id="acme", channel=channel, account_id="acct-1", access_token_secret_id="s"
    )
    backends = InMemoryWebhookBackends.of(account, app_secret="unused")
    backends.credentials[account.account_id] = CREDENTIALS[channel]
    headers, query = SIGNERS[channel](body)
    outcome = handle_channel(
        channel.value,
        account.account_id,
        InboundRequest("POST", body, headers, query),
        backends.ports(),
        now=NOW,
    )
    # Authentic: taken (what cannot be read is kept in quarantine), never refused or failed.
    assert outcome.status == 200, outcome.body
    stored = {reason for _, reason, _ in backends.quarantined}
    assert stored <= KNOWN_QUARANTINE_REASONS, stored
