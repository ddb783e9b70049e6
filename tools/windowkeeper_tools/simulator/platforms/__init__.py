"""The other platforms, played locally: their send APIs and their customers' webhooks.

Each platform module (``telegram.py``, ``viber.py``, ``line.py``, ``wechat.py``, ``webchat.py``)
holds a ``PLATFORM`` implementing ``PlatformSim``:

* ``api`` answers the platform's send API under ``/<channel>/...`` on the simulator (the local
  stack points ``<CHANNEL>_API_BASE_URL`` there) with the platform's real shapes and errors, from
  the simulator's own record of who may be messaged (never by asking Windowkeeper);
* ``play`` builds a customer's webhook the platform's way (its payload, its signature or secret
  header) and the simulator POSTs it to ``/webhook/<channel>/<account_id>``.

Credentials are the JSON object the account's secret holds (``credentials_for``): the local stack
stores the same object in Secrets Manager, so a signature the simulator makes is checked with what
the deployed function would read.
"""

from __future__ import annotations

import hashlib
import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from windowkeeper.policy.model import Channel

if TYPE_CHECKING:
    from windowkeeper_tools.simulator.base import AccountRef, Fault, SimResponse
    from windowkeeper_tools.simulator.simulator import Simulator

PLATFORM_MODULES: Mapping[Channel, str] = {
    Channel.TELEGRAM: "telegram",
    Channel.VIBER: "viber",
    Channel.LINE: "line",
    Channel.WECHAT: "wechat",
    Channel.WEBCHAT: "webchat",
    # AWS's own services, played: SNS Publish (SMS) and SESv2 SendEmail, and the SNS notifications
    # End User Messaging SMS and SES receiving publish for a customer's text or mail.
    Channel.SMS: "sms",
    Channel.EMAIL: "email",
}


@dataclass(frozen=True)
class ApiCall:
    """One call to a platform's API on the simulator (path without the ``/<channel>`` prefix)."""

    method: str
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]  # lower-case names
    body: Any  # parsed JSON (or form fields)


@dataclass(frozen=True)
class Play:
    """A customer action to play: ``kind`` is the platform's (message, follow, unfollow, ...)."""

    contact_id: str
    kind: str
    at: datetime
    text: str
    request: Mapping[str, Any]  # the whole ``/_sim/customer`` request, for platform-specific fields


@dataclass(frozen=True)
class PlayedEvent:
    """A customer's webhook as the platform would send it: exact bytes and headers."""

    body: bytes
    headers: dict[str, str]
    query: dict[str, str]
    payload: Any  # the same, parsed, for the caller to look at
    # Where the platform delivers it, when not the service's ``/webhook/<channel>/<account_id>``
    # (SMS and e-mail: AWS's SNS delivers them; locally, the stack's SNS bridge).
    url: str | None = None


class PlatformSim(Protocol):
    channel: Channel

    def api(self, sim: Simulator, call: ApiCall) -> SimResponse: ...

    def play(self, sim: Simulator, ref: AccountRef, play: Play) -> PlayedEvent: ...

    def fault(self, fault: Fault) -> SimResponse:
        """A fault set on this platform (``/_sim/faults`` with its channel) in the platform's shape."""
        ...


def platform(channel: Channel) -> PlatformSim | None:
    module = PLATFORM_MODULES.get(channel)
    if module is None:
        return None
    try:
        loaded = importlib.import_module(f"{__name__}.{module}")
    except ModuleNotFoundError:
        return None
    found: PlatformSim = loaded.PLATFORM
    return found


def platform_for_path(path: str) -> PlatformSim | None:
    """The platform whose API the path is under (``/telegram/bot.../sendMessage``), if any."""
    first = path.lstrip("/").split("/", 1)[0]
    for channel, module in PLATFORM_MODULES.items():
        if first == module:
            return platform(channel)
    return None


def credentials_for(channel: Channel, account_id: str) -> dict[str, str]:
    """The local credentials of an account on ``channel``: what its secret holds locally (stable
    across processes, so a test, the simulator and the local stack agree)."""
    base = f"local-{channel.value}-{account_id}"
    digits = int(hashlib.sha256(base.encode()).hexdigest()[:12], 16)
    by_channel = {
        # The bot token in the API URL, and the secret token set with setWebhook.
        Channel.TELEGRAM: {
            "bot_token": f"{digits % 10**10}:{base}",
            "webhook_secret_token": f"{base}-secret",
        },
        # One auth token signs webhooks and authenticates sends.
        Channel.VIBER: {"auth_token": f"{base}-auth-token"},
        # The channel secret signs webhooks; the channel access token authenticates sends.
        Channel.LINE: {
            "channel_secret": f"{base}-channel-secret",
            "channel_access_token": f"{base}-access-token",
        },
        # The token signs the URL's query; app id and secret buy an access token for sends.
        Channel.WECHAT: {
            "token": f"{base}-token",
            "app_id": f"wx{digits:016d}"[:18],
            "app_secret": f"{base}-secret",
        },
        # The site's backend signs its visitors' widget tokens with this.
        Channel.WEBCHAT: {"widget_secret": f"{base}-widget-secret"},
    }
    return dict(by_channel.get(channel, {}))
