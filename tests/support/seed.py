"""Items put straight into the single table, and read back, the way the services store them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any, Literal

from windowkeeper import aws as wk_aws
from windowkeeper.accounts import AccountConfig
from windowkeeper.instants import to_ms
from windowkeeper.policy.model import Channel, ConsentScope, CustomerActionKind
from windowkeeper.store.account_table import AccountStore
from windowkeeper.store.audit_records import AuditEntry
from windowkeeper.store.contact_item import ContactRecord
from windowkeeper.store.history_records import HistoryEntry, history_item
from windowkeeper.store.history_table import put_history_item
from windowkeeper.store.keys import STATE_SK, account_shard_key, contact_pk


def seed_accounts(
    table_name: str, accounts: Iterable[AccountConfig], token_secrets: dict[str, str] | None = None
) -> None:
    """The accounts in the table, and each access-token secret (id → token) in Secrets Manager."""
    for secret_id, token in (token_secrets or {}).items():
        wk_aws.client("secretsmanager").create_secret(Name=secret_id, SecretString=token)
    AccountStore(table_name).put_all(list(accounts))


def contact_record(
    channel: Channel,
    account_id: str,
    contact_id: str,
    *,
    tenant_id: str,
    wrote_at: datetime | None,
    listed_when_silent: bool = True,
    **attributes: Any,
) -> ContactRecord:
    """A contact whose last customer action was a message at ``wrote_at`` (None: never wrote).

    ``listed_when_silent=False`` leaves a contact that never wrote out of the account index, as
    the webhook does (it only writes ``account_shard`` with a customer action).
    """
    last_ms = to_ms(wrote_at) if wrote_at is not None else None
    listed = last_ms is not None or listed_when_silent
    return ContactRecord(
        pk=contact_pk(channel, account_id, contact_id),
        tenant_id=tenant_id,
        channel=channel,
        account_id=account_id,
        contact_id=contact_id,
        last_customer_action_ms=last_ms,
        last_customer_action_kind=CustomerActionKind.MESSAGE if last_ms is not None else None,
        **{  # as the webhook: a contact that acted is in the account index and the inbox
            "account_shard": account_shard_key(channel, account_id, contact_id) if listed else None,
            "last_activity_ms": last_ms,
            **attributes,
        },
    )


def put_contact(table_name: str, record: ContactRecord, **extra: Any) -> dict[str, Any]:
    """Store the record as its item (plus ``extra`` raw attributes) and return the item.

    The contact's journal gets what the webhook would have journaled with it: the last customer
    action, and the opt-outs with their instant, so "as of" questions see the same history.
    """
    item = record.model_dump(mode="json", exclude_none=True)
    item.update(extra)
    wk_aws.table(table_name).put_item(Item=item)
    journal: list[HistoryEntry] = []
    if record.last_customer_action_ms is not None and record.last_customer_action_kind is not None:
        journal.append(
            HistoryEntry(
                entry_id=record.last_inbound_event_id or f"seeded-{record.last_customer_action_ms}",
                at_ms=record.last_customer_action_ms,
                source="webhook",
                kind=record.last_customer_action_kind.value,
                action=record.last_customer_action_kind,
                opens_window=True,
                entry_point=record.entry_point,
                ad_started=record.ad_conversation_started_ms == record.last_customer_action_ms,
            )
        )
    for scope in ConsentScope:
        for opt_out in (True, False):
            at_ms = record.consent_instant(scope, opt_out)
            if at_ms is None:
                continue
            journal.append(
                HistoryEntry(
                    entry_id=f"seeded-consent-{scope.value}-{opt_out}-{at_ms}",
                    at_ms=at_ms,
                    source="webhook",
                    kind="consent",
                    opt_out=(scope,) if opt_out else (),
                    opt_in=() if opt_out else (scope,),
                    consent_source="keyword",
                )
            )
    for entry in journal:
        put_history_item(table_name, history_item(record.pk, entry, retention_days=400))
    return item


def human_owner(
    now: datetime,
    *,
    agent_id: str = "agent-ana",
    since_ago: timedelta,
    last_activity_ago: timedelta | None = None,
    **routing: Any,
) -> dict[str, Any]:
    """Contact attributes saying an agent took the conversation ``since_ago`` before ``now``.

    Without ``last_activity_ago`` the agent's last activity is not recorded (an item older than
    the idle timeout). ``routing`` adds e.g. ``routing_owner_app_id``.
    """
    attributes: dict[str, Any] = {
        "owner": "human",
        "owner_agent_id": agent_id,
        "owner_since_ms": to_ms(now - since_ago),
        **routing,
    }
    if last_activity_ago is not None:
        attributes["owner_last_activity_ms"] = to_ms(now - last_activity_ago)
    return attributes


def contact_item(table_name: str, channel: Channel, account_id: str, contact_id: str) -> dict[str, Any]:
    """The stored contact item, as DynamoDB returns it."""
    key = {"pk": contact_pk(channel, account_id, contact_id), "sk": STATE_SK}
    return dict(wk_aws.table(table_name).get_item(Key=key)["Item"])


def items_under(
    table_name: str, channel: Channel, account_id: str, contact_id: str, sk_prefix: str
) -> list[dict[str, Any]]:
    """The contact's items whose sort key starts with ``sk_prefix`` (messages, decisions...)."""
    response = wk_aws.table(table_name).query(
        KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
        ExpressionAttributeValues={":pk": contact_pk(channel, account_id, contact_id), ":prefix": sk_prefix},
    )
    return list(response["Items"])


def decision_entry(
    audit_id: str,
    at: datetime,
    *,
    tenant_id: str,
    account_id: str,
    contact_id: str,
    outcome: str,
    principal_subject: str = "agent-ana",
    principal_kind: Literal["human", "automation"] = "human",
    **fields: Any,
) -> AuditEntry:
    """A decision audit record for a Messenger contact, kept 400 days from ``at``."""
    return AuditEntry(
        audit_id=audit_id,
        kind="decision",
        at_ms=to_ms(at),
        principal_subject=principal_subject,
        principal_kind=principal_kind,
        tenant_id=tenant_id,
        channel=Channel.MESSENGER.value,
        account_id=account_id,
        contact_id=contact_id,
        outcome=outcome,
        expires_at=int((at + timedelta(days=400)).timestamp()),
        **fields,
    )
