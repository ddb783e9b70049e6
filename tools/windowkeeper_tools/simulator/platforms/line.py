"""LINE, played: the Messaging API's push and a user's webhook events (fact sheet O4).

API: ``POST /line/v2/bot/message/push`` with ``Authorization: Bearer <channel access token>``.
Answers 200 ``{"sentMessages": [{"id", "quoteToken"}]}``; 401 (wrong token); 400 "Failed to send
messages" to a user who never added the account or blocked it, or with an empty text; 409 for a
``X-Line-Retry-Key`` already accepted; a fault gives 429 or a 5xx.

Plays (``/_sim/customer`` ``kind``): ``message`` (default), ``follow``, ``unfollow`` (block),
``postback`` (``text`` = its data), ``stop`` (the text STOP). Each webhook is signed:
``X-Line-Signature`` = base64 HMAC-SHA256 of the body with the channel secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import secrets
from typing import Any

from windowkeeper.policy.model import Channel
from windowkeeper_tools.simulator.base import AccountRef, Fault, SimResponse
from windowkeeper_tools.simulator.platforms import ApiCall, Play, PlayedEvent
from windowkeeper_tools.simulator.simulator import Simulator

SIGNATURE_HEADER = "X-Line-Signature"
_ids = itertools.count(461_230_966_842_064_897)


def _error(status: int, message: str, **extra: Any) -> SimResponse:
    return SimResponse(status, {"message": message, **extra})


def _event_id() -> str:
    return "01" + secrets.token_hex(12).upper()


class LineSim:
    channel = Channel.LINE

    def __init__(self) -> None:
        self._retry_keys: set[str] = set()

    def api(self, sim: Simulator, call: ApiCall) -> SimResponse:
        bearer = call.headers.get("authorization", "").removeprefix("Bearer ").strip()
        ref = next(
            (
                r
                for r in sim.registered_accounts(Channel.LINE)
                if bearer == sim.credentials(Channel.LINE, r.account_id)["channel_access_token"]
            ),
            None,
        )
        if ref is None:
            return _error(
                401,
                "Authentication failed. Confirm that the access token in the authorization header is valid.",
            )
        if call.path != "/v2/bot/message/push" or call.method != "POST":
            return _error(404, "Not found")
        retry_key = call.headers.get("x-line-retry-key")
        if retry_key is not None and retry_key in self._retry_keys:
            return _error(409, "The retry key is already accepted")
        body = call.body if isinstance(call.body, dict) else {}
        to = str(body.get("to") or "")
        messages = body.get("messages") if isinstance(body.get("messages"), list) else []
        if (
            not to
            or not messages
            or not all(str(m.get("text") or "").strip() for m in messages if isinstance(m, dict))
        ):
            return _error(
                400,
                "The request body has 1 error(s)",
                details=[{"message": "must be specified", "property": "messages[0].text"}],
            )
        users = sim.platform_users(Channel.LINE, ref.account_id)
        if not users.reachable(to):
            return _error(400, "Failed to send messages")
        if retry_key is not None:
            self._retry_keys.add(retry_key)
        users.sent.setdefault(to, []).append(sim.now())
        return SimResponse(
            200, {"sentMessages": [{"id": str(next(_ids)), "quoteToken": secrets.token_hex(8)}]}
        )

    def fault(self, fault: Fault) -> SimResponse:
        if fault.kind == "disconnect":
            return SimResponse(0, None, disconnect=True)
        if fault.kind == "throttle":
            return _error(429, fault.message or "Too Many Requests")
        if fault.kind == "error":
            return _error(fault.status or 400, fault.message or "The request body has 1 error(s)")
        return _error(fault.status or 500, "Internal server error")

    def play(self, sim: Simulator, ref: AccountRef, play: Play) -> PlayedEvent:
        users = sim.platform_users(Channel.LINE, ref.account_id)
        event: dict[str, Any] = {
            "timestamp": int(play.at.timestamp() * 1000),
            "mode": "active",
            "webhookEventId": _event_id(),
            "deliveryContext": {"isRedelivery": False},
            "source": {"type": "user", "userId": play.contact_id},
        }
        if play.kind in ("message", "stop"):
            text = "STOP" if play.kind == "stop" else play.text or "Hi"
            event |= {
                "type": "message",
                "replyToken": secrets.token_hex(16),
                "message": {
                    "id": str(next(_ids)),
                    "type": "text",
                    "quoteToken": secrets.token_hex(8),
                    "text": text,
                },
            }
            users.last_message[play.contact_id] = play.at
        elif play.kind == "postback":
            event |= {
                "type": "postback",
                "replyToken": secrets.token_hex(16),
                "postback": {"data": play.text or "action=buy"},
            }
        elif play.kind == "follow":
            event |= {
                "type": "follow",
                "replyToken": secrets.token_hex(16),
                "follow": {"isUnblocked": play.contact_id in users.blocked},
            }
            users.followed[play.contact_id] = play.at
        elif play.kind == "unfollow":
            event["type"] = "unfollow"
            users.blocked[play.contact_id] = play.at
        else:
            raise ValueError(f"unknown LINE action {play.kind!r}: message, follow, unfollow, postback, stop")
        payload = {
            "destination": f"U{hashlib.sha256(ref.account_id.encode()).hexdigest()[:32]}",
            "events": [event],
        }
        body = json.dumps(payload).encode()
        secret = sim.credentials(Channel.LINE, ref.account_id)["channel_secret"]
        signature = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
        return PlayedEvent(
            body, {"Content-Type": "application/json", SIGNATURE_HEADER: signature}, {}, payload
        )


PLATFORM = LineSim()
