"""Collapse every observation of one contact in one POST into one ``ContactDelta``.

Meta batches freely (several entries, several events, retries of old ones), so the order of
events in a body means nothing; observations are ordered by their own timestamps here and each
part of the state keeps the newest thing it heard. The writer then applies each part only if it
is newer than what is stored, so a duplicate or late event can never move anything backwards.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from windowkeeper.events import DetailType
from windowkeeper.ingest.observations import ContactKey, Observation, OwnerKind
from windowkeeper.policy.model import ConsentScope, CustomerActionKind, EntryPoint
from windowkeeper.store.contact_item import StoredOptIn
from windowkeeper.store.message_preview import MessagePreview


@dataclass(frozen=True)
class WindowChange:
    at_ms: int
    kind: CustomerActionKind
    event_id: str


@dataclass(frozen=True)
class EntryChange:
    """How the conversation (re)started, kept apart from the window: a late ad message still counts."""

    entry_point: tuple[int, EntryPoint] | None = None  # (instant, entry point): the newest wins
    ad_started_ms: int | None = None  # the newest first-message-after-an-ad


@dataclass(frozen=True)
class ConsentDelta:
    """Each consent fact with its own instant: per scope the newest opt-out and the newest opt-in.

    Nothing here depends on the order of events: the writer moves each instant forward on its own.
    """

    opted_out_ms: tuple[tuple[ConsentScope, int], ...] = ()  # (scope, newest opt-out in this POST)
    opted_in_ms: tuple[tuple[ConsentScope, int], ...] = ()  # (scope, newest opt-in in this POST)
    opt_ins: tuple[StoredOptIn, ...] = ()
    consent_on_record: bool = False

    @property
    def at_ms(self) -> int:
        """The newest consent fact in this POST."""
        instants = [ms for _, ms in (*self.opted_out_ms, *self.opted_in_ms)]
        instants += [o.opted_in_ms for o in self.opt_ins]
        return max(instants, default=0)


@dataclass(frozen=True)
class RoutingDelta:
    """Three registers, each with its own instant, so late or repeated events land the same way.

    * who owns it: the newest event that says (``owner_at_ms``; a person's activity counts, and
      the owner's last activity is that instant when it is a person);
    * the app holding Meta's thread: the newest take / pass / release (``app_changed_ms``);
    * ``owner_since_ms``: the newest explicit handover to someone (``explicit_ms``), else the
      first activity of a person (``first_activity_ms``).
    """

    at_ms: int  # the newest routing event of any kind
    owner_at_ms: int | None = None
    owner: OwnerKind | None = None
    app_changed_ms: int | None = None
    owner_app_id: str | None = None
    explicit_ms: int | None = None
    first_activity_ms: int | None = None

    @property
    def owner_app_changed(self) -> bool:
        return self.app_changed_ms is not None


@dataclass(frozen=True)
class ContactDelta:
    key: ContactKey
    tenant_id: str
    customer_event: bool  # the customer did something (subscribed; the bus needs the route)
    standby: bool = False  # the newest customer event came on the standby channel
    window: WindowChange | None = None
    entry: EntryChange | None = None
    consent: ConsentDelta | None = None
    backoff_until_ms: int | None = None
    closed_early_ms: int | None = None
    unreachable: tuple[int, str] | None = None  # (since ms, reason)
    comment: tuple[int, str] | None = None  # (comment ms, comment id)
    routing: RoutingDelta | None = None
    country_code: str | None = None
    whatsapp_user_id: str | None = None
    display_name: str | None = None
    # The newest logged message of the POST (the inbox's preview) and the newest customer activity
    # the inbox lists (window opener or comment): ridden on the write, never a reason for one.
    preview: MessagePreview | None = None
    activity_ms: int | None = None

    @property
    def needs_write(self) -> bool:
        return self.customer_event or any(
            part is not None
            for part in (
                self.window,
                self.entry,
                self.consent,
                self.backoff_until_ms,
                self.closed_early_ms,
                self.unreachable,
                self.comment,
                self.routing,
            )
        )


def collapse(observations: Iterable[Observation]) -> dict[ContactKey, ContactDelta]:
    grouped: dict[ContactKey, list[Observation]] = defaultdict(list)
    for observation in observations:
        grouped[observation.key].append(observation)
    return {
        key: _collapse_one(key, sorted(items, key=lambda o: (o.at_ms, o.event_id)))
        for key, items in grouped.items()
    }


def _collapse_one(key: ContactKey, ordered: list[Observation]) -> ContactDelta:
    customer = [o for o in ordered if o.detail_type == DetailType.CUSTOMER_ACTION]
    return ContactDelta(
        key=key,
        tenant_id=ordered[0].tenant_id,
        customer_event=bool(customer),
        standby=customer[-1].standby if customer else False,
        window=_window(ordered),
        entry=_entry(ordered),
        consent=_consent(ordered),
        backoff_until_ms=max((o.backoff_until_ms for o in ordered if o.backoff_until_ms), default=None),
        closed_early_ms=max((o.at_ms for o in ordered if o.closed_early), default=None),
        unreachable=_newest((o.at_ms, o.unreachable_reason) for o in ordered if o.unreachable_reason),
        comment=_newest((o.at_ms, o.comment_id) for o in ordered if o.comment_id),
        routing=_routing(ordered),
        country_code=_last(o.country_code for o in ordered),
        whatsapp_user_id=_last(o.whatsapp_user_id for o in ordered),
        display_name=_last(o.display_name for o in ordered),
        preview=_preview(ordered),
        activity_ms=max((o.at_ms for o in ordered if o.opens_window or o.comment_id), default=None),
    )


def _preview(ordered: list[Observation]) -> MessagePreview | None:
    """The newest message with a log line (by instant, then message id, like the stored key)."""
    logged = [o for o in ordered if o.log is not None]
    if not logged:
        return None
    newest = max(logged, key=lambda o: (o.at_ms, o.log.message_id if o.log else ""))
    line = newest.log
    assert line is not None
    return MessagePreview(
        at_ms=newest.at_ms,
        message_id=line.message_id,
        direction=line.direction,
        kind=line.kind,
        text=line.text,
    )


def _window(ordered: list[Observation]) -> WindowChange | None:
    opening = [o for o in ordered if o.opens_window and o.action is not None]
    if not opening:
        return None
    newest = opening[-1]
    assert newest.action is not None
    return WindowChange(at_ms=newest.at_ms, kind=newest.action, event_id=newest.event_id)


def _entry(ordered: list[Observation]) -> EntryChange | None:
    """Entry points come from what starts a conversation: window openers and referrals (a bare ad
    referral opens no window but says how the person came)."""
    starting = [
        o
        for o in ordered
        if o.entry_point is not None and (o.opens_window or o.action is CustomerActionKind.REFERRAL)
    ]
    if not starting:
        return None
    newest = starting[-1]
    assert newest.entry_point is not None
    ad_start = [o.at_ms for o in starting if o.ad_started]
    return EntryChange(
        entry_point=(newest.at_ms, newest.entry_point), ad_started_ms=max(ad_start, default=None)
    )


def _consent(ordered: list[Observation]) -> ConsentDelta | None:
    changes = [o for o in ordered if o.consent is not None]
    if not changes:
        return None
    opted_out: dict[ConsentScope, int] = {}
    opted_in: dict[ConsentScope, int] = {}
    opt_ins: list[StoredOptIn] = []
    on_record = False
    for observation in changes:  # oldest first: the newest instant of each fact is kept
        change = observation.consent
        assert change is not None
        opted_out.update(dict.fromkeys(change.opt_out, observation.at_ms))
        opted_in.update(dict.fromkeys(change.opt_in, observation.at_ms))
        if change.marketing_opt_in:
            opt_ins.append(
                StoredOptIn(purpose="marketing", token=change.token, opted_in_ms=observation.at_ms)
            )
        on_record = on_record or change.consent_on_record
    return ConsentDelta(
        opted_out_ms=tuple(sorted(opted_out.items())),
        opted_in_ms=tuple(sorted(opted_in.items())),
        opt_ins=tuple(opt_ins),
        consent_on_record=on_record,
    )


def _routing(ordered: list[Observation]) -> RoutingDelta | None:
    changes = [o for o in ordered if o.routing is not None]
    if not changes:
        return None
    owner_at: tuple[int, OwnerKind] | None = None
    app: tuple[int, str | None] | None = None
    first_ms: int | None = None
    explicit_ms: int | None = None
    for observation in changes:  # oldest first: the newest of each register is kept
        routing = observation.routing
        assert routing is not None
        if routing.owner is not None:
            owner_at = (observation.at_ms, routing.owner)
        if routing.human_activity:
            first_ms = observation.at_ms if first_ms is None else first_ms
        else:
            app = (observation.at_ms, routing.owner_app_id)
            if routing.owner is not None:
                explicit_ms = observation.at_ms
    return RoutingDelta(
        at_ms=changes[-1].at_ms,
        owner_at_ms=owner_at[0] if owner_at else None,
        owner=owner_at[1] if owner_at else None,
        app_changed_ms=app[0] if app else None,
        owner_app_id=app[1] if app else None,
        explicit_ms=explicit_ms,
        first_activity_ms=first_ms,
    )


def _newest(pairs: Iterable[tuple[int, str | None]]) -> tuple[int, str] | None:
    best: tuple[int, str] | None = None
    for at_ms, value in pairs:
        if value is not None and (best is None or at_ms >= best[0]):
            best = (at_ms, value)
    return best


def _last(values: Iterable[str | None]) -> str | None:
    result = None
    for value in values:
        if value:
            result = value
    return result
