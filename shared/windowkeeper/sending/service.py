"""The send gate: every outbound message passes the policy engine, then Meta, then the record.

``SendService.send`` is free of HTTP concerns so the send endpoint and the scheduler (follow-ups
at fire time) share it. One send:

1. ``load`` (``windowkeeper.sending.access``): the account (404 ``unknown_account``), the tenant
   check (403 ``forbidden_tenant``, audited), the contact (404 ``unknown_contact``).
2. Build the engine's ``DecisionInput`` from the stored contact, the account profile, the
   authenticated principal (never the body) and the request; ``decide(input, now)``.
3. Refused → audit, ``message.refused``, no call to Meta. Allowed → *claim*: one conditional
   write puts the message on the contact's ``outbound`` list under the ``version`` that was
   decided on (``store.outbound.claim_send``). If another send got there first, the stored item
   comes back and the decision is taken again on it (``MAX_CLAIM_ATTEMPTS``), so two concurrent
   sends cannot both pass a one-shot or capped rule (private reply, marketing cap, tag cap).
   Then ``graph.send`` with the decision's ``send_fields``.
4. Delivered → agent takeover on the contact (human senders only), the conversation log, audit,
   ``message.sent``. Meta refused on policy grounds → the claim released and its verdicts on
   the contact (window closed early, unreachable, marketing stop, back-off) in one write, the
   decision amended with Meta's reason, audit, ``message.refused``. Meta failed otherwise and
   certainly did not take the message → claim released, ``failed`` with the error verbatim
   (503 + retryable when it was throttling or Meta unreachable). Meta *may* have taken it (a
   read timeout, a dropped connection, a bare 5xx: ``DeliveryResult.delivery_unknown``) →
   ``unknown`` (502 ``delivery_unknown``): the claim stays, the conversation log says
   ``unknown``, the audit says so, and the answer is not retryable, so the send endpoint keeps
   the idempotency record and a retry with the same key replays it instead of sending again.

Contact writes per send: one claim for every allowed decision; plus one for an agent's takeover
(human senders, after delivery) or one to release the claim and record Meta's verdicts (Meta
refused or failed for sure). Engine refusals write no contact item.

Writes after a delivery never undo it: a failing audit/contact/event write is logged and
counted (metric ``PostDeliveryWriteFailures``) and the answer stays "sent", because answering an
error would make the client retry and the customer get the message twice.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, NamedTuple, Protocol

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import Metrics, MetricUnit

from windowkeeper import errors
from windowkeeper.accounts import AccountConfig
from windowkeeper.asof import contact_as_of, verdict_entry
from windowkeeper.auth import Principal
from windowkeeper.events import BusEvent, DetailType
from windowkeeper.graph.results import ContactEffects, DeliveryResult, GraphError
from windowkeeper.instants import from_ms, to_ms
from windowkeeper.policy import engine
from windowkeeper.policy.model import (
    META_CHANNELS,
    AccountUsage,
    Channel,
    ContactState,
    Content,
    Decision,
    DecisionInput,
    Path,
    ReasonCode,
)
from windowkeeper.policy.paths.windowless import BOT_INITIATED_QUOTA, bot_initiated_free_quota
from windowkeeper.policy.rules import marketing_backoff_until
from windowkeeper.ports.accounts import AccountDirectory
from windowkeeper.ports.bus import EventPublisher
from windowkeeper.ports.sending import SendStores
from windowkeeper.sending.access import ContactAccess, audit_actor
from windowkeeper.sending.api_models import SendRequest
from windowkeeper.store.audit_records import AuditEntry, expires_at, text_hash
from windowkeeper.store.claim_records import (
    AgentActivity,
    ClaimConflictError,
    ContactMissingError,
    MetaVerdicts,
    SentMessage,
)
from windowkeeper.store.contact_item import ContactRecord
from windowkeeper.store.health_records import WHAT_TO_DO, AccountHealth, HealthStatus, health_changed_event
from windowkeeper.store.quota_records import month_of

logger = Logger(child=True)

GRAPH_TOKEN_INVALID_CODE = 190  # Graph: access token expired, revoked or invalid

DecideFn = Callable[[DecisionInput, datetime], Decision]

UNKNOWN_CONTACT_MESSAGE = "This contact has never written to the account, so no message can reach them yet."
CONTACT_BUSY_MESSAGE = "Other sends to this contact kept changing it; nothing was sent. Retry shortly."

# Claims lost to concurrent sends before giving up with 409 ``contact_busy`` (each loss re-decides).
MAX_CLAIM_ATTEMPTS = 4

# Graph error codes that mean "slow down": after the client's own retries these answer 503.
THROTTLING_CODES = frozenset({4, 613, 80007, 130429, 131056, 131057})


# --- What the send gate needs from the Graph adapter (windowkeeper.graph.GraphClient) ----------
class GraphSender(Protocol):
    def send(
        self, account: AccountConfig, contact: ContactState, decision: Decision, content: Content
    ) -> DeliveryResult: ...


class QuotaTaken(NamedTuple):
    """One count taken from an account's quota (``ports.sending.QuotaCounters``)."""

    channel: Channel
    account_id: str
    name: str
    month: str


