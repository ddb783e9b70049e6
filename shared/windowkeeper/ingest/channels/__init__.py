"""Inbound readers of the channels Meta does not carry: each verifies its platform's proof and
turns its payloads into observations (``base.ChannelEvents``); ``ingest/service.py`` does the rest.

Readers are imported on first use: a Meta webhook's cold start does not pay for them.
"""

from __future__ import annotations

import importlib
from types import MappingProxyType

from windowkeeper.ingest.channels.base import ChannelInbound
from windowkeeper.policy.model import Channel

# Channel -> module under ``windowkeeper.ingest.channels`` whose ``READER`` reads its webhooks.
READER_MODULES = MappingProxyType(
    {
        Channel.VIBER: "viber",
        Channel.TELEGRAM: "telegram",
        Channel.LINE: "line",
        Channel.WECHAT: "wechat",
        Channel.WEBCHAT: "webchat",
    }
)


def reader_for(channel: Channel) -> ChannelInbound | None:
    """The channel's inbound reader, or None when its events do not come over our HTTP route."""
    module = READER_MODULES.get(channel)
    if module is None:
        return None
    try:
        loaded = importlib.import_module(f"{__name__}.{module}")
    except ModuleNotFoundError:
        return None
    reader: ChannelInbound = loaded.READER
    return reader
