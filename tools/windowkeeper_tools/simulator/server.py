"""``SimulatorServer``: the simulator on loopback HTTP (stdlib ``ThreadingHTTPServer``, no new dependency).

Graph API: ``POST /{version}/{id}/messages`` and
``POST /{version}/{page_id}/{pass,take,release,request}_thread_control``.

Control endpoints (JSON in, JSON out):

==========================  ===========================================================================
``GET  /_sim/health``        ``{"status": "ok"}``
``GET  /_sim/requests``      every Graph call received (``?edge=messages`` filters); tokens not kept
``GET  /_sim/webhooks``      every webhook the simulator sent (object, status code, response)
``POST /_sim/reset``         forget customers, requests, webhooks, faults
``POST /_sim/faults``        ``{"kind": "server_error"|"throttle"|"error"|"disconnect", "count": N,
                             "status"?, "code"?, "subcode"?, "message"?, "channel"?}``: the next N calls
``GET|POST /_sim/clock``     read / set the simulator's now: ``{"now": "2026-11-21T10:00:00Z"}`` or
                             ``{"now": null}`` for the system clock
``POST /_sim/customer``      play a customer: ``{"channel", "account_id", "contact_id", "kind":
                             message|postback|reaction|call|comment|ad|stop|resume|status, "text"?,
                             "at"?, "comment_id"?, "target_message_id"?, "message_id"?, "status"?,
                             "error_code"?}``
==========================  ===========================================================================
"""

from __future__ import annotations

import json
import logging
import threading
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from windowkeeper.policy.model import META_CHANNELS, Channel
from windowkeeper_tools.simulator.platforms import Play
from windowkeeper_tools.simulator.simulator import SimResponse, Simulator, WebhookDelivery

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 4 * 1024 * 1024