NO_USAGE = AccountUsage()


@dataclass(frozen=True)
class SendOutcome:
    """The result of one send. ``http_status`` is what the send endpoint answers."""

    status: Literal["sent", "refused", "failed", "unknown"]
    decision: Decision
    platform_message_id: str | None
    graph_error: dict[str, Any] | None
    http_status: int
    decision_id: str = ""
    # failed: graph_error | graph_unavailable | graph_throttled; unknown: delivery_unknown
    failure_reason: str | None = None
    known_error: bool | None = None  # failed only: was Meta's code one we know
    retryable: bool = False  # transient: a retry with the same Idempotency-Key may try again


def graph_error_dict(error: GraphError | None) -> dict[str, Any] | None:
    """Meta's error for the API answer and the audit: code, subcode, message (as Meta sent them)."""
    if error is None:
        return None
    return {"code": error.code, "subcode": error.subcode, "message": error.message}


def verdicts_from_effects(effects: ContactEffects, at: datetime, channel: Channel) -> MetaVerdicts:
    """The contact-level part of Meta's answer, in the table's terms (``at``: when Meta said it,
    the request's ``now``; a 131049 back-off runs from it for as long as the policy rule says).

    Account-level effects (restricted Page, invalid token...) are not contact state: they are
    logged and surface in the answer's ``graph_error``.
    """
    unreachable_reason = None
    if effects.unreachable:
        unreachable_reason = effects.unreachable_reason or "meta_unreachable"
    return MetaVerdicts(
        window_closed_early_at=at if effects.window_closed_early else None,
        unreachable_reason=unreachable_reason,
        marketing_opted_out=effects.marketing_opted_out,
        marketing_backoff_until=(
            marketing_backoff_until(channel, [effects.marketing_backoff_code], at)
            if effects.marketing_backoff_code is not None
            else None
        ),
    )


def render_template_text(content: Content) -> str | None:
    """The text a customer sees, for the conversation log: the text, or the filled template body."""
    if content.text is not None:
        return content.text
    template = content.template
    if template is None or not template.body:
        return None
    return template.rendered()  # the text the engine's promotional screen read


