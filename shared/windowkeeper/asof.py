"""The contact "as of" an earlier instant, rebuilt from its journal (``store/history_table.py``).

The ``STATE`` item keeps only the newest of each fact. Asked about an instant ``at`` before now,
we fold the journal's entries stamped at or before ``at`` exactly the way the webhook folds a
POST: the same ``collapse`` (newest word per fact), the same writer plan applied to an empty
item. So an "as of" answer is the one we would have given live at that instant, whatever order
the facts arrived in since, with no second copy of the rules of how facts combine.

What the journal does not hold comes from the item and is filtered by instant by the engine
(``facts_at``): recent sends (``outbound``) and identity (names, country code).

Limits, answered with a 422 rather than a guess: customer actions leave the journal with the
account's audit retention, so an instant is answerable only while everything a rule looks back
over (``LONGEST_LOOKBACK``: 7 days, the HUMAN_AGENT and comment windows) is still kept.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from windowkeeper import errors
from windowkeeper.events import DetailType
from windowkeeper.instants import to_ms
from windowkeeper.policy.model import ConsentScope, Path
from windowkeeper.store.contact_item import ContactRecord
from windowkeeper.store.history_records import HistoryEntry

if TYPE_CHECKING:
    from windowkeeper.ingest.observations import ContactKey, Observation
    from windowkeeper.ports.sending import ContactHistory

# The longest span any rule looks back over from the instant it decides at (HUMAN_AGENT, comment
# private replies, the click-to-ad window: 7 days). tests/unit/test_asof.py checks the rule table.
LONGEST_LOOKBACK = timedelta(days=7)

HISTORY_EXPIRED_MESSAGE = (
    "This instant is too far back: the contact's history from then has passed the account's "
    "retention ({days} days), so the answer cannot be rebuilt. Ask about {earliest} or later."
)


def entry_from_observation(observation: Observation) -> HistoryEntry | None:
    """The journal entry for a webhook observation that changes state (None: nothing to keep)."""
    if not _facts(observation):
        return None
    consent = observation.consent
    return HistoryEntry(
        entry_id=observation.event_id,
        at_ms=observation.at_ms,
        source="webhook",
        kind=observation.kind,
        action=observation.action,
        opens_window=observation.opens_window,
        entry_point=observation.entry_point,
        ad_started=observation.ad_started,
        comment_id=observation.comment_id,
        opt_out=tuple(sorted(consent.opt_out)) if consent else (),
        opt_in=tuple(sorted(consent.opt_in)) if consent else (),
        consent_source=consent.source if consent else None,
        marketing_opt_in=consent.marketing_opt_in if consent else False,
        token=consent.token if consent else None,
        consent_on_record=consent.consent_on_record if consent else False,
        backoff_until_ms=observation.backoff_until_ms,
        closed_early=observation.closed_early,
        unreachable_reason=observation.unreachable_reason,
    )


def _facts(observation: Observation) -> bool:
    """Anything besides conversation routing (ownership is not part of the journal yet)."""
    return bool(
        observation.action is not None
        or observation.comment_id
        or observation.consent
        or observation.backoff_until_ms is not None
        or observation.closed_early
        or observation.unreachable_reason
    )


def consent_entry(
    entry_id: str,
    at: datetime,
    *,
    source: str,
    opt_out: Iterable[ConsentScope] = (),
    opt_in: Iterable[ConsentScope] = (),
) -> HistoryEntry:
    """A consent change recorded by a person or the API (not a webhook). An opt-in is also
    evidence, as the consent route stores it: of marketing (an opt-in on record) and, for ``all``,
    of consent on record."""
    opt_in = tuple(sorted(opt_in))
    return HistoryEntry(
        entry_id=entry_id,
        at_ms=to_ms(at),
        source=source,
        kind="consent",
        opt_out=tuple(sorted(opt_out)),
        opt_in=opt_in,
        consent_source=source,
        marketing_opt_in=ConsentScope.MARKETING in opt_in,
        consent_on_record=ConsentScope.ALL in opt_in,
    )


def verdict_entry(
    entry_id: str,
    at: datetime,
    *,
    window_closed_early: bool,
    unreachable_reason: str | None,
    marketing_opted_out: bool,
    marketing_backoff_until: datetime | None,
) -> HistoryEntry | None:
    """What Meta said about the contact when it refused a send (None: nothing about the contact)."""
    if not (window_closed_early or unreachable_reason or marketing_opted_out or marketing_backoff_until):
        return None
    return HistoryEntry(
        entry_id=entry_id,
        at_ms=to_ms(at),
        source="send",
        kind="meta_verdict",
        closed_early=window_closed_early,
        unreachable_reason=unreachable_reason,
        opt_out=(ConsentScope.MARKETING,) if marketing_opted_out else (),
        consent_source="meta_error" if marketing_opted_out else None,
        backoff_until_ms=to_ms(marketing_backoff_until) if marketing_backoff_until else None,
    )


def horizon(now: datetime, retention_days: int) -> datetime:
    """The earliest instant whose answer the journal can still rebuild."""
    return now - timedelta(days=retention_days) + LONGEST_LOOKBACK


def require_answerable(at: datetime, now: datetime, retention_days: int) -> None:
    earliest = horizon(now, retention_days)
    if at < earliest:
        raise errors.Unprocessable(
            "history_expired",
            HISTORY_EXPIRED_MESSAGE.format(
                days=retention_days, earliest=earliest.isoformat().replace("+00:00", "Z")
            ),
        )


# What the journal does not fold and the item keeps: who the contact is, its recent sends (the
# engine filters them by instant), and who owns the conversation (not journaled yet).
CARRIED_FROM_ITEM = frozenset(
    {
        "pk",
        "sk",
        "tenant_id",
        "channel",
        "account_id",
        "contact_id",
        "display_name",
        "recipient_country_code",
        "recipient_region",
        "whatsapp_user_id",
        "account_shard",
        "outbound",
        "owner",
        "owner_agent_id",
        "owner_since_ms",
        "owner_last_activity_ms",
        "routing_owner_app_id",
        "version",
    }
)


def record_as_of(record: ContactRecord, entries: Iterable[HistoryEntry], at: datetime) -> ContactRecord:
    """The contact item as it stood at ``at``: the journal folded up to ``at`` over the item's identity."""
    # The webhook's fold, imported here: a send's cold start pays for it only when it answers
    # about the past (every /check about now reads the item alone).
    from windowkeeper.ingest.delta import collapse  # noqa: PLC0415
    from windowkeeper.ingest.observations import ContactKey  # noqa: PLC0415
    from windowkeeper.store.contact_write_plan import ContactPlanner  # noqa: PLC0415

    at_ms = to_ms(at)
    key = ContactKey(record.channel, record.account_id, record.contact_id)
    observations = [_observation(key, record.tenant_id, e) for e in entries if e.at_ms <= at_ms]
    fields: dict[str, Any] = {}
    delta = collapse(observations).get(key)
    if delta is not None:
        # The webhook's own plan on an empty item: what these facts alone would store.
        part, _ = ContactPlanner(due_for=lambda _record: None).plan(delta, None, None)
        fields = {
            **part.set_if_absent,
            **part.set,
            **part.append,
            **{name: sorted(values) for name, values in part.add.items()},
        }
    carried = record.model_dump(include=set(CARRIED_FROM_ITEM))
    folded = ContactRecord.model_validate(
        {**{k: v for k, v in fields.items() if k in ContactRecord.model_fields}, **carried}
    )
    # A private reply already sent by ``at`` to the same comment spends it.
    replied = folded.pending_comment_id is not None and any(
        o.path is Path.PRIVATE_REPLY
        and folded.pending_comment_ms is not None
        and folded.pending_comment_ms <= o.at_ms <= at_ms
        for o in record.outbound
    )
    return folded.model_copy(update={"pending_comment_replied": replied})


