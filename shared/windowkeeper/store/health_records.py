"""An account's health as Meta last told it: whether sends can reach Meta at all.

Meta says an account cannot send in three ways, each kept as state here instead of only logged:
a rejected access token (Graph code 190: expired, revoked or the password changed), a restricted
Page or number (368, 1893063, 131031: Meta's enforcement), and the ``messaging_policy_enforcement``
webhook (``block`` / ``unblock`` / ``warning``). The send gate refuses sends of a *blocking* status
(a rejected token, a blocked app) with reason ``account_unavailable`` before calling Meta; a
restriction is recorded and shown but sends still go (Meta refuses what it restricts, and a send
that succeeds clears it). A rejected token clears when the token is replaced (its fingerprint
changes) or a send succeeds; a block clears with Meta's ``unblock``.

Facts carry their own instant (``changed_ms``) and the store keeps only a newer one, so a late
webhook never undoes a newer fact.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from windowkeeper.events import BusEvent, DetailType
from windowkeeper.instants import from_ms
from windowkeeper.policy.model import Channel

HealthStatus = Literal["ok", "token_invalid", "restricted", "blocked"]
BLOCKING: frozenset[str] = frozenset({"token_invalid", "blocked"})

WHAT_TO_DO: dict[str, str] = {
    "token_invalid": "Meta rejected the account's access token (code 190); replace the token in its secret "
    "and sends resume.",
    "blocked": "Meta blocked this app from messaging for the account (policy enforcement); sends resume "
    "when Meta unblocks it.",
    "restricted": "Meta restricted the account; sends are still tried and Meta refuses what it restricts.",
    "ok": "Sends reach Meta.",
}


def token_fingerprint(token: str) -> str:
    """A short hash that tells one token from another without keeping the token."""
    return hashlib.sha256(token.encode()).hexdigest()[:16]


class AccountHealth(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    channel: Channel
    account_id: str
    tenant_id: str
    status: HealthStatus = "ok"
    since_ms: int  # when the current status began
    changed_ms: int  # the instant of the fact that set it (only a newer fact replaces it)
    reason: str | None = None  # graph_190, graph_368, policy_block, policy_unblock, send_succeeded...
    detail: str | None = None  # Meta's message or reason text
    token_fingerprint: str | None = None  # token_invalid: which token Meta rejected

    @property
    def blocks_sends(self) -> bool:
        return self.status in BLOCKING

    def view(self) -> dict[str, Any]:
        since = from_ms(self.since_ms)
        return {
            "status": self.status,
            "since": since.isoformat().replace("+00:00", "Z") if since else None,
            "reason": self.reason,
            "detail": self.detail,
            "what_to_do": WHAT_TO_DO[self.status],
        }


def health_changed_event(health: AccountHealth, previous: str, now: datetime) -> BusEvent:
    """``account.health_changed``: the id names the account, status and instant (a retry repeats it)."""
    return BusEvent(
        detail_type=DetailType.ACCOUNT_HEALTH_CHANGED,
        event_id=f"health:{health.channel.value}:{health.account_id}:{health.status}:{health.changed_ms}",
        time=now,
        detail={
            "tenant_id": health.tenant_id,
            "channel": health.channel.value,
            "account_id": health.account_id,
            "status": health.status,
            "previous_status": previous,
            "blocks_sends": health.blocks_sends,
            "reason": health.reason,
            "detail": health.detail,
            "what_to_do": WHAT_TO_DO[health.status],
            "at": (from_ms(health.changed_ms) or now).isoformat(),
        },
    )
