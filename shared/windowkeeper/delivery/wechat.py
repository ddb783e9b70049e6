"""WeChat Official Account customer-service messages (fact sheet O2).

``POST {base}/cgi-bin/message/custom/send?access_token=...`` with ``{"touser", "msgtype": "text",
"text": {"content"}}``; WeChat answers HTTP 200 with ``{"errcode", "errmsg"}`` (0 is ok; no
message id comes back). The access token is bought with the account's ``app_id`` and
``app_secret`` (``GET /cgi-bin/token``), kept until shortly before ``expires_in`` runs out, and
bought again when WeChat says it expired (40001, 42001; the send certainly did not go, so it is
tried once more). The token travels in the query WeChat prescribes; URLs are never logged.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from windowkeeper.accounts import AccountConfig
from windowkeeper.delivery.platform import (
    PlatformAnswer,
    PlatformErrorRule,
    PlatformHttp,
    PlatformRequest,
    TextSender,
    base_url,
)
from windowkeeper.graph.results import ContactEffects, DeliveryResult, GraphError
from windowkeeper.policy.model import Channel, ContactState, ReasonCode

DEFAULT_BASE_URL = "https://api.weixin.qq.com"
TOKEN_EXPIRED = frozenset({40001, 42001})  # invalid credential / access_token expired: buy a new one
REFRESH_MARGIN_SECONDS = 300.0  # a token is renewed this long before WeChat would expire it

ERRORS: tuple[PlatformErrorRule, ...] = (
    PlatformErrorRule(
        45015,
        "Response out of time limit: the follower's window is closed.",
        "O2",
        reason=ReasonCode.WINDOW_CLOSED,
        effects=ContactEffects(window_closed_early=True),
    ),
    PlatformErrorRule(
        45047,
        "Out of response count limit: this window's messages are used up.",
        "O2",
        reason=ReasonCode.MESSAGE_CAP_REACHED,
    ),
    PlatformErrorRule(
        43004,
        "Require subscribe: the user does not follow the account (any more).",
        "O2",
        reason=ReasonCode.UNREACHABLE,
        effects=ContactEffects(unreachable=True, unreachable_reason="wechat:not_following"),
    ),
    PlatformErrorRule(
        40003, "Invalid openid: not a follower of this account.", "O2", reason=ReasonCode.NEVER_CONTACTED
    ),
    PlatformErrorRule(
        40001,
        "Invalid credential: the access token or app secret is wrong.",
        "O2",
        effects=ContactEffects(token_invalid=True),
    ),
    PlatformErrorRule(
        42001,
        "The access token expired and a new one could not be used.",
        "O2",
        effects=ContactEffects(token_invalid=True),
    ),
    PlatformErrorRule(40013, "Invalid appid.", "O2", effects=ContactEffects(token_invalid=True)),
    PlatformErrorRule(
        48001,
        "API unauthorized: the account may not send customer-service messages.",
        "O2",
        effects=ContactEffects(account_restricted=True),
    ),
    PlatformErrorRule(45009, "API minute or daily quota reached: WeChat asks to wait.", "O2", transient=True),
    PlatformErrorRule(-1, "System busy: WeChat asks to retry.", "O2", transient=True),
)


def read_answer(response: httpx.Response) -> PlatformAnswer:
    try:
        body: Any = response.json()
    except ValueError:
        return PlatformAnswer(ok=False, code=response.status_code, text=response.text[:200], readable=False)
    if not isinstance(body, dict):
        return PlatformAnswer(ok=False, code=response.status_code, readable=False)
    code = body.get("errcode", 0)
    if code == 0 and response.status_code == 200:
        return PlatformAnswer(ok=True, message_id=str(body.get("msgid")) if body.get("msgid") else None)
    return PlatformAnswer(
        ok=False,
        code=int(code) if isinstance(code, int) else response.status_code,
        text=str(body.get("errmsg") or ""),
    )


@dataclass
class _Token:
    value: str
    usable_until: float  # monotonic seconds


class WeChatSender(TextSender):
    channel = Channel.WECHAT
    label = "WeChat"
    required = ("app_id", "app_secret")

    def __init__(
        self, base: str = DEFAULT_BASE_URL, *, monotonic: Callable[[], float] = time.monotonic, **options: Any
    ) -> None:
        self.http = PlatformHttp(Channel.WECHAT, base, ERRORS, read_answer, monotonic=monotonic, **options)
        self._monotonic = monotonic
        self._tokens: dict[str, _Token] = {}
        self._lock = threading.Lock()

    def deliver(
        self, account: AccountConfig, contact: ContactState, text: str, credentials: Mapping[str, Any]
    ) -> DeliveryResult:
        app_id, app_secret = str(credentials["app_id"]), str(credentials["app_secret"])
        body = {"touser": contact.contact_id, "msgtype": "text", "text": {"content": text}}
        result: DeliveryResult | None = None
        for _ in range(2):  # an expired token is bought again once; the send certainly did not go
            token = self._token(app_id, app_secret)
            if isinstance(token, DeliveryResult):
                return token
            result = self.http.deliver(
                PlatformRequest(
                    "POST", "/cgi-bin/message/custom/send", json=body, params={"access_token": token}
                )
            )
            if result.error is None or result.error.code not in TOKEN_EXPIRED:
                return result
            with self._lock:
                self._tokens.pop(app_id, None)
        assert result is not None
        return result

    def _token(self, app_id: str, app_secret: str) -> str | DeliveryResult:
        with self._lock:
            kept = self._tokens.get(app_id)
            if kept is not None and self._monotonic() < kept.usable_until:
                return kept.value
        params = {"grant_type": "client_credential", "appid": app_id, "secret": app_secret}
        response, _ = self.http.call(PlatformRequest("GET", "/cgi-bin/token", params=params))
        if response is None:
            return _token_failure(None, "WeChat's token endpoint could not be reached", transient=True)
        answer: Any = _json(response)
        token = answer.get("access_token") if isinstance(answer, dict) else None
        if not isinstance(token, str) or not token:
            code = answer.get("errcode") if isinstance(answer, dict) else None
            message = str(answer.get("errmsg") or "") if isinstance(answer, dict) else response.text[:200]
            return _token_failure(
                code if isinstance(code, int) else response.status_code, message, transient=False
            )
        lifetime = float(answer.get("expires_in") or 7200)
        with self._lock:
            self._tokens[app_id] = _Token(
                token, self._monotonic() + max(0.0, lifetime - REFRESH_MARGIN_SECONDS)
            )
        return token


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _token_failure(code: int | None, message: str, *, transient: bool) -> DeliveryResult:
    """No access token: nothing was sent. A refused app id or secret is the account's token problem."""
    return DeliveryResult(
        ok=False,
        platform_message_id=None,
        http_status=None,
        error=GraphError(code=code, type="wechat", message=message),
        reason=None,
        effects=ContactEffects(token_invalid=not transient and code in (40001, 40013, 40125)),
        known_error=code in (None, 40001, 40013, 40125),
        attempts=1,
        transient=transient,
    )


def from_env() -> WeChatSender:
    return WeChatSender(base_url(Channel.WECHAT, DEFAULT_BASE_URL))