def _observation(key: ContactKey, tenant_id: str, entry: HistoryEntry) -> Observation:
    from windowkeeper.ingest.observations import ConsentChange, Observation  # noqa: PLC0415

    consent = None
    if entry.opt_out or entry.opt_in or entry.marketing_opt_in or entry.consent_on_record:
        consent = ConsentChange(
            source=entry.consent_source or entry.source,
            opt_out=frozenset(entry.opt_out),
            opt_in=frozenset(entry.opt_in),
            marketing_opt_in=entry.marketing_opt_in,
            token=entry.token,
            consent_on_record=entry.consent_on_record,
        )
    return Observation(
        key=key,
        tenant_id=tenant_id,
        event_id=entry.entry_id,
        kind=entry.kind,
        at_ms=entry.at_ms,
        action=entry.action,
        opens_window=entry.opens_window,
        entry_point=entry.entry_point,
        ad_started=entry.ad_started,
        comment_id=entry.comment_id,
        consent=consent,
        backoff_until_ms=entry.backoff_until_ms,
        closed_early=entry.closed_early,
        unreachable_reason=entry.unreachable_reason,
        detail_type=DetailType.CUSTOMER_ACTION if entry.action is not None else None,
    )


def contact_as_of(
    history: ContactHistory, record: ContactRecord, *, at: datetime, now: datetime, retention_days: int
) -> ContactRecord:
    """The stored contact as it stood at ``at``: the item itself for ``at`` at or after ``now``
    (the engine then treats later stamps as not yet known), the journal's fold for an earlier one.
    """
    if at >= now:
        return record
    require_answerable(at, now, retention_days)
    return record_as_of(record, history.read(record.pk, until_ms=to_ms(at)), at)
