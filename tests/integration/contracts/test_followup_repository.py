"""``FollowupRepository``: the DynamoDB ``FollowupStore`` and ``InMemoryFollowups`` answer alike."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.support.accounts import PAGE_ID, TENANT
from tests.support.fakes.scheduling import InMemoryFollowups
from windowkeeper.instants import to_ms
from windowkeeper.policy.model import Channel
from windowkeeper.ports.scheduling import FollowupRepository
from windowkeeper.store.followup_records import FollowupExists, FollowupRecord, StatusConflict
from windowkeeper.store.followup_table import FollowupStore
from windowkeeper_tools.aws_resources import Resources

NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)


def followup(followup_id: str, send_at_hours: int = 2, contact_id: str = "psid-anna") -> FollowupRecord:
    return FollowupRecord(
        followup_id=followup_id,
        tenant_id=TENANT,
        channel=Channel.MESSENGER,
        account_id=PAGE_ID,
        contact_id=contact_id,
        send_at_ms=to_ms(NOW) + send_at_hours * 3_600_000,
        created_at_ms=to_ms(NOW),
        created_by="agent-7",
        schedule_name=f"fup-{followup_id}",
        content={"type": "text", "text": "Your order left the warehouse this morning."},
    )


@pytest.fixture(params=["in_memory", "dynamodb"])
def repository(request: pytest.FixtureRequest) -> FollowupRepository:
    if request.param == "in_memory":
        return InMemoryFollowups()
    resources: Resources = request.getfixturevalue("aws")
    return FollowupStore(resources.table_name)


def test_a_followup_is_stored_once_and_found_by_id(repository: FollowupRepository) -> None:
    record = followup("a" * 32)
    repository.create(record)

    with pytest.raises(FollowupExists):
        repository.create(record)
    found = repository.get(record.followup_id)

    assert found is not None and found.status == "scheduled" and found.content == record.content
    assert repository.get("b" * 32) is None


def test_a_contacts_followups_come_in_send_order(repository: FollowupRepository) -> None:
    later, sooner = followup("c" * 32, send_at_hours=5), followup("d" * 32, send_at_hours=1)
    repository.create(later)
    repository.create(sooner)
    repository.create(followup("e" * 32, contact_id="psid-bruno"))

    listed = repository.list_for_contact(Channel.MESSENGER, PAGE_ID, "psid-anna")

    assert [r.followup_id for r in listed] == [sooner.followup_id, later.followup_id]


def test_firing_starts_once_and_a_stale_transition_reports_the_current_status(
    repository: FollowupRepository,
) -> None:
    record = followup("f" * 32)
    repository.create(record)

    firing = repository.start_firing(record, to_ms(NOW))
    with pytest.raises(StatusConflict) as second:
        repository.start_firing(record, to_ms(NOW))
    sent = repository.transition(
        firing, from_status="firing", to_status="sent", changes={"path": "free_form"}
    )
    with pytest.raises(StatusConflict) as stale:
        repository.transition(firing, from_status="firing", to_status="failed")

    assert firing.status == "firing" and firing.fired_at_ms == to_ms(NOW)
    assert second.value.current is not None and second.value.current.status == "firing"
    assert (sent.status, sent.path) == ("sent", "free_form")
    assert stale.value.current is not None and stale.value.current.status == "sent"


def test_publishing_is_remembered(repository: FollowupRepository) -> None:
    record = followup("0" * 32)
    repository.create(record)

    repository.mark_published(record)

    found = repository.get(record.followup_id)
    assert found is not None and found.event_published
