"""What a Graph API call came to: Meta's error as sent, our reading of it, and what to record.

``DeliveryResult`` is the send path's single source of truth about one delivery attempt series:
``ok`` with Meta's message id, or Meta's error verbatim (``error``), our reason code when Meta
refused on policy grounds (``reason``), and the facts to write on the contact or account
(``effects``). A code missing from the error table is never guessed at: ``known_error`` is False
and the caller reports Meta's code and message as they came.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from typing import Any

from windowkeeper.policy.model import ReasonCode


@dataclass(frozen=True)
class GraphError:
    """Meta's ``{"error": {...}}`` object, or a transport failure (``code`` None, ``type`` set).

    ``message`` is Meta's sentence as sent; it never contains our token (that travels in a
    header) but may name the recipient's id, so it is returned to the caller and not logged.
    """

    code: int | None
    subcode: int | None = None
    type: str | None = None
    message: str = ""
    fbtrace_id: str | None = None
    details: str | None = None  # WhatsApp ``error_data.details``

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ContactEffects:
    """What Meta's answer tells us about the contact (or the whole account), to be recorded.

    Contact-level: ``window_closed_early`` (Meta says the window is closed: 2018278, 2534022,
    131047), ``unreachable`` (+ ``unreachable_reason`` like ``"meta:551/1545041"``),
    ``marketing_opted_out`` (1893015, 131050), ``marketing_backoff_code`` (131049: Meta asks us to
    wait before the next marketing message; how long, and from which instant, is the policy rule's
    and the caller's ``now``, never this client's clock),
    ``tagged_sends_throttled`` (613/2018338), ``thread_controlled_elsewhere`` (2018300...).
    Account-level: ``account_restricted`` (1893063, 368, 131031), ``token_invalid`` (190),
    ``template_unavailable`` (132015/132016), ``business_initiated_limited`` (131064, 131048),
    ``marketing_api_required`` (131063).
    """

    window_closed_early: bool = False
    unreachable: bool = False
    unreachable_reason: str | None = None
    marketing_opted_out: bool = False
    marketing_backoff_code: int | None = None
    tagged_sends_throttled: bool = False
    thread_controlled_elsewhere: bool = False
    account_restricted: bool = False
    token_invalid: bool = False
    template_unavailable: bool = False
    business_initiated_limited: bool = False
    marketing_api_required: bool = False

    @property
    def any(self) -> bool:
        return any(getattr(self, f.name) not in (False, None) for f in fields(self))

    def to_dict(self) -> dict[str, Any]:
        """Only the effects that are set, JSON-ready (instants as ISO 8601)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value in (False, None):
                continue
            out[f.name] = value.isoformat() if isinstance(value, datetime) else value
        return out


NO_EFFECTS = ContactEffects()


@dataclass(frozen=True)
class DeliveryResult:
    """The outcome of ``GraphClient.send`` and the thread-control calls.

    Three ways to fail, which the caller must not confuse:

    * ``reason`` set: Meta refused on policy grounds (answer "refused").
    * ``transient``: Meta certainly did not take the message and a later retry may work
      (throttling, Graph's temporary codes 1/2, HTTP 429, nothing reached Meta: connect errors);
      the client's attempts or time budget ran out.
    * ``delivery_unknown``: Meta *may* have taken it (the request was sent, then a read timeout,
      a dropped connection or a 5xx without a Graph error body). The Send APIs take no
      idempotency key, so this is never retried for a send: the caller reports "unknown".

    ``meaning`` and ``sources`` come from the error table row that matched, for the audit trail
    and the API answer.
    """

    ok: bool
    platform_message_id: str | None
    http_status: int | None
    error: GraphError | None
    reason: ReasonCode | None
    effects: ContactEffects
    known_error: bool
    attempts: int
    transient: bool = False
    delivery_unknown: bool = False
    meaning: str | None = None
    sources: tuple[str, ...] = field(default=())

    @property
    def refused_on_policy(self) -> bool:
        """Meta refused for a reason in our vocabulary: answer "refused", not "failed"."""
        return not self.ok and self.reason is not None

    def summary(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "platform_message_id": self.platform_message_id,
            "http_status": self.http_status,
            "error": self.error.to_dict() if self.error else None,
            "reason": self.reason.value if self.reason else None,
            "effects": self.effects.to_dict(),
            "known_error": self.known_error,
            "transient": self.transient,
            "delivery_unknown": self.delivery_unknown,
            "attempts": self.attempts,
            "meaning": self.meaning,
            "sources": list(self.sources),
        }


def local_refusal(reason: ReasonCode, meaning: str) -> DeliveryResult:
    """A call we do not make at all (no API for that channel, content it cannot carry): nothing sent."""
    return DeliveryResult(
        ok=False,
        platform_message_id=None,
        http_status=None,
        error=None,
        reason=reason,
        effects=NO_EFFECTS,
        known_error=True,
        attempts=0,
        meaning=meaning,
    )
