"""Key layout of the single DynamoDB table. One obvious place for every key format.

Item kinds (partition key ``pk``, sort key ``sk``):

=====================  =====================================  ===============================
item                   pk                                     sk
=====================  =====================================  ===============================
contact state          ``C#<channel>#<account_id>#<contact>``  ``STATE``
conversation message   same contact pk                        ``MSG#<epoch_ms:015d>#<id>``
decision (audit)       same contact pk                        ``DEC#<epoch_ms:015d>#<id>``
history (journal)      same contact pk                        ``H#<epoch_ms:015d>#<entry id>``
account profile        ``A#<channel>#<account_id>``            ``PROFILE``
account health         same account pk                        ``HEALTH``
template state         same account pk                        ``TPL#<name>#<language>``
webhook alias          ``W#<object>#<entry id>``               ``PROFILE``
tenant membership      ``T#<tenant_id>``                       ``A#<channel>#<account_id>``
follow-up              ``F#<followup_id>``                     ``FOLLOWUP``
re-engagement job      ``J#<job_id>``                          ``JOB`` / ``T#<contact pk>``
sweep cursor           ``SWEEP``                              ``CURSOR``
tenant violations      ``V#<caller tenant_id>``               ``<day>#<channel>#<account>#<sub>``
quarantine record      (S3, not the table)
=====================  =====================================  ===============================

Global secondary indexes (all sparse, all sharded so no single partition runs hot):

* ``due-index``: ``due_bucket`` = ``DUE#<yyyy-mm-ddTHH:MM>#<shard>``, ``due_at_ms``. Only
  contact items with an upcoming notice carry it; the minute sweep queries each shard of each
  minute it has not yet swept.
* ``account-index``: ``account_shard`` = ``A#<channel>#<account_id>#<shard>``,
  ``last_customer_action_ms``. Lists an account's conversations by recency (console,
  re-engagement jobs) without a scan.
* ``audit-index``: ``audit_shard`` = ``AT#<tenant_id>#<yyyy-mm-dd>#<shard>``, ``sk`` (the record's
  own ``DEC#<epoch_ms>#<id>``). A tenant's audit records by time: one Query per shard of each
  day an auditor asks about.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from windowkeeper.instants import minute_of, to_ms
from windowkeeper.policy.model import Channel

CONTACT_PREFIX = "C#"
STATE_SK = "STATE"
MESSAGE_SK_PREFIX = "MSG#"
DECISION_SK_PREFIX = "DEC#"
HISTORY_SK_PREFIX = "H#"
PROFILE_SK = "PROFILE"
HEALTH_SK = "HEALTH"

DUE_INDEX = "due-index"
ACCOUNT_INDEX = "account-index"
AUDIT_INDEX = "audit-index"
INBOX_INDEX = "inbox-index"  # hash account_shard, range last_activity_ms: the console's inbox

# Shard counts. 5,000 events/s on one page spread over ACCOUNT_SHARDS partitions stays under
# DynamoDB's 1,000 writes/s per partition; DUE_SHARDS does the same for one busy minute bucket.
ACCOUNT_SHARDS = 16
DUE_SHARDS = 16
AUDIT_SHARDS = 16  # a burst of one tenant's decisions or STOPs spreads its index writes


def contact_pk(channel: Channel | str, account_id: str, contact_id: str) -> str:
    return f"{CONTACT_PREFIX}{Channel(channel).value}#{account_id}#{contact_id}"


def parse_contact_pk(pk: str) -> tuple[Channel, str, str]:
    if not pk.startswith(CONTACT_PREFIX):
        raise ValueError(f"not a contact key: {pk!r}")
    channel, account_id, contact_id = pk[len(CONTACT_PREFIX) :].split("#", 2)
    return Channel(channel), account_id, contact_id


def violation_key(
    tenant_id: str, day: str, channel: Channel | str, account_id: str, subject: str
) -> dict[str, str]:
    """A caller's refused cross-tenant attempts on one account in one UTC day: one counter item,
    filed under the *caller's* tenant (never in the other tenant's space)."""
    return {"pk": f"V#{tenant_id}", "sk": f"{day}#{Channel(channel).value}#{account_id}#{subject}"}


def account_pk(channel: Channel | str, account_id: str) -> str:
    return f"A#{Channel(channel).value}#{account_id}"


def shard_of(value: str, shards: int) -> int:
    """Stable shard number (not Python's salted hash(): it must agree across processes)."""
    return int.from_bytes(hashlib.blake2b(value.encode(), digest_size=4).digest(), "big") % shards


def account_shard_key(channel: Channel | str, account_id: str, contact_id: str) -> str:
    shard = shard_of(contact_id, ACCOUNT_SHARDS)
    return f"{account_pk(channel, account_id)}#{shard:02d}"


def account_shard_keys(channel: Channel | str, account_id: str) -> list[str]:
    return [f"{account_pk(channel, account_id)}#{shard:02d}" for shard in range(ACCOUNT_SHARDS)]


def due_bucket(due_at: datetime, contact_pk_value: str) -> str:
    return f"DUE#{minute_of(due_at)}#{shard_of(contact_pk_value, DUE_SHARDS):02d}"


def due_buckets_for_minute(minute: str) -> list[str]:
    return [f"DUE#{minute}#{shard:02d}" for shard in range(DUE_SHARDS)]


def sortable_ms(instant: datetime) -> str:
    """Zero-padded epoch ms, so sort keys order by time as strings."""
    return f"{to_ms(instant):015d}"


def history_sk(at_ms: int, entry_id: str) -> str:
    """A journal entry's sort key: by the fact's own instant, then its stable id."""
    return f"{HISTORY_SK_PREFIX}{at_ms:015d}#{entry_id}"


def history_sk_after(at_ms: int) -> str:
    """A bound just above every entry stamped at or before ``at_ms``: entries sort as
    ``H#<ms>#<id>``, so ``H#<at_ms + 1>`` alone (no id) is greater than all of them."""
    return f"{HISTORY_SK_PREFIX}{at_ms + 1:015d}"


# --- follow-ups (scheduler) ---
FOLLOWUP_SK_PREFIX = "FUP#"


POINTER_SK = "FOLLOWUP"


def pointer_pk(followup_id: str) -> str:
    return f"F#{followup_id}"


def followup_sk(send_at_ms: int, followup_id: str) -> str:
    return f"{FOLLOWUP_SK_PREFIX}{send_at_ms:015d}#{followup_id}"


# --- re-engagement jobs (scheduler) ---
JOB_SK = "JOB"


RESULT_SK_PREFIX = "T#"


def job_pk(job_id: str) -> str:
    return f"J#{job_id}"


def result_sk(contact_pk_value: str) -> str:
    return f"{RESULT_SK_PREFIX}{contact_pk_value}"


def audit_day(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y-%m-%d")


def audit_shard_key(tenant_id: str, at: datetime, audit_id: str) -> str:
    return f"AT#{tenant_id}#{audit_day(at)}#{shard_of(audit_id, AUDIT_SHARDS):02d}"


def audit_shard_keys(tenant_id: str, day: str) -> list[str]:
    return [f"AT#{tenant_id}#{day}#{shard:02d}" for shard in range(AUDIT_SHARDS)]


def account_health_key(channel: Channel | str, account_id: str) -> dict[str, str]:
    return {"pk": account_pk(channel, account_id), "sk": HEALTH_SK}


TEMPLATE_SK_PREFIX = "TPL#"


def template_state_key(channel: Channel | str, account_id: str, name: str, language: str) -> dict[str, str]:
    return {"pk": account_pk(channel, account_id), "sk": f"{TEMPLATE_SK_PREFIX}{name}#{language}"}
