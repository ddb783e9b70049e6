"""A Graph sender that answers as scripted, reading Meta's errors through the real error table."""

from __future__ import annotations

from dataclasses import dataclass, field

from windowkeeper.accounts import AccountConfig
from windowkeeper.graph.errors import classify, contact_effects
from windowkeeper.graph.results import NO_EFFECTS, DeliveryResult, GraphError
from windowkeeper.policy.model import Channel, ContactState, Content, Decision


def delivered(message_id: str) -> DeliveryResult:
    return DeliveryResult(
        ok=True,
        platform_message_id=message_id,
        http_status=200,
        error=None,
        reason=None,
        effects=NO_EFFECTS,
        known_error=True,
        attempts=1,
    )


def meta_error(
    channel: Channel, http_status: int, code: int, subcode: int | None, message: str
) -> DeliveryResult:
    """Meta's error answer, read the way ``graph.client`` reads it (its reason and contact effects)."""
    reading = classify(channel, http_status, code, subcode)
    return DeliveryResult(
        ok=False,
        platform_message_id=None,
        http_status=http_status,
        error=GraphError(code=code, subcode=subcode, type="OAuthException", message=message),
        reason=reading.reason,
        effects=contact_effects(reading.effects, f"meta:{code}", code=code),
        known_error=reading.known,
        attempts=1,
        transient=reading.transient,
        meaning=reading.meaning,
        sources=reading.sources,
    )


def no_answer() -> DeliveryResult:
    """The request went out and no answer came back: Meta may have delivered it."""
    return DeliveryResult(
        ok=False,
        platform_message_id=None,
        http_status=None,
        error=GraphError(code=None, type="ReadTimeout", message="network failure talking to the Graph API"),
        reason=None,
        effects=NO_EFFECTS,
        known_error=True,
        attempts=1,
        delivery_unknown=True,
    )


@dataclass
class ScriptedGraph:
    """``GraphSender``: answers the next scripted result (delivered by default) and keeps each call."""

    answers: list[DeliveryResult] = field(default_factory=list)
    calls: list[tuple[str, str, Decision, Content]] = field(default_factory=list)

    def send(
        self, account: AccountConfig, contact: ContactState, decision: Decision, content: Content
    ) -> DeliveryResult:
        self.calls.append((account.account_id, contact.contact_id, decision, content))
        if self.answers:
            return self.answers.pop(0)
        return delivered(f"m_{len(self.calls)}")
