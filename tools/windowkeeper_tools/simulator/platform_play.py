"""The simulator's side of the other platforms: their API calls and their customers' webhooks.

The platform modules (``simulator/platforms/``) know each platform's shapes; this mixin keeps what
they share on the simulator: each platform's own record of its users (who started, followed or
blocked the bot), the requests it received, and posting a played webhook to the service's
``/webhook/<channel>/<account_id>``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from windowkeeper.policy.model import Channel
from windowkeeper_tools.simulator.base import (
    AccountRef,
    Fault,
    RecordedRequest,
    SimResponse,
    SimulatorBase,
    WebhookDelivery,
)
from windowkeeper_tools.simulator.platforms import ApiCall, Play, credentials_for, platform, platform_for_path


@dataclass
class PlatformUsers:
    """One bot's users as the platform knows them: who may be messaged, and since when."""

    followed: dict[str, datetime] = field(default_factory=dict)  # subscribed / started / followed
    blocked: dict[str, datetime] = field(default_factory=dict)  # unsubscribed / blocked / unfollowed
    last_message: dict[str, datetime] = field(default_factory=dict)  # the user's last message
    sent: dict[str, list[datetime]] = field(default_factory=dict)  # messages the bot sent them

    def reachable(self, contact_id: str) -> bool:
        followed = self.followed.get(contact_id)
        blocked = self.blocked.get(contact_id)
        return followed is not None and (blocked is None or followed > blocked)


class PlatformPlay(SimulatorBase):
    """Mixed into ``Simulator``: answers ``/<channel>/...`` calls and plays customers' webhooks."""

    def platform_users(self, channel: Channel, account_id: str) -> PlatformUsers:
        with self._lock:
            users: dict[tuple[Channel, str], PlatformUsers] = self._state.__dict__.setdefault(
                "platform_users", {}
            )
            return users.setdefault((channel, account_id), PlatformUsers())

    @property
    def platform_counters(self) -> dict[tuple[str, str], int]:
        """Counts a platform keeps of its own (Viber: bot-initiated messages by bot and month)."""
        with self._lock:
            counters: dict[tuple[str, str], int] = self._state.__dict__.setdefault("platform_counters", {})
            return counters

    def registered_accounts(self, channel: Channel) -> list[AccountRef]:
        with self._lock:
            return [r for r in self._accounts.values() if r.channel is channel]

    def credentials(self, channel: Channel, account_id: str) -> dict[str, str]:
        return credentials_for(channel, account_id)

    def is_platform_path(self, path: str) -> bool:
        return platform_for_path(path) is not None

    def handle_platform(
        self, method: str, path: str, query: Mapping[str, str], headers: Mapping[str, str], body: Any
    ) -> SimResponse:
        found = platform_for_path(path)
        assert found is not None
        sub_path = "/" + path.lstrip("/").split("/", 1)[1] if "/" in path.lstrip("/") else "/"
        call = ApiCall(method, sub_path, query, headers, body)
        with self._lock:
            fault = self._platform_fault(found.channel)
            response = found.fault(fault) if fault is not None else found.api(self, call)  # type: ignore[arg-type]
            self._state.requests.append(
                RecordedRequest(
                    at=self.now(),
                    method=method,
                    path=path,
                    node=None,
                    edge=sub_path.rsplit("/", 1)[-1],
                    channel=found.channel,
                    query={k: v for k, v in query.items() if "token" not in k},
                    body=body,
                    token_present=True,
                    status=response.status,
                    response=response.body,
                    fault=fault is not None,
                )
            )
        return response

    def _platform_fault(self, channel: Channel) -> Fault | None:
        """The next fault set for this platform by name (a fault without a channel is Meta's)."""
        for fault in self._state.faults:
            if fault.channel is channel:
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._state.faults.remove(fault)
                return fault
        return None

    def play_platform(self, channel: Channel, account_id: str, play: Play) -> WebhookDelivery:
        """A customer's action on ``channel``, signed the platform's way and POSTed to the service."""
        found = platform(channel)
        if found is None:
            raise ValueError(f"the simulator does not play {channel.value}")
        ref = self._accounts.get(account_id)
        if ref is None or ref.channel is not channel:
            raise ValueError(f"no {channel.value} account {account_id} is registered with the simulator")
        event = found.play(self, ref, play)  # type: ignore[arg-type]
        delivery = WebhookDelivery(
            payload={"object": channel.value, "event": event.payload}, body=event.body, signature=""
        )
        if self.webhook_url:
            url = event.url or f"{self.webhook_url.rstrip('/')}/{channel.value}/{account_id}"
            response = self._http.post(url, content=event.body, headers=event.headers, params=event.query)
            delivery.status_code = response.status_code
            delivery.response_text = response.text
        with self._lock:
            self._state.webhooks.append(delivery)
        return delivery
