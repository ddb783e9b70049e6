"""What the webhook really puts on the bus matches the published schemas in docs/events.

Every recorded Meta fixture is posted through the real webhook handler on moto; each event the
bus delivers (rule -> SQS) is validated against ``docs/events/<detail-type>.schema.json``.
"""

from __future__ import annotations

from pathlib import Path

from tests.integration.webhook.conftest import WebhookStack
from tests.support.event_schemas import schema_problems
from tests.unit.ingest.meta_fixtures import raw

FIXTURES = sorted(p.name for p in (Path(__file__).parents[2] / "fixtures" / "meta").glob("*.json"))

# What the webhook publishes; the other detail-types come from sends and the scheduler (their
# integration tests validate every captured event the same way, in tests/support/bus.py).
WEBHOOK_DETAIL_TYPES = {
    "customer.action",
    "contact.consent_changed",
    "contact.unreachable",
    "message.status",
    "conversation.handover",
}


def test_every_event_the_webhook_publishes_for_every_fixture_matches_its_schema(stack: WebhookStack) -> None:
    seen: dict[str, int] = {}
    problems: list[str] = []
    for name in FIXTURES:
        response = stack.post(raw(name))
        assert response["statusCode"] == 200, name
        for envelope in stack.bus.queue_messages():
            detail_type = envelope["detail-type"]
            seen[detail_type] = seen.get(detail_type, 0) + 1
            problems += [
                f"{name}: {detail_type}: {p}" for p in schema_problems(detail_type, envelope["detail"])
            ]
    assert problems == []
    assert set(seen) == WEBHOOK_DETAIL_TYPES, seen


def test_a_detail_missing_a_required_field_is_reported() -> None:
    detail = {
        "event_id": "m_1",
        "channel": "messenger",
        "account_id": "1",
        "contact_id": "2",
        "kind": "message",
        "at": "2026-11-21T22:00:00+00:00",
        "route": "bot",
    }
    assert schema_problems("customer.action", detail) == ["(detail): 'tenant_id' is a required property"]
    assert schema_problems("customer.action", {**detail, "tenant_id": "acme"}) == []
    assert schema_problems("customer.action", {**detail, "tenant_id": "acme", "route": "agent"}) != []
