"""Web chat through the webhook service: the visitor token decides who writes and who reads."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.support.fakes.webhook import InMemoryWebhookBackends
from windowkeeper.accounts import AccountConfig
from windowkeeper.ingest.channels.base import InboundRequest
from windowkeeper.ingest.service import Outcome, handle_channel, handle_webchat_messages
from windowkeeper.instants import to_ms
from windowkeeper.policy.model import Channel, ConsentScope
from windowkeeper_tools.simulator.platforms.webchat import visitor_token

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
SITE = AccountConfig(
    tenant_id="acme", channel=Channel.WEBCHAT, account_id="acme-site", access_token_secret_id="s"
)
SECRET = "site-widget-secret-0f3c"


def backends() -> InMemoryWebhookBackends:
    meta = InMemoryWebhookBackends.of(SITE, app_secret="unused")
    meta.credentials[SITE.account_id] = {"widget_secret": SECRET}
    return meta


def post(meta: InMemoryWebhookBackends, token: str | None, event: Mapping[str, object]) -> Outcome:
    headers = {"content-type": "application/json"} | ({"authorization": f"Bearer {token}"} if token else {})
    request = InboundRequest("POST", json.dumps(event).encode(), headers, {})
    return handle_channel("webchat", SITE.account_id, request, meta.ports(), now=NOW)


def read(meta: InMemoryWebhookBackends, token: str, after: str = "0") -> Outcome:
    request = InboundRequest("GET", b"", {"authorization": f"Bearer {token}"}, {"after": after})
    return handle_webchat_messages(SITE.account_id, request, meta.ports(), now=NOW)


def messages(outcome: Outcome) -> list[dict[str, Any]]:
    assert outcome.status == 200 and isinstance(outcome.body, dict), outcome.body
    found: list[dict[str, Any]] = outcome.body["messages"]
    return found


def reason(outcome: Outcome) -> tuple[int, str]:
    assert isinstance(outcome.body, dict)
    return outcome.status, str(outcome.body.get("reason"))


def test_a_visitor_message_is_filed_under_the_tokens_visitor_at_its_arrival() -> None:
    meta = backends()
    token = visitor_token(SECRET, "visitor-7f2a", NOW, name="Sam")
    assert (
        post(meta, token, {"type": "message", "id": "w-1", "text": "Do you deliver on Sundays?"}).status
        == 200
    )
    record = meta.contact("webchat", SITE.account_id, "visitor-7f2a")
    assert (
        record is not None and record.last_customer_action_ms == to_ms(NOW) and record.display_name == "Sam"
    )
    [message] = messages(read(meta, token))
    assert (message["from"], message["text"]) == ("visitor", "Do you deliver on Sundays?")


def test_tokens_that_are_missing_forged_expired_or_unsigned_are_refused() -> None:
    meta = backends()
    event = {"type": "message", "id": "w-1", "text": "hi"}
    forged = visitor_token("another-site", "visitor-1", NOW)
    expired = visitor_token(SECRET, "visitor-1", NOW - timedelta(hours=1))
    header = base64.urlsafe_b64encode(b'{"alg":"none"}').rstrip(b"=").decode()
    claims = base64.urlsafe_b64encode(json.dumps({"sub": "visitor-1", "exp": 2_000_000_000}).encode()).rstrip(
        b"="
    )
    unsigned = f"{header}.{claims.decode()}."
    assert reason(post(meta, None, event)) == (401, "token_missing")
    assert reason(post(meta, forged, event)) == (401, "signature_mismatch")
    assert reason(post(meta, expired, event)) == (401, "token_expired")
    assert reason(post(meta, unsigned, event)) == (401, "token_invalid")
    assert not meta.contacts


def test_a_visitor_reads_only_their_own_conversation() -> None:
    meta = backends()
    mine, theirs = visitor_token(SECRET, "visitor-a", NOW), visitor_token(SECRET, "visitor-b", NOW)
    post(meta, mine, {"type": "message", "id": "a-1", "text": "mine"})
    post(meta, theirs, {"type": "message", "id": "b-1", "text": "theirs"})
    assert [m["text"] for m in messages(read(meta, mine))] == ["mine"]
    assert messages(read(meta, mine, after=str(to_ms(NOW)))) == []
    assert reason(read(meta, mine, after="yesterday")) == (400, "invalid_request")


def test_stop_opts_the_visitor_out_and_a_retried_post_lands_once() -> None:
    meta = backends()
    token = visitor_token(SECRET, "visitor-stop", NOW)
    for _ in range(2):
        assert post(meta, token, {"type": "message", "id": "w-9", "text": "STOP"}).status == 200
    record = meta.contact("webchat", SITE.account_id, "visitor-stop")
    assert record is not None and ConsentScope.ALL in record.scopes_opted_out()
    assert len(messages(read(meta, token))) == 1
