"""Telegram, played: the Bot API's ``sendMessage`` and a user's updates (fact sheet O3).

API: ``POST /telegram/bot<token>/sendMessage`` ``{"chat_id", "text"}``. Answers as Telegram does:
``{"ok": true, "result": Message}``, or ``{"ok": false, "error_code", "description"}`` with
401 (wrong token), 403 "bot can't initiate conversation with a user" (never started), 403 "bot
was blocked by the user", 400 "message text is empty"; a fault gives 429 with
``parameters.retry_after`` or a 5xx.

Plays (``/_sim/customer`` ``kind``): ``message`` (default), ``start`` (``/start``), ``button`` (an
inline button tap, ``text`` = its data), ``block`` / ``unblock`` (``my_chat_member``), ``stop``
(the text STOP). Every update carries ``X-Telegram-Bot-Api-Secret-Token``.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

from windowkeeper.policy.model import Channel
from windowkeeper_tools.simulator.base import AccountRef, Fault, SimResponse
from windowkeeper_tools.simulator.platforms import ApiCall, Play, PlayedEvent
from windowkeeper_tools.simulator.simulator import Simulator

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
_ids = itertools.count(1000)
NAMES = ("Ana Souza", "Kenji Watanabe", "Fatima Zahra", "Lukas Berg", "Priya Nair", "Tomás Ortega")


def _error(status: int, description: str, **extra: Any) -> SimResponse:
    return SimResponse(status, {"ok": False, "error_code": status, "description": description, **extra})


def _user(contact_id: str) -> dict[str, Any]:
    first, _, last = NAMES[int(contact_id) % len(NAMES) if contact_id.isdigit() else 0].partition(" ")
    return {
        "id": int(contact_id) if contact_id.isdigit() else 0,
        "is_bot": False,
        "first_name": first,
        "last_name": last,
    }


class TelegramSim:
    channel = Channel.TELEGRAM

    def api(self, sim: Simulator, call: ApiCall) -> SimResponse:
        token, _, method = call.path.lstrip("/").partition("/")
        ref = next(
            (
                r
                for r in sim.registered_accounts(Channel.TELEGRAM)
                if token == "bot" + sim.credentials(Channel.TELEGRAM, r.account_id)["bot_token"]
            ),
            None,
        )
        if ref is None:
            return _error(401, "Unauthorized")
        if method != "sendMessage" or call.method != "POST":
            return _error(404, "Not Found")
        body = call.body if isinstance(call.body, dict) else {}
        chat_id = str(body.get("chat_id") or "")
        text = str(body.get("text") or "")
        if not chat_id:
            return _error(400, "Bad Request: chat_id is empty")
        if not text.strip():
            return _error(400, "Bad Request: message text is empty")
        users = sim.platform_users(Channel.TELEGRAM, ref.account_id)
        if chat_id not in users.followed and chat_id not in users.last_message:
            return _error(403, "Forbidden: bot can't initiate conversation with a user")
        if not users.reachable(chat_id):
            return _error(403, "Forbidden: bot was blocked by the user")
        now = sim.now()
        users.sent.setdefault(chat_id, []).append(now)
        message = {
            "message_id": next(_ids),
            "from": {"id": 1, "is_bot": True, "first_name": ref.account_id},
            "chat": {"id": int(chat_id) if chat_id.isdigit() else chat_id, "type": "private"},
            "date": int(now.timestamp()),
            "text": text,
        }
        return SimResponse(200, {"ok": True, "result": message})

    def fault(self, fault: Fault) -> SimResponse:
        if fault.kind == "disconnect":
            return SimResponse(0, None, disconnect=True)
        if fault.kind == "throttle":
            return _error(429, "Too Many Requests: retry after 1", parameters={"retry_after": 1})
        if fault.kind == "error":
            return _error(fault.status or 400, fault.message or "Bad Request")
        return _error(fault.status or 502, fault.message or "Bad Gateway")

    def play(self, sim: Simulator, ref: AccountRef, play: Play) -> PlayedEvent:
        users = sim.platform_users(Channel.TELEGRAM, ref.account_id)
        user = _user(play.contact_id)
        date = int(play.at.timestamp())
        chat = {"id": user["id"], "type": "private", "first_name": user["first_name"]}
        update: dict[str, Any] = {"update_id": next(_ids)}
        if play.kind in ("message", "start", "stop"):
            text = {"start": "/start", "stop": "STOP"}.get(play.kind, play.text or "Hi")
            update["message"] = {
                "message_id": next(_ids),
                "from": user,
                "chat": chat,
                "date": date,
                "text": text,
            }
            users.last_message[play.contact_id] = play.at
            if play.kind == "start" or play.contact_id not in users.followed:
                users.followed[play.contact_id] = play.at  # writing to a bot starts it
        elif play.kind == "button":
            update["callback_query"] = {
                "id": str(next(_ids)),
                "from": user,
                "chat_instance": "1",
                "data": play.text or "BUTTON",
                "message": {"message_id": next(_ids), "chat": chat, "date": date, "text": "Pick one"},
            }
        elif play.kind in ("block", "unblock"):
            bot = {"id": 1, "is_bot": True, "first_name": ref.account_id}
            old, new = ("member", "kicked") if play.kind == "block" else ("kicked", "member")
            update["my_chat_member"] = {
                "chat": chat,
                "from": user,
                "date": date,
                "old_chat_member": {"status": old, "user": bot},
                "new_chat_member": {"status": new, "user": bot},
            }
            (users.blocked if play.kind == "block" else users.followed)[play.contact_id] = play.at
        else:
            raise ValueError(
                f"unknown Telegram action {play.kind!r}: message, start, button, block, unblock, stop"
            )
        body = json.dumps(update).encode()
        secret = sim.credentials(Channel.TELEGRAM, ref.account_id)["webhook_secret_token"]
        headers = {"Content-Type": "application/json", SECRET_HEADER: secret}
        return PlayedEvent(body, headers, {}, update)


PLATFORM = TelegramSim()