class SendService:
    def __init__(
        self,
        *,
        stores: SendStores,
        accounts: AccountDirectory,
        graph: GraphSender,
        publish: EventPublisher,
        decide: DecideFn = engine.decide,
        metrics: Metrics | None = None,
        new_id: Callable[[], str] = lambda: uuid.uuid4().hex,
        token_fingerprint: Callable[[AccountConfig], str | None] | None = None,
    ) -> None:
        self.stores = stores
        self.accounts = accounts
        self.graph = graph
        self.publish = publish
        self.decide = decide
        self.metrics = metrics
        self._new_id = new_id
        # Tells the token Meta rejected from a replaced one; None: a rejected token blocks nothing.
        self._token_fingerprint = token_fingerprint
        self._access = ContactAccess(accounts, stores.contacts, stores.violations, metrics)

    # --- loading ---------------------------------------------------------------------------------
    def load(
        self, principal: Principal, request: SendRequest, *, now: datetime
    ) -> tuple[AccountConfig, ContactRecord]:
        """The account and contact the request names, if the principal may act on them.

        Raises ``errors.DomainError`` 404/403; a principal of another tenant is refused with 403
        ``forbidden_tenant`` and the attempt is audited at ``now``, the server's instant (never
        an instant the request asks about: that would let a caller back- or future-date it).
        """
        account, record = self._access.load(
            principal,
            request.channel,
            request.account_id,
            request.contact_id,
            now,
            unknown_message=UNKNOWN_CONTACT_MESSAGE,
        )
        named = request.content.template
        if named is not None:
            # Meta's newest word on the template (paused, disabled, re-categorised), read now: the
            # registry behind the account cache may be a minute old.
            state = self.stores.templates.get(account.channel, account.account_id, named.name, named.language)
            if state is not None:
                account = account.with_template_states({(named.name, named.language): state})
        return account, record

    def decision_input(
        self,
        principal: Principal,
        request: SendRequest,
        account: AccountConfig,
        record: ContactRecord,
        *,
        at: datetime,
        sending: bool = False,
    ) -> tuple[DecisionInput, Content]:
        """The engine's input. ``sending``: a send decided on the item as just read, so every
        claim on it counts, whatever its stamp (see ``DecisionInput.every_claim_known``)."""
        content = request.content.to_content(account)
        return (
            DecisionInput(
                contact=record.to_state(),
                account=account.profile(),
                sender=principal.sender(),
                content=content,
                request=request.outbound_request(),
                usage=self._usage(account, at),
                every_claim_known=sending,
            ),
            content,
        )

    # --- the two operations ----------------------------------------------------------------------
    def check(self, principal: Principal, request: SendRequest, *, at: datetime, now: datetime) -> Decision:
        """The decision ``send`` would take at ``at``; nothing is sent (``now`` stamps what is
        recorded: a refused cross-tenant attempt)."""
        account, stored = self.load(principal, request, now=now)
        unavailable = self._unavailable(
            account, self.stores.health.get(account.channel, account.account_id), at
        )
        if unavailable is not None:
            return unavailable
        # "As of" an earlier instant: the contact as it stood then, rebuilt from its journal.
        record = contact_as_of(
            self.stores.history, stored, at=at, now=now, retention_days=account.audit_retention_days
        )
        inp, _ = self.decision_input(principal, request, account, record, at=at)
        return self.decide(inp, at)

    def _usage(self, account: AccountConfig, at: datetime) -> AccountUsage:
        """The account's counters a rule reads at ``at`` (Viber: this month's bot-initiated messages);
        read only where a free quota applies, so no other send pays for the read."""
        if bot_initiated_free_quota(account.profile(), at) is None:
            return NO_USAGE
        used = self.stores.quotas.used(account.channel, account.account_id, BOT_INITIATED_QUOTA, month_of(at))
        return AccountUsage(bot_initiated_this_month=used)

    def _take_quota(
        self, account: AccountConfig, decision: Decision, now: datetime
    ) -> QuotaTaken | bool | None:
        """Count a bot-initiated message against this month's free quota before it is claimed.

        The conditional count is the arbiter between concurrent sends: exactly the quota's worth
        get through in a month. Returns what was taken (to give back if the platform certainly
        refuses), None when no quota applies, False when the quota ran out since the decision."""
        if decision.path is not Path.BOT_INITIATED:
            return None
        limit = bot_initiated_free_quota(account.profile(), now)
        if limit is None:
            return None
        taken = QuotaTaken(account.channel, account.account_id, BOT_INITIATED_QUOTA, month_of(now))
        if not self.stores.quotas.take(*taken, limit=limit, now=now):
            self._count("QuotaRaceLost")
            return False
        return taken

    def _give_back(self, taken: QuotaTaken | None) -> None:
        if taken is None:
            return
        try:
            self.stores.quotas.give_back(*taken)
        except Exception:  # a quota one too high for the month refuses early; it never sends twice
            logger.exception("giving back a quota count failed", extra={"quota": taken.name})

    def send(self, principal: Principal, request: SendRequest, now: datetime) -> SendOutcome:
        account, record = self.load(principal, request, now=now)
        decision_id = self._new_id()
        health = self.stores.health.get(account.channel, account.account_id)
        unavailable = self._unavailable(account, health, now)
        if unavailable is not None:  # Meta would refuse every send of the account: it is not called
            content = request.content.to_content(account)
            return self._refused(principal, request, account, record, content, unavailable, decision_id, now)
        inp, content, decision, claim = self._decide_and_claim(principal, request, account, record, now)
        if claim is None:  # refused by the engine: Meta is never called, nothing is claimed
            return self._refused(principal, request, account, record, content, decision, decision_id, now)

        claimed, sent, quota = claim
        result = self.graph.send(account, inp.contact, decision, content)
        self._note_health(account, health, result, now)
        if result.ok:
            outcome = SendOutcome(
                status="sent",
                decision=decision,
                platform_message_id=result.platform_message_id,
                graph_error=None,
                http_status=200,
                decision_id=decision_id,
            )
            self._record_delivery(
                principal=principal,
                account=account,
                record=claimed,
                inp=inp,
                content=content,
                outcome=outcome,
                now=now,
            )
        elif result.delivery_unknown:
            # Meta may have delivered it: the claim stays (caps count it) and nothing is retried.
            outcome = _unknown(decision, result, decision_id)
            self._log_message(principal, account, claimed, content, outcome, now=now, status="unknown")
        elif result.reason is not None:
            outcome = SendOutcome(
                status="refused",
                decision=_amend(decision, result),
                platform_message_id=None,
                graph_error=graph_error_dict(result.error),
                http_status=409,
                decision_id=decision_id,
            )
            self._record_verdicts(
                claimed, result, now, release=sent, account=account, decision_id=decision_id
            )
            self._give_back(quota)
        else:
            outcome = _failure(decision, result, decision_id)
            self._record_verdicts(
                claimed, result, now, release=sent, account=account, decision_id=decision_id
            )
            self._give_back(quota)
        self._after(
            principal=principal,
            contact_pk=record.pk,
            request=request,
            account=account,
            content=content,
            outcome=outcome,
            now=now,
        )
        return outcome

    def _refused(  # noqa: PLR0917 - the request's whole context, as _after files it
        self,
        principal: Principal,
        request: SendRequest,
        account: AccountConfig,
        record: ContactRecord,
        content: Content,
        decision: Decision,
        decision_id: str,
        now: datetime,
    ) -> SendOutcome:
        """A refusal before Meta is called: audited and published, nothing claimed."""
        outcome = SendOutcome(
            status="refused",
            decision=decision,
            platform_message_id=None,
            graph_error=None,
            http_status=409,
            decision_id=decision_id,
        )
        self._after(
            principal=principal,
            contact_pk=record.pk,
            request=request,
            account=account,
            content=content,
            outcome=outcome,
            now=now,
        )
        return outcome

    def _decide_and_claim(
        self,
        principal: Principal,
        request: SendRequest,
        account: AccountConfig,
        record: ContactRecord,
        now: datetime,
    ) -> tuple[DecisionInput, Content, Decision, tuple[ContactRecord, SentMessage, QuotaTaken | None] | None]:
        """Decide; if allowed, claim the send on the contact before Meta is called.

        Returns the input and decision that held, and (item after the claim, claimed entry) for
        an allowed decision. A lost claim means another send wrote the contact since it was read:
        the decision is taken again on the item as it is now.
        """
        for _ in range(MAX_CLAIM_ATTEMPTS):
            inp, content = self.decision_input(principal, request, account, record, at=now, sending=True)
            decision = self.decide(inp, now)
            if not decision.allowed:
                return inp, content, decision, None
            taken = self._take_quota(account, decision, now)
            if taken is False:
                continue  # another send used the last of the quota: decide again on the new count
            assert decision.path is not None  # an allowed decision always names its path
            template = content.template
            recipient = decision.send_fields.get("recipient")
            sent = SentMessage(
                at=now,
                path=decision.path,
                tag=decision.send_fields.get("tag"),
                template_category=template.category if template else None,
                by_human=inp.sender.is_human,
                comment_id=recipient.get("comment_id") if isinstance(recipient, dict) else None,
            )
            quota = taken if isinstance(taken, QuotaTaken) else None
            try:
                claimed = self.stores.claims.claim(record, sent)
            except ClaimConflictError as conflict:
                self._give_back(quota)
                self._count("SendClaimConflicts")
                record = conflict.current
                continue
            except ContactMissingError as error:
                self._give_back(quota)
                raise errors.NotFound("unknown_contact", UNKNOWN_CONTACT_MESSAGE) from error
            return inp, content, decision, (claimed, sent, quota)
        raise errors.Conflict("contact_busy", CONTACT_BUSY_MESSAGE)

    # --- the account's health ----------------------------------------------------------------------
    def _unavailable(
        self, account: AccountConfig, health: AccountHealth | None, at: datetime
    ) -> Decision | None:
        """A refusal when Meta would refuse every send of the account at ``at`` (None: it would not).

        A rejected token blocks only while it is the token in use: once replaced (its fingerprint
        differs) the send is tried, and its success clears the record.
        """
        if health is None or not health.blocks_sends or to_ms(at) < health.since_ms:
            return None
        if health.status == "token_invalid":
            current = self._token_fingerprint(account) if self._token_fingerprint is not None else None
            if current is None or current != health.token_fingerprint:
                return None
        since = from_ms(health.since_ms)
        assert since is not None
        return Decision(
            allowed=False,
            path=None,
            rule=None,
            reasons=(ReasonCode.ACCOUNT_UNAVAILABLE,),
            explanation=(
                f"Since {since.isoformat()}: {WHAT_TO_DO[health.status]} ({health.detail or health.reason})"
            ),
            decided_at=at,
            valid_until=None,
        )

    def _note_health(
        self, account: AccountConfig, health: AccountHealth | None, result: DeliveryResult, now: datetime
    ) -> None:
        """Keep what Meta's answer says about the account: a rejected token, a restriction, or that
        a send works again. A write or publish failure is logged: it never undoes the delivery."""
        error = result.error
        code = _error_label(error)
        message = error.message if error is not None else None
        fingerprint: str | None = None
        status: HealthStatus
        reason: str | None
        if result.ok:
            if health is None or health.status == "ok":
                return
            status, reason, message = "ok", "send_succeeded", None
        elif result.effects.token_invalid:
            status, reason = "token_invalid", code
            if self._token_fingerprint is not None:
                fingerprint = self._token_fingerprint(account)
        elif result.effects.account_restricted:
            status, reason = "restricted", code
        else:
            return
        previous = health.status if health is not None else "ok"
        if status == previous and (health is None or health.token_fingerprint == fingerprint):
            return  # nothing new: the record already says so
        changed = AccountHealth(
            channel=account.channel,
            account_id=account.account_id,
            tenant_id=account.tenant_id,
            status=status,
            since_ms=to_ms(now),
            changed_ms=to_ms(now),
            reason=reason,
            detail=message,
            token_fingerprint=fingerprint,
        )
        try:
            if self.stores.health.record(changed):
                self._count("AccountHealthChanged")
                if changed.blocks_sends:
                    self._count("AccountUnavailable")  # AccountUnavailableAlarm
                self._publish_quietly([health_changed_event(changed, previous, now)])
        except Exception:
            logger.exception(
                "recording the account's health failed", extra={"account_id": account.account_id}
            )
            self._count("PostDeliveryWriteFailures")

    # --- writes ----------------------------------------------------------------------------------
    def _record_delivery(
        self,
        *,
        principal: Principal,
        account: AccountConfig,
        record: ContactRecord,
        inp: DecisionInput,
        content: Content,
        outcome: SendOutcome,
        now: datetime,
    ) -> None:
        """After a delivery: the agent's takeover (the send itself was claimed before) and the log."""
        if inp.sender.is_human:
            try:
                write = self.stores.claims.record(
                    record,
                    at=now,
                    activity=AgentActivity(agent_id=principal.subject, at=now, account=account.profile()),
                )
                if write.took_over:
                    self._publish_quietly(
                        [
                            BusEvent(
                                detail_type=DetailType.HANDOVER,
                                event_id=f"handover:{outcome.decision_id}",
                                time=now,
                                detail={
                                    **_contact_ids(account, record),
                                    "owner": "human",
                                    "agent_id": principal.subject,
                                    "cause": "agent_send",
                                    "previous_owner": write.record.owner,
                                },
                            )
                        ]
                    )
            except Exception:
                logger.exception(
                    "recording the agent's send on the contact failed",
                    extra={"decision_id": outcome.decision_id},
                )
                self._count("PostDeliveryWriteFailures")
        self._log_message(principal, account, record, content, outcome, now=now, status="sent")

    def _log_message(
        self,
        principal: Principal,
        account: AccountConfig,
        record: ContactRecord,
        content: Content,
        outcome: SendOutcome,
        *,
        now: datetime,
        status: str,
    ) -> None:
        path = outcome.decision.path
        try:
            self.stores.conversation_log.log_outbound(
                channel=account.channel,
                account_id=account.account_id,
                contact_id=record.contact_id,
                message_id=outcome.platform_message_id or outcome.decision_id,
                at=now,
                kind=content.kind.value,
                text=render_template_text(content),
                sender=_log_sender(principal),
                retention_days=account.message_retention_days,
                path=path.value if path else None,
                status=status,
            )
        except Exception:
            logger.exception(
                "writing the conversation log item failed", extra={"decision_id": outcome.decision_id}
            )
            self._count("PostDeliveryWriteFailures")

    def _record_verdicts(
        self,
        record: ContactRecord,
        result: DeliveryResult,
        now: datetime,
        *,
        release: SentMessage,
        account: AccountConfig,
        decision_id: str,
    ) -> None:
        """Meta certainly did not take the message: release its claim and record Meta's verdicts."""
        verdicts = verdicts_from_effects(result.effects, now, record.channel)
        if result.effects.any and verdicts.empty:
            effects = result.effects.to_dict()
            logger.warning("Meta reported an account-level problem", extra={"effects": effects})
        journal = verdict_entry(
            decision_id,
            now,
            window_closed_early=verdicts.window_closed_early_at is not None,
            unreachable_reason=verdicts.unreachable_reason,
            marketing_opted_out=verdicts.marketing_opted_out,
            marketing_backoff_until=verdicts.marketing_backoff_until,
        )
        try:
            self.stores.claims.record(record, at=now, verdicts=verdicts, release=release)
            if journal is not None:
                self.stores.history.put(record.pk, journal, retention_days=account.audit_retention_days)
        except Exception:
            logger.exception("releasing the claim and recording Meta's verdict on the contact failed")
            self._count("PostDeliveryWriteFailures")

    def _after(
        self,
        *,
        principal: Principal,
        contact_pk: str,
        request: SendRequest,
        account: AccountConfig,
        content: Content,
        outcome: SendOutcome,
        now: datetime,
    ) -> None:
        """Audit, metrics, log line and event for every decision taken by ``send``."""
        decision = outcome.decision
        sender = principal.sender()
        template = content.template
        entry = AuditEntry(
            audit_id=outcome.decision_id,
            kind="decision",
            at_ms=to_ms(now),
            **audit_actor(principal, account, request.contact_id),
            outcome=outcome.status,
            allowed=decision.allowed,
            path=decision.path.value if decision.path else None,
            send_fields=decision.send_fields,
            rule_id=decision.rule.rule_id if decision.rule else None,
            rule_sources=list(decision.rule.sources) if decision.rule else [],
            reasons=[r.value for r in decision.reasons],
            explanation=decision.explanation,
            content_kind=content.kind.value,
            template_name=template.name if template else None,
            text_sha256=text_hash(content.text),
            tag=request.tag,
            purpose=request.purpose.value if request.purpose else None,
            confirm_not_promotional=request.confirm_not_promotional,
            platform_message_id=outcome.platform_message_id,
            graph_error=outcome.graph_error,
            expires_at=expires_at(now, account.audit_retention_days),
        )
        try:
            self.stores.audit.append(contact_pk, now, entry)
        except Exception:
            logger.exception("writing the audit record failed", extra={"decision_id": outcome.decision_id})
            self._count("AuditWriteFailures")
        logger.info(
            "send decided",
            extra={
                "decision_id": outcome.decision_id,
                "outcome": outcome.status,
                "channel": account.channel.value,
                "account_id": account.account_id,
                "path": decision.path.value if decision.path else None,
                "reasons": [r.value for r in decision.reasons],
                "rule_id": decision.rule.rule_id if decision.rule else None,
                "principal_kind": sender.kind.value,
                "graph_code": (outcome.graph_error or {}).get("code"),
            },
        )
        self._emit_metrics(outcome)
        if outcome.status in ("failed", "unknown"):
            return  # nothing a consumer could act on; the audit and the answer say what happened
        detail_type = DetailType.MESSAGE_SENT if outcome.status == "sent" else DetailType.MESSAGE_REFUSED
        self._publish_quietly(
            [
                BusEvent(
                    detail_type=detail_type,
                    event_id=outcome.decision_id,
                    time=now,
                    detail={
                        "tenant_id": account.tenant_id,
                        "channel": account.channel.value,
                        "account_id": account.account_id,
                        "contact_id": request.contact_id,
                        "decision_id": outcome.decision_id,
                        "principal": {"subject": principal.subject, "kind": sender.kind.value},
                        "path": decision.path.value if decision.path else None,
                        "reasons": [r.value for r in decision.reasons],
                        "rule_id": decision.rule.rule_id if decision.rule else None,
                        "platform_message_id": outcome.platform_message_id,
                        "graph_error": outcome.graph_error,
                    },
                )
            ]
        )

    # --- small helpers ---------------------------------------------------------------------------
    def _publish_quietly(self, bus_events: list[BusEvent]) -> None:
        try:
            self.publish(bus_events)
        except Exception:
            logger.exception(
                "publishing events failed", extra={"event_ids": [e.event_id for e in bus_events]}
            )
            self._count("EventPublishFailures")

    def _count(self, name: str, value: float = 1) -> None:
        if self.metrics is not None:
            self.metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)

    def _emit_metrics(self, outcome: SendOutcome) -> None:
        if outcome.status == "sent":
            self._count("MessagesSent")
        elif outcome.status == "refused":
            self._count("MessagesRefused")
            # One metric per reason (a closed vocabulary, so a bounded set of metric names).
            for reason in outcome.decision.reasons:
                self._count(f"MessagesRefused.{reason.value}")
        elif outcome.status == "unknown":
            self._count("DeliveryUnknown")
        if outcome.graph_error is not None or outcome.status in ("failed", "unknown"):
            self._count("GraphErrors")
        if (outcome.graph_error or {}).get("code") == GRAPH_TOKEN_INVALID_CODE:
            # The Page/WhatsApp token expired or was revoked: every send of the account fails until
            # someone re-authorises it (PageTokenInvalidAlarm).
            self._count("PageTokenInvalid")