class SimulatorServer:
    """Start with ``SimulatorServer(port=0).start()``; ``.url`` is then the base URL to use."""

    def __init__(self, simulator: Simulator | None = None, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.simulator = simulator or Simulator()
        self._httpd = _HTTPServer((host, port), _Handler)
        self._httpd.simulator = self.simulator
        self._thread: threading.Thread | None = None

    @property
    def host(self) -> str:
        return str(self._httpd.server_address[0])

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> SimulatorServer:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._httpd.serve_forever,
                kwargs={"poll_interval": 0.1},
                name="meta-simulator",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._httpd.server_close()
        self.simulator.close()

    def serve_forever(self) -> None:
        """Blocking, for ``python -m windowkeeper_tools.simulator``."""
        try:
            self._httpd.serve_forever(poll_interval=0.2)
        finally:
            self._httpd.server_close()
            self.simulator.close()

    def __enter__(self) -> SimulatorServer:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    simulator: Simulator


class _Handler(BaseHTTPRequestHandler):
    server: _HTTPServer
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle on, a keep-alive client waits ~40 ms for
    # the delayed ACK on every call.
    disable_nagle_algorithm = True
    server_version = "MetaGraphSimulator/1.0"

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("simulator %s", format % args)

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def _dispatch(self, method: str) -> None:
        parts = urlsplit(self.path)
        query = dict(parse_qsl(parts.query))
        try:
            body = self._read_body()
        except ValueError as exc:
            self._send(400, {"error": {"message": str(exc), "type": "OAuthException", "code": 100}})
            return
        if parts.path.startswith("/_sim/"):
            self._control(method, parts.path, query, body)
            return
        headers = {k.lower(): v for k, v in self.headers.items()}
        sim = self.server.simulator
        if sim.is_platform_path(parts.path):  # /telegram/..., /viber/..., /line/..., /wechat/...
            self._answer(sim.handle_platform(method, parts.path, query, headers, body))
            return
        response = sim.handle_graph(method, parts.path, query, headers, body)
        self._answer(response)

    def _read_body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            raise ValueError("request body too large")
        raw = self.rfile.read(length) if length else b""
        if not raw:
            return None
        content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip()
        if content_type == "application/x-www-form-urlencoded":
            # Graph also takes form fields whose values are JSON (``recipient={"id": ...}``).
            return {k: _maybe_json(v) for k, v in parse_qsl(raw.decode())}
        try:
            return json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ValueError(f"body is not JSON: {exc.msg}") from exc

    def _answer(self, response: SimResponse) -> None:
        if response.disconnect:
            self.close_connection = True  # drop it unanswered: the client sees a protocol error
            return
        if response.text is not None:
            self._send_bytes(response.status, response.text.encode(), response.content_type)
            return
        self._send(response.status, response.body or {})

    def _send(self, status: int, body: Any) -> None:
        self._send_bytes(status, json.dumps(body).encode(), "application/json; charset=UTF-8")

    def _send_bytes(self, status: int, data: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    # --- /_sim control ------------------------------------------------------------------------

    def _control(self, method: str, path: str, query: dict[str, str], body: Any) -> None:
        sim = self.server.simulator
        payload = body if isinstance(body, dict) else {}
        try:
            if path == "/_sim/health" and method == "GET":
                self._send(200, {"status": "ok"})
            elif path == "/_sim/requests" and method == "GET":
                records = sim.requests(edge=query.get("edge"))
                self._send(200, {"requests": [r.to_dict() for r in records]})
            elif path == "/_sim/webhooks" and method == "GET":
                self._send(200, {"webhooks": [w.summary() for w in sim.webhooks()]})
            elif path == "/_sim/reset" and method == "POST":
                sim.reset()
                self._send(200, {"status": "ok"})
            elif path == "/_sim/faults" and method == "POST":
                fault = sim.add_fault(
                    str(payload.get("kind", "server_error")),
                    count=int(payload.get("count", 1)),
                    status=_opt_int(payload.get("status")),
                    code=_opt_int(payload.get("code")),
                    subcode=_opt_int(payload.get("subcode")),
                    message=payload.get("message"),
                    channel=Channel(payload["channel"]) if payload.get("channel") else None,
                )
                self._send(200, {"status": "ok", "kind": fault.kind, "count": fault.remaining})
            elif path == "/_sim/clock":
                if method == "POST":
                    now = payload.get("now")
                    sim.set_now(_instant(now) if now else None)
                self._send(200, {"now": sim.now().isoformat()})
            elif path == "/_sim/customer" and method == "POST":
                delivery = play_customer(sim, payload)
                self._send(200, {"status": "ok", "webhook": delivery.summary(), "payload": delivery.payload})
            else:
                self._send(
                    404, {"status": "error", "reason": "route_not_found", "message": "No such endpoint."}
                )
        except (KeyError, ValueError, TypeError) as exc:
            self._send(400, {"status": "error", "reason": "invalid_request", "message": str(exc)})


PAGE_LEVEL_KINDS = frozenset(
    {"template_status", "template_category", "template_quality", "policy_enforcement"}
)


def play_customer(sim: Simulator, request: dict[str, Any]) -> WebhookDelivery:
    """``POST /_sim/customer`` (and ``windowkeeper simulate``): one customer action by kind."""
    channel = Channel(request["channel"])
    account = str(request["account_id"])
    kind = request.get("kind", "message")
    if channel not in META_CHANNELS:  # the other platforms: their own kinds and webhooks
        played_at = _instant(request["at"]) if request.get("at") else sim.now()
        if request.get("ago_seconds") is not None:
            played_at = sim.now() - timedelta(seconds=int(request["ago_seconds"]))
        play = Play(str(request["contact_id"]), str(kind), played_at, str(request.get("text") or ""), request)
        return sim.play_platform(channel, account, play)
    # Page- and template-level webhooks name no customer.
    contact = str(request.get("contact_id") or "") if kind in PAGE_LEVEL_KINDS else str(request["contact_id"])
    at = _instant(request["at"]) if request.get("at") else None
    if request.get("ago_seconds") is not None:  # relative to the simulator's clock (/_sim/clock)
        at = sim.now() - timedelta(seconds=int(request["ago_seconds"]))
    text = str(request.get("text") or "")
    if kind == "message":
        return sim.customer_writes(channel, account, contact, text or "Hi", at)
    if kind == "ad":
        return sim.customer_clicks_ad(channel, account, contact, text or "Hi, I saw your ad", at)
    if kind == "postback":
        return sim.customer_postback(
            channel,
            account,
            contact,
            text or "Get Started",
            str(request.get("payload") or "GET_STARTED"),
            at=at,
        )
    if kind == "reaction":
        return sim.customer_reacts(
            channel, account, contact, str(request.get("target_message_id") or "m_unknown"), at
        )
    if kind == "call":
        return sim.customer_calls(account, contact, at)
    if kind == "comment":
        comment_id = str(request.get("comment_id") or f"{contact}_comment")
        return sim.customer_comments(channel, account, contact, comment_id, text or "How much is it?", at=at)
    if kind in ("stop", "resume"):
        if channel is Channel.WHATSAPP:
            return sim.customer_marketing_preference(account, contact, kind, at)
        return sim.customer_writes(channel, account, contact, kind.upper(), at)
    if kind == "optin":
        return sim.customer_opts_in(channel, account, contact, at, token=request.get("token"))
    if kind == "status":
        status = str(request.get("status") or "delivered")
        if channel is not Channel.WHATSAPP:
            ids = [str(request["message_id"])] if request.get("message_id") else None
            return sim.messenger_status(channel, account, contact, status, at, message_ids=ids)
        return sim.message_status(
            account,
            contact,
            str(request["message_id"]),
            status,
            at,
            error_code=_opt_int(request.get("error_code")),
        )
    if kind == "template_status":
        return sim.template_status_update(
            account,
            str(request["template"]),
            str(request.get("event") or "APPROVED"),
            at,
            language=request.get("language"),
            reason=str(request.get("reason") or "NONE"),
        )
    if kind == "template_category":
        return sim.template_category_update(
            account, str(request["template"]), str(request["category"]), at, language=request.get("language")
        )
    if kind == "template_quality":
        return sim.template_quality_update(
            account, str(request["template"]), str(request["quality"]), at, language=request.get("language")
        )
    if kind == "policy_enforcement":
        return sim.policy_enforcement(
            channel,
            account,
            str(request.get("action") or "warning"),
            at,
            reason=str(request.get("reason") or ""),
        )
    raise ValueError(f"unknown customer action kind {kind!r}")


def _instant(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError("instants must carry a timezone, e.g. 2026-11-21T10:00:00Z")
    return parsed


def _opt_int(value: Any) -> int | None:
    return None if value is None or value == "" else int(value)


def _maybe_json(value: str) -> Any:
    if value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


__all__ = ["SimulatorServer", "play_customer"]
