"""A local API Gateway (HTTP API): JWT authorizer, routes from the template, console, CORS.

stdlib ``ThreadingHTTPServer``: the gateway only translates and dispatches, so a framework would
add a dependency and a second request model for nothing.
"""

from __future__ import annotations

import logging
import mimetypes
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from windowkeeper_tools.local.apigw import (
    HttpRequest,
    HttpResponse,
    gateway_error,
    http_api_event,
    lambda_result_to_response,
)
from windowkeeper_tools.local.template import TemplateModel
from windowkeeper_tools.local.tokens import LocalKeys, TokenError, flatten_claims, verify

logger = logging.getLogger("windowkeeper.local.gateway")

CONSOLE_PREFIX = "/console/"
MAX_BODY_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit
CORS_HEADERS = [
    ("Access-Control-Allow-Origin", "*"),
    ("Access-Control-Allow-Headers", "authorization,content-type,idempotency-key"),
    ("Access-Control-Allow-Methods", "GET,POST,PUT,PATCH,DELETE,OPTIONS"),
    ("Access-Control-Max-Age", "600"),
]


class Invocable(Protocol):
    def invoke(self, event: dict[str, Any]) -> Any: ...


class FunctionSource(Protocol):
    """Where the gateway finds a route's function (the in-process pool; a fake in tests)."""

    def get(self, logical_id: str) -> Invocable: ...


@dataclass
class Gateway:
    """Dispatch logic, separate from the socket server so tests can call ``handle`` directly."""

    template: TemplateModel
    functions: FunctionSource
    keys: LocalKeys
    console_dir: Path | None = None
    console_config_js: str | None = None  # served as /console/config.js when set
    # Local-only endpoints (the event tap's /_local/events): never in the template, never deployed.
    local_routes: dict[str, Callable[[HttpRequest], HttpResponse]] = field(default_factory=dict)

    def handle(self, request: HttpRequest) -> HttpResponse:
        path = request.raw_path
        if request.method == "OPTIONS":
            return HttpResponse(204, list(CORS_HEADERS))
        if request.method == "GET" and path in {"/", "/console"}:
            return HttpResponse(302, [("Location", CONSOLE_PREFIX)])
        if request.method == "GET" and path.startswith(CONSOLE_PREFIX):
            return self._console(path[len(CONSOLE_PREFIX) :])
        if path in self.local_routes:
            return self.local_routes[path](request)
        resolved = self.template.resolve(request.method, path)
        if resolved is None:
            return gateway_error(404, "Not Found")
        route, params = resolved
        claims: dict[str, str] | None = None
        if route.authorizer is not None:
            authorization = next((v for n, v in request.headers if n.lower() == "authorization"), "")
            scheme, _, token = authorization.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                return gateway_error(401, "Unauthorized")
            try:
                claims = flatten_claims(verify(self.keys, token.strip()))
            except TokenError as error:
                logger.info("JWT refused on %s: %s", route.route_key, error)
                return gateway_error(401, "Unauthorized")
        event = http_api_event(
            request,
            route_key=route.route_key,
            path_parameters=params or None,
            claims=claims,
            request_id=uuid.uuid4().hex,
        )
        try:
            result = self.functions.get(route.function).invoke(event)
        except Exception:
            # API Gateway answers a failed invocation with a bare 500; the traceback is the log's.
            logger.exception("%s failed on %s", route.function, route.route_key)
            return gateway_error(500, "Internal Server Error")
        return lambda_result_to_response(result)

    def _console(self, relative: str) -> HttpResponse:
        if self.console_dir is None:
            return gateway_error(404, "Not Found")
        relative = relative or "index.html"
        if relative == "config.js" and self.console_config_js is not None:
            return HttpResponse(
                200,
                [("Content-Type", "text/javascript; charset=utf-8"), ("Cache-Control", "no-store")],
                self.console_config_js.encode("utf-8"),
            )
        root = self.console_dir.resolve()
        target = (root / relative).resolve()
        if not target.is_relative_to(root) or not target.is_file():
            return gateway_error(404, "Not Found")
        content_type = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        if content_type.startswith("text/") or content_type.endswith("javascript"):
            content_type += "; charset=utf-8"
        return HttpResponse(
            200,
            [("Content-Type", content_type), ("Cache-Control", "no-cache")],
            target.read_bytes(),
        )


class _RequestHandler(BaseHTTPRequestHandler):
    server: GatewayServer
    protocol_version = "HTTP/1.1"

    def _serve(self) -> None:
        split = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            self._write(gateway_error(413, "Request Entity Too Large"))
            return
        body = self.rfile.read(length) if length else b""
        request = HttpRequest(
            method=self.command,
            raw_path=split.path,
            raw_query=split.query,
            headers=list(self.headers.items()),
            body=body,
            source_ip=self.client_address[0],
            protocol=self.request_version,
            host=self.headers.get("Host", ""),
        )
        try:
            self._write(self.server.gateway.handle(request))
        except (BrokenPipeError, ConnectionResetError):
            # The client went away (a browser closing, a poll cut short): nothing to answer.
            self.close_connection = True

    def _write(self, response: HttpResponse) -> None:
        self.send_response(response.status)
        names = {name.lower() for name, _ in response.headers}
        for name, value in response.headers:
            self.send_header(name, value)
        for name, value in CORS_HEADERS:
            if name.lower() not in names:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = _serve

    def log_message(self, format: str, *args: Any) -> None:
        # The default writes every request line to stderr; paths carry contact ids (phone
        # numbers), so request lines go to the debug log only.
        logger.debug(format, *args)


class GatewayServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, host: str, port: int, gateway: Gateway) -> None:
        super().__init__((host, port), _RequestHandler)
        self.gateway = gateway
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> None:
        self._thread = threading.Thread(target=self.serve_forever, name="local-gateway", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