def _amend(decision: Decision, result: DeliveryResult) -> Decision:
    """The engine allowed it but Meta refused: the decision the caller sees says so."""
    error = result.error
    where = f" (code {error.code}/{error.subcode}: {error.message})" if error is not None else ""
    reason = result.reason
    assert reason is not None
    return decision.model_copy(
        update={
            "allowed": False,
            "reasons": (reason,),
            "explanation": f"Meta refused the message{where}. {decision.explanation}",
            "valid_until": None,
        }
    )


def _failure(decision: Decision, result: DeliveryResult, decision_id: str) -> SendOutcome:
    """Meta certainly did not take the message: throttled or unreachable (retryable), or an error."""
    error = result.error
    code = error.code if error is not None else None
    if code in THROTTLING_CODES and not _from_other_platform(error):
        failure_reason, status, retryable = "graph_throttled", 503, True
    elif result.transient:
        failure_reason, status, retryable = "graph_unavailable", 503, True
    else:
        failure_reason, status, retryable = "graph_error", 502, False
    return SendOutcome(
        status="failed",
        decision=decision,
        platform_message_id=None,
        graph_error=graph_error_dict(error),
        http_status=status,
        decision_id=decision_id,
        failure_reason=failure_reason,
        known_error=result.known_error,
        retryable=retryable,
    )


