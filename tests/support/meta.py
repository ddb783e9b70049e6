"""Meta's Graph API played by an ``httpx.MockTransport``: error bodies and a recording fake."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from windowkeeper.graph.client import GraphClient, TokenProvider


def graph_error_body(
    code: int,
    subcode: int | None = None,
    *,
    message: str | None = None,
    fbtrace_id: str = "AbCdEf123",
    **extra: Any,
) -> dict[str, Any]:
    """Meta's error envelope: ``{"error": {"message", "type", "code", "error_subcode"?, ...}}``."""
    error: dict[str, Any] = {
        "message": message if message is not None else f"(#{code}) scripted error",
        "type": "OAuthException",
        "code": code,
        "fbtrace_id": fbtrace_id,
    }
    if subcode is not None:
        error["error_subcode"] = subcode
    error.update(extra)
    return {"error": error}


def message_sent(request: httpx.Request) -> httpx.Response:
    """Meta's success answer: a ``wamid.`` on WhatsApp, a tracking id from the Marketing Messages
    API (``act_…/messages``), an ``m_`` message id from the Send API."""
    sent = json.loads(request.content)
    if "/act_" in request.url.path:
        return httpx.Response(200, json={"marketing_message_tracking_id": f"mm_{uuid.uuid4().hex[:20]}"})
    if sent.get("messaging_product") == "whatsapp":
        return httpx.Response(
            200,
            json={
                "messaging_product": "whatsapp",
                "contacts": [{"input": sent.get("to"), "wa_id": sent.get("to")}],
                "messages": [{"id": f"wamid.HBgL{uuid.uuid4().hex[:16].upper()}"}],
            },
        )
    recipient = sent.get("recipient") or {}
    return httpx.Response(
        200, json={"recipient_id": recipient.get("id"), "message_id": f"m_{uuid.uuid4().hex}"}
    )


def thread_control_done(_request: httpx.Request) -> httpx.Response:
    """The Handover Protocol's success answer (take/pass/release thread control)."""
    return httpx.Response(200, json={"success": True})


@dataclass
class FakeMeta:
    """Records every request; answers the scripted errors first, then ``success`` for each call."""

    success: Callable[[httpx.Request], httpx.Response] = message_sent
    requests: list[httpx.Request] = field(default_factory=list)
    scripted: list[tuple[int, dict[str, Any]]] = field(default_factory=list)

    def answer_error(
        self, code: int, subcode: int | None = None, *, status: int = 400, times: int = 1
    ) -> None:
        self.scripted.extend([(status, graph_error_body(code, subcode))] * times)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.scripted:
            status, body = self.scripted.pop(0)
            return httpx.Response(status, json=body)
        return self.success(request)

    def graph_client(self, token_provider: TokenProvider, *, max_attempts: int) -> GraphClient:
        """The real GraphClient, talking to this fake, retrying without sleeping."""
        return GraphClient(
            "https://graph.facebook.com",
            "v25.0",
            token_provider,
            transport=httpx.MockTransport(self.handle),
            sleep=lambda _seconds: None,
            max_attempts=max_attempts,
        )

    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(r.content) for r in self.requests]

    def calls(self) -> list[tuple[str, dict[str, Any]]]:
        """(last path segment, JSON body) of every request, in order."""
        return [(r.url.path.rsplit("/", 1)[-1], json.loads(r.content)) for r in self.requests]
