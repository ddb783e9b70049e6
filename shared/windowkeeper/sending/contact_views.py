"""The contacts API's read side: a contact's window state, its audit trail and messages, the
tenant's conversations and accounts. Nothing here writes, except the tenant gate's record of a
refused cross-tenant attempt."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from aws_lambda_powertools import Logger

from windowkeeper import errors
from windowkeeper.accounts import AccountConfig
from windowkeeper.asof import contact_as_of
from windowkeeper.auth import Principal
from windowkeeper.instants import from_ms, to_ms
from windowkeeper.ownership import ConversationState, conversation_state, effective_owner
from windowkeeper.policy.model import (
    AccountProfile,
    Channel,
    ContactState,
    Option,
    Sender,
    SenderKind,
    WindowClosings,
)
from windowkeeper.policy.rules import AD_WINDOW, WINDOW, rules_of
from windowkeeper.sending.api_models import AuditFilters
from windowkeeper.sending.contact_json import consent_json, iso, owner_json, windows_json
from windowkeeper.sending.contacts_base import (
    CONVERSATIONS_LIMIT_MAX,
    MESSAGES_LIMIT_MAX,
    ContactRef,
    ContactsBase,
)
from windowkeeper.store.audit_records import (
    AUDIT_LIST_MAX,
    TENANT_AUDIT_MAX_DAYS,
    AuditQuery,
    InvalidCursorError,
    decode_audit_cursor,
)
from windowkeeper.store.contact_item import ContactRecord
from windowkeeper.store.health_records import WHAT_TO_DO
from windowkeeper.store.inbox_records import (
    CLOSING_READ_MAX,
    INBOX_READ_BUDGET,
    INBOX_SHARDS,
    Q_MAX_CHARS,
    InboxSort,
    ShardRead,
    SortKey,
    activity_key,
    decode_inbox_cursor,
    encode_inbox_cursor,
    matches_search,
)


@dataclass
class ContactViews(ContactsBase):
    # --- GET /v1/contacts/{channel}/{account_id}/{contact_id} -------------------------------------
    def contact_view(
        self, principal: Principal, ref: ContactRef, *, at: datetime, now: datetime
    ) -> dict[str, Any]:
        """The contact's window state as of ``at``; ``now`` (the server's instant) stamps what is
        recorded, such as a refused cross-tenant attempt."""
        account, stored = self.load(principal, ref, now)
        account = self._with_templates(account)
        record = contact_as_of(
            self.stores.history, stored, at=at, now=now, retention_days=account.audit_retention_days
        )
        profile = account.profile()
        state = record.to_state()
        closings = self.window_closings(state, profile)
        options = tuple(self.evaluate_paths(state, profile, principal.sender(), at))
        label = self._label(state, profile, closings, at, options if principal.is_human_agent else None)
        return {
            "status": "ok",
            "as_of": iso(at),
            "contact": {
                "channel": record.channel.value,
                "account_id": record.account_id,
                "contact_id": record.contact_id,
                "display_name": record.display_name,
            },
            "state": label.value,
            "last_customer_action": {
                "at": iso(from_ms(record.last_customer_action_ms)),
                "kind": record.last_customer_action_kind.value if record.last_customer_action_kind else None,
                "entry_point": record.entry_point.value if record.entry_point else None,
            },
            "windows": windows_json(closings),
            "paths": [option.model_dump(mode="json") for option in options],
            "owner": owner_json(effective_owner(record, profile, at)),
            "consent": consent_json(record),
            "unreachable": (
                {"since": iso(from_ms(record.unreachable_since_ms)), "reason": record.unreachable_reason}
                if record.unreachable_since_ms is not None
                else None
            ),
            "marketing_backoff_until": iso(from_ms(record.marketing_backoff_until_ms)),
            "window_closed_early_at": iso(from_ms(record.window_closed_early_ms)),
            "pending_followups": self._pending_followups(record),
        }

    def _label(
        self,
        state: ContactState,
        profile: AccountProfile,
        closings: WindowClosings,
        at: datetime,
        human_options: Sequence[Option] | None = None,
    ) -> ConversationState:
        """The console's state label at ``at``; ``human_options`` when a person's were evaluated already.

        The label describes the conversation, not the caller: it is what a person could send,
        whoever asks (an automation sees its own paths under "paths").
        """
        if human_options is None:
            human_options = tuple(self.evaluate_paths(state, profile, _CONSOLE_AGENT, at))
        return conversation_state(
            state,
            human_options,
            free_form_closes_at=closings.free_form_closes_at,
            lead_time=timedelta(seconds=profile.expiry_lead_time_seconds),
            now=at,
        )

    def _pending_followups(self, record: ContactRecord) -> list[dict[str, Any]]:
        """The contact's scheduled follow-ups, soonest first."""
        scheduled = [
            f
            for f in self.stores.followups.list_for_contact(
                record.channel, record.account_id, record.contact_id
            )
            if f.status == "scheduled"
        ]
        scheduled.sort(key=lambda f: (f.send_at_ms, f.followup_id))
        return [
            {
                "followup_id": f.followup_id,
                "send_at": iso(from_ms(f.send_at_ms)),
                "purpose": f.purpose,
                "tag": f.tag,
                "has_fallback": f.fallback_content is not None,
                "cancel_if_customer_replied": f.cancel_if_customer_replied,
            }
            for f in scheduled
        ]

    # --- GET .../decisions -----------------------------------------------------------------------
    def decisions(
        self,
        principal: Principal,
        ref: ContactRef,
        *,
        limit: int,
        cursor: str | None,
        now: datetime,
    ) -> dict[str, Any]:
        if not 1 <= limit <= AUDIT_LIST_MAX:
            raise errors.InvalidInput(
                "invalid_request", f"The request is not valid: limit: between 1 and {AUDIT_LIST_MAX}."
            )
        _, record = self.load(principal, ref, now)
        try:
            entries, next_cursor = self.stores.audit.list(record.pk, limit, cursor, now=now)
        except InvalidCursorError as error:
            raise errors.InvalidInput(
                "invalid_cursor", "The cursor is not one this listing handed out."
            ) from error
        return {
            "status": "ok",
            "decisions": [{**e.model_dump(mode="json"), "at": iso(from_ms(e.at_ms))} for e in entries],
            "next_cursor": next_cursor,
        }

    # --- GET /v1/audit ---------------------------------------------------------------------------
    def tenant_audit(
        self,
        principal: Principal,
        filters: AuditFilters,
        *,
        since: datetime | None,
        until: datetime | None,
        limit: int,
        cursor: str | None,
        now: datetime,
    ) -> dict[str, Any]:
        """The principal's tenant's audit records in ``[since, until)`` (default: the last day),
        newest first, filtered by agent, path, reason, kind, outcome, channel and account."""
        if not 1 <= limit <= AUDIT_LIST_MAX:
            raise errors.InvalidInput(
                "invalid_request", f"The request is not valid: limit: between 1 and {AUDIT_LIST_MAX}."
            )
        until = until or now
        since = since or until - timedelta(days=1)
        if since >= until:
            raise errors.InvalidInput("invalid_range", "'since' must be before 'until'.")
        if until - since > timedelta(days=TENANT_AUDIT_MAX_DAYS):
            raise errors.InvalidInput(
                "range_too_long",
                f"One query spans at most {TENANT_AUDIT_MAX_DAYS} days; page through longer periods "
                "with several queries.",
            )
        try:
            before = decode_audit_cursor(cursor, principal.tenant_id) if cursor else None
        except InvalidCursorError as error:
            raise errors.InvalidInput(
                "invalid_cursor", "The cursor is not one this listing handed out."
            ) from error
        query = AuditQuery(
            tenant_id=principal.tenant_id,
            since=since,
            until=until,
            limit=limit,
            before_sk=before,
            **filters.model_dump(mode="json", exclude_none=True),
        )
        entries, next_cursor = self.stores.audit.query_tenant(query, now=now)
        return {
            "status": "ok",
            "tenant_id": principal.tenant_id,
            "since": iso(since),
            "until": iso(until),
            "entries": [{**e.model_dump(mode="json"), "at": iso(from_ms(e.at_ms))} for e in entries],
            "next_cursor": next_cursor,
        }

    # --- GET .../messages ------------------------------------------------------------------------
    def messages(
        self,
        principal: Principal,
        ref: ContactRef,
        *,
        limit: int,
        now: datetime,
    ) -> dict[str, Any]:
        if not 1 <= limit <= MESSAGES_LIMIT_MAX:
            raise errors.InvalidInput(
                "invalid_request",
                f"The request is not valid: limit: between 1 and {MESSAGES_LIMIT_MAX}.",
            )
        account, _ = self.load(principal, ref, now)
        logged = self.stores.conversation_log.list(
            account.channel, account.account_id, ref.contact_id, now=now, limit=limit
        )
        return {
            "status": "ok",
            "messages": [{**m.model_dump(mode="json"), "at": iso(from_ms(m.at_ms))} for m in logged],
        }

    # --- GET /v1/conversations -------------------------------------------------------------------
    def conversations(
        self,
        principal: Principal,
        *,
        channel: Channel | None,
        account_id: str | None,
        limit: int,
        now: datetime,
        sort: InboxSort = "recent",
        q: str | None = None,
        cursor: str | None = None,
    ) -> dict[str, Any]:
        """The tenant's conversations, each labelled at ``now``, a page at a time.

        ``sort=recent``: newest activity first (a message or a comment: GSI ``inbox-index``);
        ``sort=closing``: open free-form windows, closing soonest first. ``q`` keeps the rows whose
        display name or contact id holds it (case-insensitive). Reads are bounded and paged by a
        seek cursor bound to the tenant and the filters (``store.inbox_records``).
        """
        if not 1 <= limit <= CONVERSATIONS_LIMIT_MAX:
            raise errors.InvalidInput(
                "invalid_request",
                f"The request is not valid: limit: between 1 and {CONVERSATIONS_LIMIT_MAX}.",
            )
        if q is not None and len(q) > Q_MAX_CHARS:
            raise errors.InvalidInput(
                "invalid_request", f"The request is not valid: q: at most {Q_MAX_CHARS} characters."
            )
        if account_id is not None:
            if channel is None:
                raise errors.InvalidInput(
                    "invalid_request", "The request is not valid: account_id needs channel."
                )
            accounts = [self.account_for(principal, channel, account_id, contact_id=None, now=now)]
        else:
            accounts = [
                a
                for a in self.accounts.list_for_tenant(principal.tenant_id)
                if channel is None or a.channel is channel
            ]
        filters = {
            "sort": sort,
            "q": q,
            "channel": channel.value if channel else None,
            "account_id": account_id,
        }
        try:
            after = decode_inbox_cursor(cursor, principal.tenant_id, filters) if cursor else None
        except InvalidCursorError as error:
            raise errors.InvalidInput(
                "invalid_cursor",
                "The cursor is not one this listing handed out (another tenant, or other filters).",
            ) from error
        accounts = list(map(self._with_templates, accounts))  # the labels weigh template paths
        if sort == "closing":
            rows, next_after, complete = self._closing_soonest(accounts, q, after, limit, now)
        else:
            rows, next_after = self._newest_activity(accounts, q, after, limit)
            complete = True
        rows = self._with_profile_names(rows, now)
        return {
            "status": "ok",
            "as_of": iso(now),
            "sort": sort,
            "conversations": [self._row(account, record, now) for account, record in rows],
            "next_cursor": (
                encode_inbox_cursor(principal.tenant_id, filters, next_after) if next_after else None
            ),
            "complete": complete,
        }

    def _with_profile_names(
        self, rows: list[tuple[AccountConfig, ContactRecord]], now: datetime
    ) -> list[tuple[AccountConfig, ContactRecord]]:
        """Rows without a name get one from Meta's User Profile API: at most
        ``PROFILE_LOOKUPS_PER_PAGE`` a page, only for people who messaged (Meta's condition for
        the lookup), kept on the contact; a lookup that gives nothing is not repeated for a day."""
        if self.profiles is None:
            return rows
        wanted = [
            index
            for index, (_, record) in enumerate(rows)
            if record.display_name is None
            and record.channel in PROFILE_CHANNELS
            and record.last_customer_action_ms is not None
            and (record.profile_retry_after_ms or 0) <= to_ms(now)
        ][:PROFILE_LOOKUPS_PER_PAGE]
        if not wanted:
            return rows
        lookup = self.profiles()
        named = list(rows)
        for index in wanted:
            account, record = rows[index]
            try:
                name = lookup.user_profile_name(account, record.contact_id)
                self.stores.contacts.fill_display_name(
                    record.channel,
                    record.account_id,
                    record.contact_id,
                    name=name,
                    retry_after_ms=to_ms(now + PROFILE_RETRY_AFTER),
                )
            except Exception:  # a best-effort name must never fail the listing
                logger.warning("a profile name lookup failed", extra={"channel": record.channel.value})
                continue
            if name is not None:
                named[index] = (account, record.model_copy(update={"display_name": name}))
        return named

    def _newest_activity(
        self, accounts: Sequence[AccountConfig], q: str | None, after: SortKey | None, limit: int
    ) -> tuple[list[tuple[AccountConfig, ContactRecord]], SortKey | None]:
        """One page by newest activity: every shard read to its frontier, merged (``inbox_records``)."""
        shards = max(1, len(accounts) * INBOX_SHARDS)
        budget = max(limit + 1, INBOX_READ_BUDGET // shards)
        reads: list[tuple[AccountConfig, ShardRead]] = []
        for account in accounts:
            for read in self.stores.contacts.inbox(
                account.channel,
                account.account_id,
                tenant_id=account.tenant_id,
                after=after,
                accept=lambda record: matches_search(record, q),
                want=limit,
                budget=budget,
            ):
                reads.append((account, read))
        frontiers = [read.frontier for _, read in reads if read.frontier is not None]
        floor = max(frontiers) if frontiers else None
        rows = [
            (account, record)
            for account, read in reads
            for record in read.matches
            if floor is None or activity_key(record) >= floor
        ]
        rows.sort(key=lambda pair: activity_key(pair[1]), reverse=True)
        if len(rows) > limit:
            return rows[:limit], activity_key(rows[limit - 1][1])
        return rows, floor

    def _closing_soonest(
        self,
        accounts: Sequence[AccountConfig],
        q: str | None,
        after: SortKey | None,
        limit: int,
        now: datetime,
    ) -> tuple[list[tuple[AccountConfig, ContactRecord]], SortKey | None, bool]:
        """One page of open free-form windows, closing soonest first; also whether every contact
        that could have one was read (``CLOSING_READ_MAX`` per account)."""
        keyed: list[tuple[SortKey, AccountConfig, ContactRecord]] = []
        complete = True
        for account in accounts:
            since = now - longest_free_form_window(account.channel)
            records, read_all = self.stores.contacts.acted_since(
                account.channel,
                account.account_id,
                tenant_id=account.tenant_id,
                since_ms=to_ms(since),
                cap=CLOSING_READ_MAX,
            )
            complete = complete and read_all
            profile = account.profile()
            for record in records:
                closes_at = self.window_closings(record.to_state(), profile).free_form_closes_at
                if closes_at is None or closes_at <= now or not matches_search(record, q):
                    continue
                key = (to_ms(closes_at), record.pk)
                if after is None or key > after:
                    keyed.append((key, account, record))
        keyed.sort(key=lambda entry: entry[0])
        page = keyed[:limit]
        next_after = page[-1][0] if len(keyed) > limit else None
        return [(account, record) for _, account, record in page], next_after, complete

    def _row(self, account: AccountConfig, record: ContactRecord, now: datetime) -> dict[str, Any]:
        profile = account.profile()
        state = record.to_state()
        closings = self.window_closings(state, profile)
        label = self._label(state, profile, closings, now)
        return {
            "channel": record.channel.value,
            "account_id": record.account_id,
            "contact_id": record.contact_id,
            "display_name": record.display_name,
            "last_activity_at": iso(from_ms(record.last_activity_ms)),
            "last_customer_action": {
                "at": iso(from_ms(record.last_customer_action_ms)),
                "kind": record.last_customer_action_kind.value if record.last_customer_action_kind else None,
            },
            "last_message": (
                {
                    "at": iso(from_ms(record.last_message_ms)),
                    "direction": record.last_message_direction,
                    "kind": record.last_message_kind,
                    "text": record.last_message_text,
                }
                if record.last_message_ms is not None
                else None
            ),
            "state": label.value,
            "windows": windows_json(closings),
            "owner": owner_json(effective_owner(record, profile, now)),
        }

    # --- GET /v1/accounts ------------------------------------------------------------------------
    def _health_view(self, account: AccountConfig) -> dict[str, Any]:
        """What Meta last said about the account (``store.health_records``); ``ok`` if nothing."""
        health = self.stores.health.get(account.channel, account.account_id)
        if health is None:
            return {
                "status": "ok",
                "since": None,
                "reason": None,
                "detail": None,
                "what_to_do": WHAT_TO_DO["ok"],
            }
        return health.view()

    def accounts_of(self, principal: Principal) -> dict[str, Any]:
        """The tenant's accounts for the console (template picker and preview); no secret ids or tokens."""
        return {
            "status": "ok",
            "accounts": [
                {
                    "channel": a.channel.value,
                    "account_id": a.account_id,
                    "display_name": a.display_name,
                    "permissions": sorted(a.permissions),
                    "uses_conversation_routing": a.uses_conversation_routing,
                    "expiry_lead_time_seconds": a.expiry_lead_time_seconds,
                    "human_idle_return_seconds": a.human_idle_return_seconds,
                    "health": self._health_view(a),
                    "templates": [
                        {
                            "name": t.name,
                            "language": t.language,
                            "category": t.category.value,
                            "status": t.status.value,
                            "parameters": list(t.parameters),
                            # The approved text with {{n}} placeholders: the console previews it filled in.
                            "body": t.body,
                        }
                        for t in a.templates
                    ],
                }
                for a in map(self._with_templates, self.accounts.list_for_tenant(principal.tenant_id))
            ],
        }


PROFILE_CHANNELS = frozenset({Channel.MESSENGER, Channel.INSTAGRAM})  # WhatsApp names come with webhooks
PROFILE_LOOKUPS_PER_PAGE = 3  # each waits at most 0.5 s (graph.client.PROFILE_TIMEOUT_SECONDS)
PROFILE_RETRY_AFTER = timedelta(days=1)
logger = Logger(child=True)


def longest_free_form_window(channel: Channel) -> timedelta:
    """The longest any free-form window of ``channel`` stays open after the customer's last
    action, from the rules (every span, and the ad window: its start is a customer action too)."""
    lengths = [span.length for rule in rules_of(WINDOW, channel) for span in rule.params.spans]
    lengths += [rule.params.length for rule in rules_of(AD_WINDOW, channel)]
    return max(lengths, default=timedelta(0))


# The sender the state label is computed for: "a person in the console".
_CONSOLE_AGENT = Sender(kind=SenderKind.HUMAN, principal_id="console")
