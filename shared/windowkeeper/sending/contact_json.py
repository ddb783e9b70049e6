"""How the contacts API shows a contact: owner, consent, instants, and event ids it derives."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from windowkeeper.instants import from_ms
from windowkeeper.ownership import Ownership
from windowkeeper.policy.model import ConsentScope, WindowClosings
from windowkeeper.store.contact_item import ContactRecord


def iso(instant: datetime | None) -> str | None:
    return instant.isoformat().replace("+00:00", "Z") if instant is not None else None


def stable_event_id(*parts: object) -> str:
    """An event id derived from what caused the event: a retried request re-publishes the same id."""
    return hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()[:32]


def windows_json(closings: WindowClosings) -> dict[str, Any]:
    return {name: iso(getattr(closings, name)) for name in WindowClosings.model_fields}


def owner_json(ownership: Ownership) -> dict[str, Any]:
    return {
        "owner": ownership.owner,
        "agent_id": ownership.agent_id,
        "since": iso(ownership.since),
        "last_activity_at": iso(ownership.last_activity_at),
        "returns_to_bot_at": iso(ownership.returns_to_bot_at),
        "returned_on_idle": ownership.returned_on_idle,
        "routing_owner_app_id": ownership.routing_owner_app_id,
    }


def consent_json(record: ContactRecord) -> dict[str, Any]:
    """Consent per scope, and the marketing opt-ins on record (never Meta's subscription token)."""
    opted_out = record.scopes_opted_out()
    return {
        "opted_out": {scope.value: scope in opted_out for scope in ConsentScope},
        "changed_at": iso(from_ms(record.consent_changed_at_ms())),
        "consent_on_record": record.consent_on_record,
        "marketing_opt_ins": [
            {
                "purpose": o.purpose,
                "opted_in_at": iso(from_ms(o.opted_in_ms)),
                "has_token": o.token is not None,
            }
            for o in record.all_marketing_opt_ins()
        ],
    }
