"""WeChat customer-service messages through an httpx MockTransport: the access token bought once
and kept, bought again when WeChat says it expired, and the errcode table."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from windowkeeper.accounts import AccountConfig
from windowkeeper.delivery.wechat import ERRORS, WeChatSender
from windowkeeper.policy.model import Channel, ContactState, Content, ContentKind, Decision, Path, ReasonCode

AT = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
OA = AccountConfig(tenant_id="acme", channel=Channel.WECHAT, account_id="gh_acme0000001")
FOLLOWER = ContactState(channel=Channel.WECHAT, account_id=OA.account_id, contact_id="oAcme_9sX2k3")
ALLOWED = Decision(
    allowed=True,
    path=Path.FREE_FORM,
    rule=None,
    reasons=(),
    explanation="ok",
    decided_at=AT,
    valid_until=None,
)
HELLO = Content(kind=ContentKind.TEXT, text="您的订单已发货")
CREDENTIALS = {"token": "t", "app_id": "wx5f2c", "app_secret": "app-secret"}


class FakeWeChat:
    def __init__(self, *send_answers: dict[str, Any]) -> None:
        self.send_answers = list(send_answers)
        self.tokens_bought = 0
        self.sends: list[httpx.Request] = []
        self.clock = 0.0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/cgi-bin/token":
            assert request.url.params["appid"] == "wx5f2c" and request.url.params["secret"] == "app-secret"
            self.tokens_bought += 1
            return httpx.Response(
                200, json={"access_token": f"token-{self.tokens_bought}", "expires_in": 7200}
            )
        self.sends.append(request)
        return httpx.Response(
            200, json=self.send_answers.pop(0) if self.send_answers else {"errcode": 0, "errmsg": "ok"}
        )

    def sender(self) -> WeChatSender:
        return WeChatSender(
            transport=httpx.MockTransport(self), sleep=lambda _s: None, monotonic=lambda: self.clock
        )


def test_one_token_serves_sends_until_shortly_before_it_expires() -> None:
    wechat = FakeWeChat()
    sender = wechat.sender()
    for _ in range(3):
        assert sender.send(OA, FOLLOWER, ALLOWED, HELLO, CREDENTIALS).ok
    assert wechat.tokens_bought == 1
    assert wechat.sends[0].url.params["access_token"] == "token-1"
    assert json.loads(wechat.sends[0].content) == {
        "touser": "oAcme_9sX2k3",
        "msgtype": "text",
        "text": {"content": HELLO.text},
    }
    wechat.clock = 7200 - 299  # within the renewal margin
    assert sender.send(OA, FOLLOWER, ALLOWED, HELLO, CREDENTIALS).ok
    assert wechat.tokens_bought == 2


def test_an_expired_token_is_bought_again_and_the_send_tried_once_more() -> None:
    wechat = FakeWeChat({"errcode": 42001, "errmsg": "access_token expired"})
    result = wechat.sender().send(OA, FOLLOWER, ALLOWED, HELLO, CREDENTIALS)
    assert result.ok and wechat.tokens_bought == 2 and len(wechat.sends) == 2


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        (45015, ReasonCode.WINDOW_CLOSED),
        (45047, ReasonCode.MESSAGE_CAP_REACHED),
        (43004, ReasonCode.UNREACHABLE),
    ],
)
def test_a_policy_refusal_is_read_with_its_reason(code: int, reason: ReasonCode) -> None:
    wechat = FakeWeChat({"errcode": code, "errmsg": "refused"})
    result = wechat.sender().send(OA, FOLLOWER, ALLOWED, HELLO, CREDENTIALS)
    assert (
        not result.ok and result.reason is reason and result.error is not None and result.error.code == code
    )


def test_every_row_names_its_source_and_the_minute_quota_is_retried() -> None:
    assert all(row.source == "O2" for row in ERRORS)
    wechat = FakeWeChat({"errcode": 45009, "errmsg": "api freq out of limit"})
    assert wechat.sender().send(OA, FOLLOWER, ALLOWED, HELLO, CREDENTIALS).ok
    assert len(wechat.sends) == 2


def test_a_wrong_app_secret_is_the_accounts_token_problem_and_nothing_is_sent() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"errcode": 40125, "errmsg": "invalid appsecret"})

    result = WeChatSender(transport=httpx.MockTransport(refuse)).send(
        OA, FOLLOWER, ALLOWED, HELLO, CREDENTIALS
    )
    assert not result.ok and result.effects.token_invalid and not result.transient
