"""``ports.sending``: the DynamoDB adapters and ``tests/support/fakes/sending.py`` answer alike.

The send gate's unit tests run on the fakes; these cases run on both, so the fakes cannot drift
from the table: the claim under optimistic locking, a race lost and re-planned, Meta's verdicts,
agents' guarded changes, the audit trail's paging, the journal's idempotency, the log.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.support.accounts import PAGE_ID, TENANT, WA_PHONE_NUMBER_ID
from tests.support.fakes.sending import InMemorySendStores, stored_item
from tests.support.seed import contact_record
from windowkeeper import aws as wk_aws
from windowkeeper.instants import to_ms
from windowkeeper.policy.model import Channel, ConsentScope, Path, TemplateCategory, TemplateStatus
from windowkeeper.ports.sending import SendStores
from windowkeeper.store.audit_records import AuditEntry, AuditQuery, InvalidCursorError, decode_audit_cursor
from windowkeeper.store.claim_records import (
    ClaimConflictError,
    ContactMissingError,
    MetaVerdicts,
    SentMessage,
)
from windowkeeper.store.contact_change_records import consent_change
from windowkeeper.store.contact_item import ContactRecord
from windowkeeper.store.health_records import AccountHealth
from windowkeeper.store.history_records import HistoryEntry
from windowkeeper.store.keys import STATE_SK
from windowkeeper.store.template_records import TemplateChange
from windowkeeper.wiring.send import table_stores
from windowkeeper_tools.aws_resources import Resources

NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
PSID = "psid-anna"


@dataclass
class Stores:
    ports: SendStores
    put: Callable[[ContactRecord], None]
    # Another writer (the webhook, an agent) sets attributes; with ``bump`` it also moves ``version``.
    concurrent_write: Callable[..., None]
    read: Callable[[str], ContactRecord]


@pytest.fixture(params=["in_memory", "dynamodb"])
def stores(request: pytest.FixtureRequest) -> Stores:
    if request.param == "in_memory":
        fake = InMemorySendStores()

        def fake_write(pk: str, *, bump: bool, **attributes: Any) -> None:
            item = fake.contacts.items[pk]
            item.update(attributes)
            if bump:
                item["version"] = int(item.get("version", 0)) + 1

        return Stores(fake.ports(), fake.contacts.put, fake_write, fake.contacts.record)

    resources: Resources = request.getfixturevalue("aws")
    table = wk_aws.table(resources.table_name)

    def put(record: ContactRecord) -> None:
        table.put_item(Item=stored_item(record))

    def table_write(pk: str, *, bump: bool, **attributes: Any) -> None:
        names = {f"#a{i}": name for i, name in enumerate(attributes)}
        values = {f":v{i}": value for i, value in enumerate(attributes.values())}
        sets = [f"#a{i} = :v{i}" for i in range(len(attributes))]
        if bump:
            names["#version"] = "version"
            values[":one"] = 1
            values[":zero"] = 0
            sets.append("#version = if_not_exists(#version, :zero) + :one")
        table.update_item(
            Key={"pk": pk, "sk": STATE_SK},
            UpdateExpression="SET " + ", ".join(sets),
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )

    def read(pk: str) -> ContactRecord:
        item = table.get_item(Key={"pk": pk, "sk": STATE_SK}, ConsistentRead=True)["Item"]
        return ContactRecord.from_item(item)

    return Stores(table_stores(resources.table_name), put, table_write, read)


def anna(wrote_ago: timedelta = timedelta(hours=2)) -> ContactRecord:
    return contact_record(Channel.MESSENGER, PAGE_ID, PSID, tenant_id=TENANT, wrote_at=NOW - wrote_ago)


def reply(at: datetime = NOW) -> SentMessage:
    return SentMessage(at=at, path=Path.FREE_FORM)


def test_a_claim_on_the_item_as_read_goes_on_outbound_and_moves_the_version(stores: Stores) -> None:
    record = anna()
    stores.put(record)
    after = stores.ports.claims.claim(record, reply())
    assert [(o.path, o.at_ms) for o in after.outbound] == [(Path.FREE_FORM, to_ms(NOW))]
    assert after.version == record.version + 1
    assert stores.read(record.pk).outbound == after.outbound


def test_a_claim_on_a_stale_read_loses_and_carries_the_item_as_it_is_now(stores: Stores) -> None:
    record = anna()
    stores.put(record)
    stores.ports.claims.claim(record, reply())  # another send claimed first
    with pytest.raises(ClaimConflictError) as lost:
        stores.ports.claims.claim(record, reply(NOW + timedelta(seconds=1)))
    assert len(lost.value.current.outbound) == 1
    assert lost.value.current.version == record.version + 1


def test_a_claim_on_a_contact_that_is_gone_says_so(stores: Stores) -> None:
    with pytest.raises(ContactMissingError):
        stores.ports.claims.claim(anna(), reply())


def test_a_release_with_metas_verdict_replans_after_a_concurrent_write(stores: Stores) -> None:
    record = anna()
    stores.put(record)
    claimed = stores.ports.claims.claim(record, reply())
    stores.concurrent_write(record.pk, bump=True, display_name="Anna K.")
    write = stores.ports.claims.record(
        claimed, at=NOW, release=reply(), verdicts=MetaVerdicts(window_closed_early_at=NOW)
    )
    assert write.attempts == 2
    stored = stores.read(record.pk)
    assert stored.outbound == []
    assert stored.window_closed_early_ms == to_ms(NOW)
    assert stored.display_name == "Anna K."  # the other writer's attribute is kept


def test_an_agents_consent_change_is_written_once_and_then_is_a_no_op(stores: Stores) -> None:
    record = contact_record(
        Channel.WHATSAPP, WA_PHONE_NUMBER_ID, "4915112345678", tenant_id=TENANT, wrote_at=NOW
    )
    stores.put(record)

    def opt_out(current: ContactRecord) -> Any:
        return consent_change(
            current, scope=ConsentScope.MARKETING, opt_out=True, at_ms=to_ms(NOW), recorded_by="agent-maria"
        )

    first = stores.ports.changes.update(record, opt_out)
    second = stores.ports.changes.update(record, opt_out)
    assert (first.changed, second.changed) == (True, False)
    assert ConsentScope.MARKETING in stores.read(record.pk).scopes_opted_out()


def test_a_contact_created_for_consent_is_created_once(stores: Stores) -> None:
    create = stores.ports.changes.create_if_absent
    assert create(
        Channel.WHATSAPP, WA_PHONE_NUMBER_ID, "4915112345678", tenant_id=TENANT, recipient_country_code="49"
    )
    assert not create(Channel.WHATSAPP, WA_PHONE_NUMBER_ID, "4915112345678", tenant_id=TENANT)
    found = stores.ports.contacts.get(Channel.WHATSAPP, WA_PHONE_NUMBER_ID, "4915112345678")
    assert (
        found is not None and found.recipient_country_code == "49" and found.last_customer_action_ms is None
    )


def test_the_audit_trail_pages_newest_first_and_refuses_a_foreign_cursor(stores: Stores) -> None:
    record = anna()
    for minute in range(3):
        at = NOW + timedelta(minutes=minute)
        stores.ports.audit.append(
            record.pk,
            at,
            AuditEntry(
                audit_id=f"d-{minute}",
                kind="decision",
                at_ms=to_ms(at),
                principal_subject="bot-orders",
                principal_kind="automation",
                tenant_id=TENANT,
                channel="messenger",
                account_id=PAGE_ID,
                contact_id=PSID,
                outcome="sent",
                allowed=True,
            ),
        )
    first, cursor = stores.ports.audit.list(record.pk, 2, None, now=NOW)
    assert [e.audit_id for e in first] == ["d-2", "d-1"] and cursor is not None
    rest, end = stores.ports.audit.list(record.pk, 2, cursor, now=NOW)
    assert [e.audit_id for e in rest] == ["d-0"] and end is None
    with pytest.raises(InvalidCursorError):
        stores.ports.audit.list(anna(timedelta(hours=1)).pk.replace(PSID, "psid-bob"), 2, cursor, now=NOW)


def test_the_journal_keeps_an_entry_once_and_reads_up_to_an_instant(stores: Stores) -> None:
    pk = anna().pk
    message = HistoryEntry(
        entry_id="mid.1", at_ms=to_ms(NOW), source="webhook", kind="message", opens_window=True
    )
    later = HistoryEntry(entry_id="mid.2", at_ms=to_ms(NOW) + 60_000, source="webhook", kind="message")
    for entry in (message, message, later):
        stores.ports.history.put(pk, entry, retention_days=30)
    assert [e.entry_id for e in stores.ports.history.read(pk, until_ms=to_ms(NOW))] == ["mid.1"]
    assert [e.entry_id for e in stores.ports.history.read(pk, until_ms=to_ms(NOW) + 60_000)] == [
        "mid.1",
        "mid.2",
    ]


def test_the_conversation_log_lists_what_was_sent_with_its_status(stores: Stores) -> None:
    for minute, status in ((0, "sent"), (1, "unknown")):
        stores.ports.conversation_log.log_outbound(
            channel=Channel.MESSENGER,
            account_id=PAGE_ID,
            contact_id=PSID,
            message_id=f"m_{minute}",
            at=NOW + timedelta(minutes=minute),
            kind="text",
            text="Your parcel is at the pick-up point.",
            sender="bot",
            retention_days=30,
            path="free_form",
            status=status,
        )
    logged = stores.ports.conversation_log.list(Channel.MESSENGER, PAGE_ID, PSID, now=NOW, limit=10)
    assert [(m.message_id, m.status, m.direction) for m in logged] == [
        ("m_0", "sent", "out"),
        ("m_1", "unknown", "out"),
    ]


def test_repeated_cross_tenant_attempts_count_on_one_record(stores: Stores) -> None:
    def attempt() -> str:
        return stores.ports.violations.record(
            caller_tenant_id="globex",
            caller_subject="agent-olaf",
            caller_kind="human",
            channel="messenger",
            account_id=PAGE_ID,
            account_tenant_id=TENANT,
            contact_id=PSID,
            now=NOW,
        )

    assert attempt() == attempt()


def test_recent_contacts_are_the_tenants_own(stores: Stores) -> None:
    stores.put(anna())
    stores.put(contact_record(Channel.MESSENGER, PAGE_ID, "psid-intruder", tenant_id="globex", wrote_at=NOW))
    found = stores.ports.contacts.recent(Channel.MESSENGER, PAGE_ID, tenant_id=TENANT, limit=10)
    assert [r.contact_id for r in found] == [PSID]


def audit_entry(audit_id: str, at: datetime, **fields: Any) -> AuditEntry:
    base: dict[str, Any] = {
        "audit_id": audit_id,
        "kind": "decision",
        "at_ms": to_ms(at),
        "principal_subject": "bot-orders",
        "principal_kind": "automation",
        "tenant_id": TENANT,
        "account_tenant_id": TENANT,
        "channel": "messenger",
        "account_id": PAGE_ID,
        "contact_id": PSID,
        "outcome": "sent",
        "allowed": True,
        "path": "free_form",
    }
    return AuditEntry.model_validate(base | fields)


def test_the_tenant_audit_spans_contacts_and_days_filters_and_pages(stores: Stores) -> None:
    trail: list[tuple[str, datetime, dict[str, Any]]] = [
        ("d-1", NOW - timedelta(days=2), {"contact_id": "psid-bob"}),
        (
            "d-2",
            NOW - timedelta(days=1, hours=3),
            {"principal_subject": "agent-maria", "principal_kind": "human", "path": "human_agent"},
        ),
        (
            "d-3",
            NOW - timedelta(hours=5),
            {"outcome": "refused", "allowed": False, "path": None, "reasons": ["window_closed"]},
        ),
        ("d-4", NOW - timedelta(hours=1), {"contact_id": "psid-carl"}),
        ("d-5", NOW - timedelta(minutes=5), {"tenant_id": "globex", "account_tenant_id": "globex"}),
    ]
    for audit_id, at, fields in trail:
        entry = audit_entry(audit_id, at, **fields)
        stores.ports.audit.append(anna().pk.replace(PSID, entry.contact_id), at, entry)

    def query(**fields: Any) -> tuple[list[str], str | None]:
        q = AuditQuery(tenant_id=TENANT, since=NOW - timedelta(days=3), until=NOW, limit=10)
        q = dataclasses.replace(q, **fields)
        entries, cursor = stores.ports.audit.query_tenant(q, now=NOW)
        return [e.audit_id for e in entries], cursor

    assert query() == (["d-4", "d-3", "d-2", "d-1"], None)  # globex's record is not acme's
    assert query(agent="agent-maria") == (["d-2"], None)
    assert query(reason="window_closed") == (["d-3"], None)
    assert query(path="free_form") == (["d-4", "d-1"], None)
    assert query(since=NOW - timedelta(hours=6)) == (["d-4", "d-3"], None)

    first, cursor = query(limit=2)
    assert first == ["d-4", "d-3"] and cursor is not None
    before = decode_audit_cursor(cursor, TENANT)
    second, end = query(limit=2, before_sk=before)
    assert second == ["d-2", "d-1"] and end is None


def test_account_health_keeps_only_the_newest_fact(stores: Stores) -> None:
    def health(status: str, at: datetime) -> AccountHealth:
        return AccountHealth.model_validate(
            {
                "channel": "messenger",
                "account_id": PAGE_ID,
                "tenant_id": TENANT,
                "status": status,
                "since_ms": to_ms(at),
                "changed_ms": to_ms(at),
                "reason": f"policy_{status}",
            }
        )

    assert stores.ports.health.get(Channel.MESSENGER, PAGE_ID) is None
    assert stores.ports.health.record(health("blocked", NOW))
    assert not stores.ports.health.record(health("ok", NOW - timedelta(minutes=1)))  # late, older
    kept = stores.ports.health.get(Channel.MESSENGER, PAGE_ID)
    assert kept is not None and kept.status == "blocked" and kept.blocks_sends
    assert stores.ports.health.record(health("ok", NOW + timedelta(minutes=1)))
    assert stores.ports.health.get(Channel.MESSENGER, PAGE_ID) == health("ok", NOW + timedelta(minutes=1))


def test_template_state_keeps_each_fact_newest_first(stores: Stores) -> None:
    templates = stores.ports.templates

    def change(fact: str, minutes: int, **value: Any) -> TemplateChange:
        return TemplateChange.model_validate(
            {
                "name": "order_shipped",
                "language": "en_US",
                "fact": fact,
                "at_ms": to_ms(NOW + timedelta(minutes=minutes)),
                **value,
            }
        )

    assert templates.get(Channel.WHATSAPP, WA_PHONE_NUMBER_ID, "order_shipped", "en_US") is None
    assert templates.apply(
        Channel.WHATSAPP, WA_PHONE_NUMBER_ID, change("status", 10, status="PAUSED", event="PAUSED")
    )
    assert templates.apply(
        Channel.WHATSAPP, WA_PHONE_NUMBER_ID, change("quality", 5, quality="RED")
    )  # its own clock
    assert not templates.apply(
        Channel.WHATSAPP, WA_PHONE_NUMBER_ID, change("status", 5, status="APPROVED", event="APPROVED")
    )
    assert templates.apply(Channel.WHATSAPP, WA_PHONE_NUMBER_ID, change("category", 20, category="MARKETING"))
    state = templates.get(Channel.WHATSAPP, WA_PHONE_NUMBER_ID, "order_shipped", "en_US")
    assert state is not None
    assert (state.status, state.quality, state.category) == (
        TemplateStatus.PAUSED,
        "RED",
        TemplateCategory.MARKETING,
    )
    assert list(templates.list(Channel.WHATSAPP, WA_PHONE_NUMBER_ID)) == [("order_shipped", "en_US")]


def test_a_monthly_quota_counts_up_to_its_limit_resets_by_month_and_gives_back(stores: Stores) -> None:
    quotas = stores.ports.quotas
    month = "2026-11"
    assert quotas.used(Channel.VIBER, "acmeoutdoor", "bot_initiated", month) == 0
    taken = [
        quotas.take(Channel.VIBER, "acmeoutdoor", "bot_initiated", month, limit=2, now=NOW) for _ in range(3)
    ]
    assert taken == [True, True, False]
    assert quotas.used(Channel.VIBER, "acmeoutdoor", "bot_initiated", month) == 2
    assert quotas.take(Channel.VIBER, "acmeoutdoor", "bot_initiated", "2026-12", limit=2, now=NOW)
    quotas.give_back(Channel.VIBER, "acmeoutdoor", "bot_initiated", month)
    assert quotas.used(Channel.VIBER, "acmeoutdoor", "bot_initiated", month) == 1
    for _ in range(3):  # never below zero
        quotas.give_back(Channel.VIBER, "acmeoutdoor", "bot_initiated", "2026-10")
    assert quotas.used(Channel.VIBER, "acmeoutdoor", "bot_initiated", "2026-10") == 0
