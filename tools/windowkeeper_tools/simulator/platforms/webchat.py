"""Web chat, played: a site's widget posting its visitor's messages (there is no platform API to
call: a reply is in the conversation log the widget reads).

Plays (``/_sim/customer`` ``kind``): ``message`` (default), ``stop``, ``opened``. Each request
carries a visitor token as the site's backend would mint it (``visitor_token``): HS256 with the
account's widget secret, ``sub`` = the visitor, 15 minutes long.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from datetime import datetime, timedelta
from typing import Any

from windowkeeper.policy.model import Channel
from windowkeeper_tools.simulator.base import AccountRef, Fault, SimResponse
from windowkeeper_tools.simulator.platforms import ApiCall, Play, PlayedEvent
from windowkeeper_tools.simulator.simulator import Simulator

TOKEN_LIFETIME = timedelta(minutes=15)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def visitor_token(widget_secret: str, visitor: str, issued: datetime, *, name: str | None = None) -> str:
    """A visitor token as a site's backend mints it for its widget."""
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    claims: dict[str, Any] = {
        "sub": visitor,
        "iat": int(issued.timestamp()),
        "exp": int((issued + TOKEN_LIFETIME).timestamp()),
    }
    if name:
        claims["name"] = name
    payload = _b64(json.dumps(claims).encode())
    signature = _b64(
        hmac.new(widget_secret.encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
    )
    return f"{header}.{payload}.{signature}"


class WebChatSim:
    channel = Channel.WEBCHAT

    def api(self, sim: Simulator, call: ApiCall) -> SimResponse:
        return SimResponse(404, {"error": "web chat has no platform API: replies are read from the service"})

    def fault(self, fault: Fault) -> SimResponse:
        return SimResponse(404, {"error": "web chat has no platform API to fail"})

    def play(self, sim: Simulator, ref: AccountRef, play: Play) -> PlayedEvent:
        kind = {"stop": "message", "message": "message", "opened": "opened"}.get(play.kind)
        if kind is None:
            raise ValueError(f"unknown web chat action {play.kind!r}: message, stop, opened")
        text = "STOP" if play.kind == "stop" else play.text or "Hello, is anyone there?"
        event = {
            "type": kind,
            "id": f"w-{secrets.token_hex(6)}",
            **({"text": text} if kind == "message" else {}),
        }
        secret = sim.credentials(Channel.WEBCHAT, ref.account_id)["widget_secret"]
        token = visitor_token(
            secret, play.contact_id, sim.now(), name=str(play.request.get("name") or "") or None
        )
        headers = {
            "Content-Type": "application/json",
            "Authorization": f"Bearer {token}",
            "Origin": "https://acme.example",
        }
        return PlayedEvent(json.dumps(event).encode(), headers, {}, event)


PLATFORM = WebChatSim()
