"""Routes on the bus events of one POST: worked out once per contact, standby still per event."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from tests.unit.ingest.meta_fixtures import BASE_MS, PAGE_ID, PSID_A, resolver
from windowkeeper.events import DetailType
from windowkeeper.ingest import service
from windowkeeper.ingest.models import Envelope
from windowkeeper.ingest.normalize import normalize

NOW = datetime.fromtimestamp(BASE_MS / 1000 + 60, tz=UTC)


def _message(mid: str, at_ms: int) -> dict[str, Any]:
    return {
        "sender": {"id": PSID_A},
        "recipient": {"id": PAGE_ID},
        "timestamp": at_ms,
        "message": {"mid": mid, "text": "Hello"},
    }


@pytest.mark.parametrize("standby_first", [True, False])
def test_a_standby_message_routes_to_a_human_beside_the_same_contacts_bot_messages(
    standby_first: bool,
) -> None:
    entry: dict[str, Any] = {
        "id": PAGE_ID,
        "time": BASE_MS,
        "messaging": [_message("m_bot-1", BASE_MS + 1_000), _message("m_bot-2", BASE_MS + 3_000)],
        "standby": [_message("m_standby-1", BASE_MS + 2_000)],
    }
    if standby_first:
        entry = {"id": PAGE_ID, "time": BASE_MS, "standby": entry["standby"], "messaging": entry["messaging"]}
    normalized = normalize(Envelope.model_validate({"object": "page", "entry": [entry]}), resolver())

    events = service._bus_events(normalized, {}, {}, NOW)

    routes = {
        event.detail["message_id"]: event.detail["route"]
        for event in events
        if event.detail_type == DetailType.CUSTOMER_ACTION
    }
    assert routes == {"m_bot-1": "bot", "m_bot-2": "bot", "m_standby-1": "human"}
