"""The simulated Meta: a Graph API that enforces the window from its own record of customers.

``Simulator`` holds the state and the rules; ``server.SimulatorServer`` puts it on HTTP. It
never asks Windowkeeper whether a message may go: it remembers every customer message it played
(``customer_writes`` and friends) and answers a send the way Meta would, so a gate bug shows up
as Meta's error instead of being trusted.

Rules it enforces (its own copy, deliberately not the engine's, meta-policy.md §1.3-1.6, 2, 3.1):

* Messenger / Instagram ``RESPONSE`` / ``UPDATE``: within 24 h of the customer's last action,
  else ``10/2018278`` (Instagram ``10/2534022``); a contact that never wrote: ``100/2018001``.
* ``MESSAGE_TAG`` + ``HUMAN_AGENT``: within 7 days, else the window error; Instagram accepts no
  other tag (``100``); ``CUSTOMER_FEEDBACK``: Messenger, 7 days, feedback template only;
  ``CONFIRMED_EVENT_UPDATE`` / ``ACCOUNT_UPDATE`` / ``POST_PURCHASE_UPDATE``: ``100`` "Invalid
  parameter" from 2026-04-27 (legacy 2020 tags from 2020-03-04).
* ``UTILITY`` (Messenger utility template) and marketing tokens: accepted at any time.
* Private replies (``recipient.comment_id``): one per comment within 7 days, else ``100/2534025``.
* WhatsApp: templates at any time (checked against the account's template list when the account
  is registered: missing ``132001``, paused ``132015``, disabled ``132016``); anything else within
  24 h of the customer's last message or call, else ``131047``.

Its notion of "now" is a clock function (``clock=`` / ``set_now``), so a test can play a
customer "two days ago" and send "now", or freeze time entirely.
"""

from __future__ import annotations

from windowkeeper_tools.simulator.base import (
    DEFAULT_APP_SECRET,
    AccountRef,
    Fault,
    RecordedRequest,
    SimResponse,
    WebhookDelivery,
    graph_error_body,
)
from windowkeeper_tools.simulator.customers import CustomerPlay
from windowkeeper_tools.simulator.graph_api import GraphApi
from windowkeeper_tools.simulator.platform_play import PlatformPlay

__all__ = [
    "DEFAULT_APP_SECRET",
    "AccountRef",
    "Fault",
    "RecordedRequest",
    "SimResponse",
    "Simulator",
    "WebhookDelivery",
    "graph_error_body",
]


class Simulator(GraphApi, CustomerPlay, PlatformPlay):
    """Meta and the other platforms, locally: the APIs the adapters call and the customers who
    write to the service."""
