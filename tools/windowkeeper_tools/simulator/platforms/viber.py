"""Viber, played: the REST Bot API's ``send_message`` and a user's callbacks (fact sheet O1).

API: ``POST /viber/pa/send_message`` with ``X-Viber-Auth-Token``. Viber answers HTTP 200 with a
``status``: 0 with a ``message_token``; 2 invalidAuthToken; 3 badData (no text); 6
receiverNotSubscribed (never subscribed, or unsubscribed since); a fault gives 12 tooManyRequests
or a 5xx. It counts the messages each bot sends outside the user's 24 h session per UTC month
(``bot_initiated_sent``), its own record to compare with the service's quota.

Plays (``/_sim/customer`` ``kind``): ``message`` (default; also subscribes the user, as writing to
a bot does), ``subscribe``, ``unsubscribe``, ``open`` (``conversation_started``), ``stop`` (the
text STOP). Every callback is signed: ``X-Viber-Content-Signature`` = hex HMAC-SHA256 of the body
with the auth token.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
from datetime import timedelta
from typing import Any

from windowkeeper.policy.model import Channel
from windowkeeper_tools.simulator.base import AccountRef, Fault, SimResponse
from windowkeeper_tools.simulator.platforms import ApiCall, Play, PlayedEvent
from windowkeeper_tools.simulator.simulator import Simulator

SIGNATURE_HEADER = "X-Viber-Content-Signature"
SESSION = timedelta(hours=24)
_tokens = itertools.count(5_000_000_000_000_000_000)
NAMES = ("Olena Kovalenko", "Dimitar Petrov", "Anh Nguyen", "Yusuf Demir", "Marta Novak", "Ioana Pop")


def _status(status: int, message: str, **extra: Any) -> SimResponse:
    return SimResponse(200, {"status": status, "status_message": message, **extra})


def _name(contact_id: str) -> str:
    return NAMES[sum(contact_id.encode()) % len(NAMES)]


class ViberSim:
    channel = Channel.VIBER

    def api(self, sim: Simulator, call: ApiCall) -> SimResponse:
        token = call.headers.get("x-viber-auth-token")
        ref = next(
            (
                r
                for r in sim.registered_accounts(Channel.VIBER)
                if token == sim.credentials(Channel.VIBER, r.account_id)["auth_token"]
            ),
            None,
        )
        if ref is None:
            return _status(2, "invalidAuthToken")
        if call.path != "/pa/send_message" or call.method != "POST":
            return SimResponse(404, {"status": 1, "status_message": "invalidUrl"})
        body = call.body if isinstance(call.body, dict) else {}
        receiver = str(body.get("receiver") or "")
        if (
            not receiver
            or not str(body.get("text") or "").strip()
            or not (body.get("sender") or {}).get("name")
        ):
            return _status(3, "badData")
        users = sim.platform_users(Channel.VIBER, ref.account_id)
        if not users.reachable(receiver):
            return _status(6, "notSubscribed")
        now = sim.now()
        last = users.last_message.get(receiver)
        if last is None or now >= last + SESSION:  # outside the session: bot-initiated, counted
            month = now.strftime("%Y-%m")
            counts: dict[tuple[str, str], int] = sim.platform_counters
            counts[(ref.account_id, month)] = counts.get((ref.account_id, month), 0) + 1
        users.sent.setdefault(receiver, []).append(now)
        return _status(0, "ok", message_token=next(_tokens), chat_hostname="SN-CHAT-01_", billing_status=1)

    def fault(self, fault: Fault) -> SimResponse:
        if fault.kind == "disconnect":
            return SimResponse(0, None, disconnect=True)
        if fault.kind == "throttle":
            return _status(12, "tooManyRequests")
        if fault.kind == "error":
            return _status(fault.code or 3, fault.message or "badData")
        return SimResponse(fault.status or 503, {"status": 500, "status_message": "Service Unavailable"})

    def play(self, sim: Simulator, ref: AccountRef, play: Play) -> PlayedEvent:
        users = sim.platform_users(Channel.VIBER, ref.account_id)
        timestamp = int(play.at.timestamp() * 1000)
        user = {"id": play.contact_id, "name": _name(play.contact_id), "country": "UA", "language": "uk"}
        callback: dict[str, Any] = {"timestamp": timestamp, "chat_hostname": "SN-CHAT-01_"}
        if play.kind in ("message", "stop"):
            text = "STOP" if play.kind == "stop" else play.text or "Hi"
            callback |= {
                "event": "message",
                "message_token": next(_tokens),
                "sender": user | {"api_version": 10},
                "message": {"type": "text", "text": text},
                "silent": False,
            }
            users.last_message[play.contact_id] = play.at
            if play.contact_id not in users.followed:
                users.followed[play.contact_id] = play.at  # writing to a bot subscribes the user
        elif play.kind == "subscribe":
            callback |= {"event": "subscribed", "user": user, "message_token": next(_tokens)}
            users.followed[play.contact_id] = play.at
        elif play.kind == "unsubscribe":
            callback |= {"event": "unsubscribed", "user_id": play.contact_id, "message_token": next(_tokens)}
            users.blocked[play.contact_id] = play.at
        elif play.kind == "open":
            callback |= {
                "event": "conversation_started",
                "message_token": next(_tokens),
                "type": "open",
                "user": user,
                "subscribed": users.reachable(play.contact_id),
            }
        else:
            raise ValueError(
                f"unknown Viber action {play.kind!r}: message, subscribe, unsubscribe, open, stop"
            )
        body = json.dumps(callback).encode()
        token = sim.credentials(Channel.VIBER, ref.account_id)["auth_token"]
        signature = hmac.new(token.encode(), body, hashlib.sha256).hexdigest()
        return PlayedEvent(
            body, {"Content-Type": "application/json", SIGNATURE_HEADER: signature}, {}, callback
        )


PLATFORM = ViberSim()
