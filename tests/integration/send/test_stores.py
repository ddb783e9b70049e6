"""The send path's stores on moto: optimistic locking, trimming, verdicts, audit pagination."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from botocore.exceptions import ClientError

from tests.integration.send.conftest import NOW, SendStack
from tests.support.accounts import PAGE_ID, TENANT
from tests.support.seed import decision_entry, human_owner
from windowkeeper import aws as wk_aws
from windowkeeper.instants import to_ms
from windowkeeper.policy.model import AccountProfile, Channel, Path
from windowkeeper.store.audit_records import AuditEntry, InvalidCursorError
from windowkeeper.store.audit_table import append_audit, list_decisions
from windowkeeper.store.claim_records import AgentActivity, ContactMissingError, MetaVerdicts, SentMessage
from windowkeeper.store.contact_item import OUTBOUND_KEPT, StoredOutbound
from windowkeeper.store.keys import STATE_SK, contact_pk
from windowkeeper.store.send_claims import record_send

PSID = "6789012345678901"
PK = contact_pk(Channel.MESSENGER, PAGE_ID, PSID)
PROFILE = AccountProfile(channel=Channel.MESSENGER, account_id=PAGE_ID, tenant_id=TENANT)


def test_a_stale_read_loses_the_race_rereads_and_keeps_both_sends(stack: SendStack) -> None:
    stale = stack.seed_contact(Channel.MESSENGER, PAGE_ID, PSID, customer_wrote_ago=timedelta(hours=1))
    # Another send lands between our read and our write.
    record_send(stack.table_name, PK, at=NOW, sent=SentMessage(at=NOW, path=Path.FREE_FORM))

    later = NOW + timedelta(seconds=1)
    write = record_send(
        stack.table_name, PK, at=later, record=stale, sent=SentMessage(at=later, path=Path.FREE_FORM)
    )

    assert write.attempts == 2
    contact = stack.contact(Channel.MESSENGER, PAGE_ID, PSID)
    assert [o.at_ms for o in contact.outbound] == [to_ms(NOW), to_ms(later)]
    assert contact.version == 2


def test_only_the_newest_sends_are_kept(stack: SendStack) -> None:
    old = [
        StoredOutbound(at_ms=to_ms(NOW - timedelta(minutes=OUTBOUND_KEPT - i)), path=Path.FREE_FORM)
        for i in range(OUTBOUND_KEPT)
    ]
    record = stack.seed_contact(
        Channel.MESSENGER, PAGE_ID, PSID, customer_wrote_ago=timedelta(hours=1), outbound=old, version=7
    )

    record_send(stack.table_name, PK, at=NOW, record=record, sent=SentMessage(at=NOW, path=Path.HUMAN_AGENT))

    contact = stack.contact(Channel.MESSENGER, PAGE_ID, PSID)
    assert len(contact.outbound) == OUTBOUND_KEPT
    assert contact.outbound[0].at_ms == old[1].at_ms
    assert contact.outbound[-1].path is Path.HUMAN_AGENT


def test_the_webhooks_concurrent_write_to_other_attributes_survives(stack: SendStack) -> None:
    record = stack.seed_contact(Channel.MESSENGER, PAGE_ID, PSID, customer_wrote_ago=timedelta(hours=5))
    newer_customer_ms = to_ms(NOW - timedelta(minutes=1))
    wk_aws.table(stack.table_name).update_item(
        Key={"pk": PK, "sk": STATE_SK},
        UpdateExpression="SET last_customer_action_ms = :t",
        ExpressionAttributeValues={":t": newer_customer_ms},
    )

    record_send(stack.table_name, PK, at=NOW, record=record, sent=SentMessage(at=NOW, path=Path.FREE_FORM))

    assert stack.contact(Channel.MESSENGER, PAGE_ID, PSID).last_customer_action_ms == newer_customer_ms


def test_an_idle_human_owner_is_replaced_by_the_agent_who_sends(stack: SendStack) -> None:
    long_ago = timedelta(hours=5)  # beyond the default 4 h idle return
    record = stack.seed_contact(
        Channel.MESSENGER,
        PAGE_ID,
        PSID,
        customer_wrote_ago=timedelta(hours=1),
        **human_owner(NOW, agent_id="agent-bob", since_ago=long_ago, last_activity_ago=long_ago),
    )

    write = record_send(
        stack.table_name, PK, at=NOW, record=record, activity=AgentActivity("agent-ana", NOW, PROFILE)
    )

    assert write.took_over
    contact = stack.contact(Channel.MESSENGER, PAGE_ID, PSID)
    assert (contact.owner_agent_id, contact.owner_since_ms) == ("agent-ana", to_ms(NOW))


def test_repeated_unreachable_verdicts_keep_the_first_instant(stack: SendStack) -> None:
    stack.seed_contact(Channel.MESSENGER, PAGE_ID, PSID, customer_wrote_ago=timedelta(hours=1))
    verdict = MetaVerdicts(unreachable_reason="meta:551/1545041")

    record_send(stack.table_name, PK, at=NOW, verdicts=verdict)
    record_send(stack.table_name, PK, at=NOW + timedelta(hours=1), verdicts=verdict)

    contact = stack.contact(Channel.MESSENGER, PAGE_ID, PSID)
    assert (contact.unreachable_since_ms, contact.unreachable_reason) == (to_ms(NOW), "meta:551/1545041")


def test_recording_on_a_contact_that_does_not_exist_fails_loudly(stack: SendStack) -> None:
    with pytest.raises(ContactMissingError):
        record_send(stack.table_name, PK, at=NOW, sent=SentMessage(at=NOW, path=Path.FREE_FORM))


def audit_entry(audit_id: str, minutes_ago: int) -> tuple[AuditEntry, datetime]:
    at = NOW - timedelta(minutes=minutes_ago)
    entry = decision_entry(
        audit_id,
        at,
        tenant_id=TENANT,
        account_id=PAGE_ID,
        contact_id=PSID,
        outcome="refused",
        principal_subject="bot-client",
        principal_kind="automation",
    )
    return entry, at


def test_decisions_page_newest_first_with_an_opaque_cursor(stack: SendStack) -> None:
    for number in range(5):
        entry, at = audit_entry(f"d{number}", minutes_ago=50 - number * 10)
        append_audit(stack.table_name, PK, at, entry)

    first, cursor = list_decisions(stack.table_name, PK, limit=2)
    second, cursor2 = list_decisions(stack.table_name, PK, limit=2, cursor=cursor)
    third, cursor3 = list_decisions(stack.table_name, PK, limit=2, cursor=cursor2)

    assert [e.audit_id for e in first + second + third] == ["d4", "d3", "d2", "d1", "d0"]
    assert cursor and cursor2 and cursor3 is None
    with pytest.raises(InvalidCursorError):
        list_decisions(stack.table_name, contact_pk(Channel.MESSENGER, PAGE_ID, "other"), cursor=cursor)


def test_audit_records_are_append_only(stack: SendStack) -> None:
    entry, at = audit_entry("d1", minutes_ago=5)
    append_audit(stack.table_name, PK, at, entry)
    with pytest.raises(ClientError, match="ConditionalCheckFailed"):
        append_audit(stack.table_name, PK, at, entry.model_copy(update={"outcome": "sent"}))