_OTHER_PLATFORMS = frozenset(c.value for c in Channel) - {c.value for c in META_CHANNELS}


def _from_other_platform(error: GraphError | None) -> bool:
    """Whether the error is another platform's (its codes are not Graph's: Viber's 4 is not throttling)."""
    return error is not None and error.type in _OTHER_PLATFORMS


def _error_label(error: GraphError | None) -> str | None:
    """``graph_190``, or the platform's own (``telegram_401``, ``wechat_40001``)."""
    if error is None or error.code is None:
        return None
    return f"{error.type}_{error.code}" if _from_other_platform(error) else f"graph_{error.code}"


def _unknown(decision: Decision, result: DeliveryResult, decision_id: str) -> SendOutcome:
    """Meta may have taken the message: never retryable (a retry could deliver it twice)."""
    return SendOutcome(
        status="unknown",
        decision=decision,
        platform_message_id=None,
        graph_error=graph_error_dict(result.error),
        http_status=502,
        decision_id=decision_id,
        failure_reason="delivery_unknown",
        known_error=result.known_error,
        retryable=False,
    )


def _contact_ids(account: AccountConfig, record: ContactRecord) -> dict[str, str]:
    return {
        "tenant_id": account.tenant_id,
        "channel": account.channel.value,
        "account_id": account.account_id,
        "contact_id": record.contact_id,
    }


def _log_sender(principal: Principal) -> str:
    sender = principal.sender()
    if sender.is_human:
        return f"human:{principal.subject}"
    return sender.automation.value if sender.automation else "bot"
