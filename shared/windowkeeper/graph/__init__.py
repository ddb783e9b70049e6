"""Delivery through Meta's Graph API: request building, retries, error reading (``GraphClient``).

The package import is light on purpose: ``windowkeeper.graph.results`` is read on every send
(and by the GET routes of the send function), and importing ``GraphClient`` eagerly would make
every cold start pay for httpx. The names below are resolved on first use (PEP 562).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from windowkeeper.graph.client import GraphClient, TokenProvider
    from windowkeeper.graph.errors import ERROR_TABLE, ErrorRule, classify
    from windowkeeper.graph.request_builder import GraphRequest, GraphRequestError, build_send_request
    from windowkeeper.graph.results import ContactEffects, DeliveryResult, GraphError

_HOMES = {
    "GraphClient": "client",
    "TokenProvider": "client",
    "ERROR_TABLE": "errors",
    "ErrorRule": "errors",
    "classify": "errors",
    "GraphRequest": "request_builder",
    "GraphRequestError": "request_builder",
    "build_send_request": "request_builder",
    "ContactEffects": "results",
    "DeliveryResult": "results",
    "GraphError": "results",
}

__all__ = [
    "ERROR_TABLE",
    "ContactEffects",
    "DeliveryResult",
    "ErrorRule",
    "GraphClient",
    "GraphError",
    "GraphRequest",
    "GraphRequestError",
    "TokenProvider",
    "build_send_request",
    "classify",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value  # resolved once
    return value
