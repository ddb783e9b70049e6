"""Delivery through Meta's Graph API: request building, retries, error reading (``GraphClient``)."""

from windowkeeper.graph.client import GraphClient, TokenProvider
from windowkeeper.graph.errors import ERROR_TABLE, ErrorRule, classify
from windowkeeper.graph.requests import GraphRequest, GraphRequestError, build_send_request
from windowkeeper.graph.results import ContactEffects, DeliveryResult, GraphError

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
