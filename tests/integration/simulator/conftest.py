"""A running simulator on loopback, and a tiny webhook receiver standing in for the service.

The integration tier runs with ``--disable-socket --allow-unix-socket``; these tests re-enable
sockets for loopback only (``enable_socket`` + ``allow_hosts``), nothing else is reachable.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from tests.support.accounts import GRAPH_INSTAGRAM, GRAPH_PAGE, GRAPH_WHATSAPP, template
from windowkeeper.policy.model import TemplateCategory, TemplateStatus
from windowkeeper_tools.simulator import Simulator, SimulatorServer

APP_SECRET = "simulator-test-app-secret-0123456789"

PAGE = GRAPH_PAGE
INSTAGRAM = GRAPH_INSTAGRAM
WHATSAPP = GRAPH_WHATSAPP.model_copy(
    update={
        "templates": (
            template("order_shipped", parameters=("name", "order")),
            template("winter_sale", TemplateCategory.MARKETING, TemplateStatus.PAUSED),
        )
    }
)


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class WebhookReceiver:
    url: str
    received: list[Received] = field(default_factory=list)


# Every module here starts with ``pytestmark = LOOPBACK_ONLY``.
LOOPBACK_ONLY = [pytest.mark.enable_socket, pytest.mark.allow_hosts(["127.0.0.1"])]


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    received: list[Received] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            received.append(
                Received(self.path, {k.lower(): v for k, v in self.headers.items()}, self.rfile.read(length))
            )
            data = b'{"status":"ok"}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            return

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield WebhookReceiver(f"http://127.0.0.1:{httpd.server_address[1]}/webhook", received)
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


@pytest.fixture(scope="session")
def http() -> Iterator[httpx.Client]:
    """One client for the whole run: building an httpx client (its TLS context) costs ~50 ms."""
    with httpx.Client(timeout=10.0) as client:
        yield client


@pytest.fixture
def server(receiver: WebhookReceiver) -> Iterator[SimulatorServer]:
    simulator = Simulator(
        webhook_url=receiver.url, app_secret=APP_SECRET, accounts=[PAGE, INSTAGRAM, WHATSAPP]
    )
    with SimulatorServer(simulator, port=0) as running:
        yield running


@pytest.fixture
def sim(server: SimulatorServer) -> Simulator:
    return server.simulator
