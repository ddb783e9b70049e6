"""Changes agents make on a contact item (handover, consent), planned without I/O.

A ``ContactChange`` names the attributes to SET and REMOVE and the attributes that must still
hold what was read (its guard); ``store.contact_changes`` writes it under the contact item's
optimistic-locking protocol, and the in-memory fake applies the same change.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from windowkeeper.policy.model import ConsentScope
from windowkeeper.store.contact_item import (
    MARKETING_OPT_INS_KEPT,
    OWNER_ATTRIBUTES,
    ContactRecord,
    StoredOptIn,
    consent_attribute,
)


class ContactNotFoundError(LookupError):
    """There is no contact item under this key (or it disappeared while we were writing)."""


class ContactConflictError(RuntimeError):
    """Every attempt lost the race against other writers of the same contact item."""


@dataclass(frozen=True)
class ContactChange:
    """Attributes to SET and REMOVE, and the attributes that must still hold what was read."""

    set: Mapping[str, Any] = field(default_factory=dict)
    remove: tuple[str, ...] = ()
    guard: tuple[str, ...] = ()


@dataclass(frozen=True)
class ContactUpdate:
    before: ContactRecord  # the item the change was computed from
    after: ContactRecord  # the item as written (``before`` when there was nothing to write)
    changed: bool
    attempts: int


Plan = Callable[[ContactRecord], ContactChange | None]


# --- ownership -----------------------------------------------------------------------------------


def human_owner_change(agent_id: str, at_ms: int, *, routing_owner_app_id: str | None) -> ContactChange:
    """A person takes the conversation (a fresh hold: since = last activity = ``at_ms``)."""
    values: dict[str, Any] = {
        "owner": "human",
        "owner_agent_id": agent_id,
        "owner_since_ms": at_ms,
        "owner_last_activity_ms": at_ms,
    }
    if routing_owner_app_id is not None:
        values["routing_owner_app_id"] = routing_owner_app_id
    return ContactChange(set=values, guard=OWNER_ATTRIBUTES)


def bot_owner_change(at_ms: int, *, routing_owner_app_id: str | None, routing_changed: bool) -> ContactChange:
    """The conversation goes back to the bot (``owner_since_ms`` = when it did).

    ``routing_changed``: a thread-control call moved Meta's thread to ``routing_owner_app_id``
    (None = released to idle).
    """
    values: dict[str, Any] = {"owner": "bot", "owner_since_ms": at_ms}
    remove: tuple[str, ...] = ("owner_agent_id", "owner_last_activity_ms")
    if routing_changed and routing_owner_app_id is not None:
        values["routing_owner_app_id"] = routing_owner_app_id
    elif routing_changed:
        remove = (*remove, "routing_owner_app_id")
    return ContactChange(set=values, remove=remove, guard=OWNER_ATTRIBUTES)


def activity_change(at_ms: int) -> ContactChange:
    """The holding agent acted again: only the idle clock moves."""
    return ContactChange(set={"owner_last_activity_ms": at_ms}, guard=OWNER_ATTRIBUTES)


# --- consent -------------------------------------------------------------------------------------


def consent_change(
    record: ContactRecord,
    *,
    scope: ConsentScope,
    opt_out: bool,
    at_ms: int,
    recorded_by: str,
) -> ContactChange | None:
    """Record one consent fact: the newest opt-out (or opt-in) of ``scope`` is now ``at_ms``.

    The fact keeps its own instant (``consent_<scope>_<out|in>_ms``), as the webhook writes it, so
    an agent's change and a customer's STOP resolve per scope by their instants, whatever order
    they land in (a marketing opt-out recorded by an agent never hides a customer's STOP). The
    instant only moves forward and is guarded on what was read. None when the stored fact is
    already as new.

    An opt-in recorded by an agent also files what it is evidence of: a marketing opt-in on
    record (WhatsApp marketing needs one; a Messenger marketing message still needs Meta's token,
    which only the customer's own opt-in gives) and, for ``all``, consent on record (SMS/e-mail).
    """
    attribute = consent_attribute(scope, opt_out)
    stored: int | None = getattr(record, attribute)
    values: dict[str, Any] = {}
    if stored is None or stored < at_ms:
        values[attribute] = at_ms
    if not opt_out and scope is ConsentScope.MARKETING:
        opt_in = StoredOptIn(purpose="marketing", token=None, opted_in_ms=at_ms).model_dump(mode="json")
        opt_in["recorded_by"] = recorded_by  # extra attribute: readers ignore it, audits use it
        kept = [o.model_dump(mode="json", exclude_none=True) for o in record.marketing_opt_ins]
        if not any(o.opted_in_ms == at_ms and o.token is None for o in record.marketing_opt_ins):
            values["marketing_opt_ins"] = [*kept, {k: v for k, v in opt_in.items() if v is not None}][
                -MARKETING_OPT_INS_KEPT:
            ]
    if not opt_out and scope is ConsentScope.ALL and not record.consent_on_record:
        values["consent_on_record"] = True
    if not values:
        return None
    return ContactChange(set=values, guard=(attribute,))
