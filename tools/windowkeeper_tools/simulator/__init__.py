"""A local Meta Graph API and customer player for the local stack and end-to-end tests.

``SimulatorServer(port=0).start()`` serves the Graph API on loopback; its ``simulator`` plays
customers (``customer_writes`` and friends: signed, Meta-serialised webhooks POSTed to the
service) and enforces Meta's windows from its own record of them. ``payloads`` has the webhook
builders as plain functions for tests elsewhere.
"""

from windowkeeper_tools.simulator import payloads
from windowkeeper_tools.simulator.server import SimulatorServer, play_customer
from windowkeeper_tools.simulator.simulator import (
    DEFAULT_APP_SECRET,
    AccountRef,
    Fault,
    RecordedRequest,
    SimResponse,
    Simulator,
    WebhookDelivery,
    graph_error_body,
)

__all__ = [
    "DEFAULT_APP_SECRET",
    "AccountRef",
    "Fault",
    "RecordedRequest",
    "SimResponse",
    "Simulator",
    "SimulatorServer",
    "WebhookDelivery",
    "graph_error_body",
    "payloads",
    "play_customer",
]
