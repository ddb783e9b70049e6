"""WeChat, played: the Official Account API's token and customer-service messages, and a
follower's XML messages and events (fact sheet O2), with WeChat's own window rules.

API under ``/wechat``: ``GET /cgi-bin/token?grant_type=client_credential&appid&secret`` answers
``{"access_token", "expires_in": 7200}`` (40013 for an unknown app id, 40125 for a wrong secret);
``POST /cgi-bin/message/custom/send?access_token=`` answers ``{"errcode": 0, "errmsg": "ok"}`` or
40001 (token), 43004 (not following), 45015 (outside the 48 h after the follower's message and
the minute after a follow, menu click or scan), 45047 (the window's 5 messages, or the minute's
3, already sent). The simulator keeps these rules itself, never asking Windowkeeper.

Plays (``/_sim/customer`` ``kind``): ``message`` (default), ``subscribe``, ``unsubscribe``,
``click`` (a menu click, ``text`` = its key), ``scan``, ``stop``. Each is XML with WeChat's
signature, timestamp and nonce in the URL's query.
"""

from __future__ import annotations

import hashlib
import itertools
import secrets
from datetime import timedelta
from typing import Any
from xml.sax.saxutils import escape

from windowkeeper.policy.model import Channel
from windowkeeper_tools.simulator.base import AccountRef, Fault, SimResponse
from windowkeeper_tools.simulator.platforms import ApiCall, Play, PlayedEvent
from windowkeeper_tools.simulator.simulator import Simulator

MESSAGE_WINDOW, MESSAGE_CAP = timedelta(hours=48), 5
EVENT_WINDOW, EVENT_CAP = timedelta(minutes=1), 3
_msg_ids = itertools.count(24_602_342_456_789_000)


def _error(code: int, message: str) -> SimResponse:
    return SimResponse(200, {"errcode": code, "errmsg": message})


class WeChatSim:
    channel = Channel.WECHAT

    def __init__(self) -> None:
        self._tokens: dict[str, str] = {}  # access token -> account id
        self._opened: dict[tuple[str, str], tuple[str, Any]] = {}  # (account, openid) -> (kind, at)

    def api(self, sim: Simulator, call: ApiCall) -> SimResponse:
        if call.path == "/cgi-bin/token" and call.method == "GET":
            return self._token(sim, call)
        if call.path != "/cgi-bin/message/custom/send" or call.method != "POST":
            return SimResponse(404, {"errcode": 404, "errmsg": "not found"})
        account_id = self._tokens.get(call.query.get("access_token", ""))
        if account_id is None:
            return _error(40001, "invalid credential, access_token is invalid or not latest")
        body = call.body if isinstance(call.body, dict) else {}
        openid = str(body.get("touser") or "")
        content = str((body.get("text") or {}).get("content") or "")
        if not openid or not content.strip():
            return _error(44002, "empty post data")
        users = sim.platform_users(Channel.WECHAT, account_id)
        if not users.reachable(openid):
            return _error(43004, "require subscribe")
        opened = self._opened.get((account_id, openid))
        now = sim.now()
        if opened is None:
            return _error(45015, "response out of time limit or subscription is canceled")
        kind, at = opened
        window, cap = (MESSAGE_WINDOW, MESSAGE_CAP) if kind == "message" else (EVENT_WINDOW, EVENT_CAP)
        if now >= at + window:
            return _error(45015, "response out of time limit or subscription is canceled")
        sent = [t for t in users.sent.get(openid, []) if t >= at]
        if len(sent) >= cap:
            return _error(45047, "out of response count limit")
        users.sent.setdefault(openid, []).append(now)
        return _error(0, "ok")

    def _token(self, sim: Simulator, call: ApiCall) -> SimResponse:
        app_id, secret = call.query.get("appid"), call.query.get("secret")
        for ref in sim.registered_accounts(Channel.WECHAT):
            credentials = sim.credentials(Channel.WECHAT, ref.account_id)
            if credentials["app_id"] == app_id:
                if credentials["app_secret"] != secret:
                    return _error(40125, "invalid appsecret")
                token = secrets.token_urlsafe(48)
                self._tokens[token] = ref.account_id
                return SimResponse(200, {"access_token": token, "expires_in": 7200})
        return _error(40013, "invalid appid")

    def fault(self, fault: Fault) -> SimResponse:
        if fault.kind == "disconnect":
            return SimResponse(0, None, disconnect=True)
        if fault.kind == "throttle":
            return _error(45009, "reach max api daily quota limit")
        if fault.kind == "error":
            return _error(fault.code or -1, fault.message or "system error")
        return SimResponse(fault.status or 502, {"errcode": -1, "errmsg": "system error"})

    def play(self, sim: Simulator, ref: AccountRef, play: Play) -> PlayedEvent:
        users = sim.platform_users(Channel.WECHAT, ref.account_id)
        created = int(play.at.timestamp())
        fields: dict[str, str] = {
            "ToUserName": ref.account_id,
            "FromUserName": play.contact_id,
            "CreateTime": str(created),
        }
        key = (ref.account_id, play.contact_id)
        if play.kind in ("message", "stop"):
            fields |= {
                "MsgType": "text",
                "Content": "STOP" if play.kind == "stop" else play.text or "你好",
                "MsgId": str(next(_msg_ids)),
            }
            self._opened[key] = ("message", play.at)
            users.last_message[play.contact_id] = play.at
        elif play.kind in ("subscribe", "click", "scan"):
            event = {"subscribe": "subscribe", "click": "CLICK", "scan": "SCAN"}[play.kind]
            fields |= {
                "MsgType": "event",
                "Event": event,
                "EventKey": play.text or ("MENU_ORDERS" if play.kind == "click" else ""),
            }
            self._opened[key] = ("event", play.at)
            if play.kind == "subscribe":
                users.followed[play.contact_id] = play.at
        elif play.kind == "unsubscribe":
            fields |= {"MsgType": "event", "Event": "unsubscribe"}
            users.blocked[play.contact_id] = play.at
        else:
            raise ValueError(
                f"unknown WeChat action {play.kind!r}: message, subscribe, unsubscribe, click, scan, stop"
            )
        if play.kind not in ("subscribe", "unsubscribe"):
            users.followed.setdefault(play.contact_id, play.at)  # only followers can write to an account
        xml = (
            "<xml>"
            + "".join(
                f"<{name}>{value}</{name}>"
                if name in ("CreateTime", "MsgId")
                else f"<{name}><![CDATA[{escape(value)}]]></{name}>"
                for name, value in fields.items()
            )
            + "</xml>"
        )
        # The URL's timestamp is when WeChat sends the request (the message's own instant is CreateTime).
        timestamp, nonce = str(int(sim.now().timestamp())), str(secrets.randbelow(10**9))
        token = sim.credentials(Channel.WECHAT, ref.account_id)["token"]
        signature = hashlib.sha1("".join(sorted([token, timestamp, nonce])).encode()).hexdigest()  # noqa: S324 - WeChat's scheme
        query = {"signature": signature, "timestamp": timestamp, "nonce": nonce, "openid": play.contact_id}
        return PlayedEvent(xml.encode(), {"Content-Type": "text/xml"}, query, fields)


PLATFORM = WeChatSim()
