"""The webhook's use cases: the GET handshake and a POST of events. No HTTP framework here.

POST, in order (each step only after the previous one succeeded):

1. size (413 before any hashing), then the signature over the exact bytes (401);
2. parse: JSON, envelope, then each entry and event on its own. A body we cannot parse at all
   is quarantined whole and answered 200 (Meta would only resend the same bytes); an entry of
   an unknown account or an unparsable entry is refused and the body quarantined, the rest of
   the batch still processed; unknown event kinds are counted and the body quarantined;
3. one conditional ``UpdateItem`` per contact (``store/contact_writer.py``), one ``BatchWriteItem`` round for
   the conversation log, ``PutEvents`` in batches of 10, at most one S3 put; chunk by chunk of
   contacts, each only while the invocation has ``TIME_RESERVE_SECONDS`` left: a body that would
   not finish is quarantined as ``deferred_over_time`` after the chunks done (replaying it applies
   the rest), never timed out half-way;
4. 200 ``{"status": "ok", "events": n}``. Any storage failure answers 500 so Meta retries; every
   write above is idempotent, so a retry repeats nothing harmful (events carry stable ids).

``WebhookService`` takes its stores, bucket, bus and secret as ports (``ports/webhook.py``);
``wiring/webhook.py`` builds the real ones once per container.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aws_lambda_powertools import Logger
from pydantic import ValidationError

from windowkeeper import errors
from windowkeeper.accounts import AccountConfig
from windowkeeper.asof import entry_from_observation
from windowkeeper.auth import Principal
from windowkeeper.events import BusEvent, DetailType
from windowkeeper.ingest.channels import reader_for
from windowkeeper.ingest.channels.base import ChannelEvents, InboundRefused, InboundRequest, UnparsableBody
from windowkeeper.ingest.delta import ContactDelta, collapse
from windowkeeper.ingest.due import next_due
from windowkeeper.ingest.ledger import consent_ledger_record
from windowkeeper.ingest.models import Envelope
from windowkeeper.ingest.normalize import OBJECT_CHANNEL, normalize
from windowkeeper.ingest.observations import ContactKey, Normalized, Observation, PageNotice
from windowkeeper.ingest.scrub import may_hold_lone_surrogate, scrub_lone_surrogates
from windowkeeper.ingest.signature import SIGNATURE_HEADER, check_signature, check_subscription
from windowkeeper.instants import from_ms, to_ms
from windowkeeper.ownership import effective_owner
from windowkeeper.policy.model import Channel
from windowkeeper.ports.webhook import WebhookPorts
from windowkeeper.store.contact_item import ContactRecord
from windowkeeper.store.contact_write_plan import WriteResult
from windowkeeper.store.health_records import AccountHealth, health_changed_event
from windowkeeper.store.history_records import contact_history_item
from windowkeeper.store.message_records import message_item

logger = Logger(child=True)

# One invocation writes chunk after chunk while at least TIME_RESERVE_SECONDS are left (room for
# one more chunk, the quarantine put and the answer); the rest of the body is deferred.
TIME_RESERVE_SECONDS = 3.0
CHUNK_CONTACTS = 25
CHUNK_EVENTS = 100


@dataclass
class Outcome:
    """What to answer, and the counters the handler turns into metrics."""

    status: int
    body: dict[str, Any] | str
    metrics: dict[str, int] = field(default_factory=dict)

    @property
    def content_type(self) -> str:
        return "text/plain" if isinstance(self.body, str) else "application/json"


def _error(status: int, reason: str, message: str, **metrics: int) -> Outcome:
    return Outcome(status, {"status": "error", "reason": reason, "message": message}, dict(metrics))


# ---------------------------------------------------------------- GET: subscription handshake


def handle_subscription(params: Mapping[str, str], ports: WebhookPorts) -> Outcome:
    verify_token = str(ports.webhook_secret().get("verify_token") or "")
    challenge = check_subscription(params, verify_token)
    if challenge is None:
        logger.warning("webhook subscription refused", extra={"mode": params.get("hub.mode")})
        return _error(
            403,
            "verification_failed",
            "The subscription request was refused: hub.mode must be 'subscribe' and "
            "hub.verify_token must match the configured verify token.",
            SubscriptionRefused=1,
        )
    return Outcome(200, challenge, {"SubscriptionVerified": 1})


# ---------------------------------------------------------------- POST: events


def handle_post(
    body: bytes,
    headers: Mapping[str, str],
    ports: WebhookPorts,
    *,
    now: datetime,
    time_left: Callable[[], float] | None = None,
) -> Outcome:
    """``time_left``: seconds this invocation has left (the Lambda context's); None: unbounded."""
    if len(body) > ports.max_body_bytes:
        logger.warning("webhook body too large", extra={"bytes": len(body), "limit": ports.max_body_bytes})
        return _error(
            413,
            "body_too_large",
            f"The body is {len(body)} bytes; at most {ports.max_body_bytes} are accepted.",
            BodyTooLarge=1,
        )
    try:
        app_secret = str(ports.webhook_secret()["app_secret"])
    except secret_errors(ports) as error:
        logger.error("webhook secret unavailable", extra={"error": type(error).__name__})
        return _error(500, "secret_unavailable", "The webhook secret could not be read; try again later.")
    problem = check_signature(body, _header(headers, SIGNATURE_HEADER), app_secret)
    if problem is not None:
        logger.warning("webhook signature rejected", extra={"reason": problem.value})
        message = (
            "The X-Hub-Signature-256 header is missing."
            if problem.value == "signature_missing"
            else "The X-Hub-Signature-256 header does not match the body signed with the app secret."
        )
        return _error(401, problem.value, message, SignatureRejected=1)
    try:
        return _process(body, ports, now, time_left)
    except ports.backend_errors as error:
        return _storage_failure(error, "Meta")


def _storage_failure(error: Exception, sender: str) -> Outcome:
    """500, so the sender delivers the body again (every write is idempotent)."""
    logger.exception("webhook storage failure", extra={"error": type(error).__name__})
    return _error(
        500,
        "storage_unavailable",
        f"The events could not be stored; {sender} will deliver them again.",
        StorageFailures=1,
    )


def secret_errors(ports: WebhookPorts) -> tuple[type[Exception], ...]:
    """What reading a secret raises when it is missing, malformed or its store is down."""
    return (*ports.backend_errors, KeyError, ValueError)


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is not None:
        return value
    return next((v for k, v in headers.items() if k.lower() == name), None)


def _process(
    body: bytes, ports: WebhookPorts, now: datetime, time_left: Callable[[], float] | None
) -> Outcome:
    try:
        payload = json.loads(body)
    except RecursionError:
        return _quarantine_whole(body, ports, now, "json_too_deep", "the body nests too deep to parse")
    except ValueError:
        return _quarantine_whole(body, ports, now, "invalid_json", "the body is not JSON")
    # Text no store accepts (a lone surrogate) is replaced before anything is written, so the
    # batch applies whole and a retry converges; the exact body is quarantined to show what came.
    unencodable = scrub_lone_surrogates(payload)[1] if may_hold_lone_surrogate(body) else 0
    try:
        envelope = Envelope.model_validate(payload)
    except ValidationError as error:
        first = error.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        return _quarantine_whole(body, ports, now, "schema_invalid", f"{where}: {first['msg']}")
    if envelope.object not in OBJECT_CHANNEL:
        return _quarantine_whole(body, ports, now, "unsupported_object", f"object {envelope.object}")

    normalized = normalize(envelope, ports.accounts.get_for_webhook)
    return _apply(
        body,
        normalized,
        ports,
        now,
        time_left,
        webhook_object=envelope.object,
        entries=len(envelope.entry),
        unencodable=unencodable,
    )


def _apply(
    body: bytes,
    normalized: Normalized,
    ports: WebhookPorts,
    now: datetime,
    time_left: Callable[[], float] | None,
    *,
    webhook_object: str,
    entries: int,
    unencodable: int,
    answer: Callable[[int], tuple[int, dict[str, Any] | str]] | None = None,
) -> Outcome:
    """What every channel's POST shares once its events are observations: one conditional write per
    contact, the conversation log and journal, the bus, quarantine of what could not be used, the
    deferral of what did not fit in the invocation. ``answer`` shapes a channel's own reply."""
    deltas = collapse(normalized.observations)
    writer = ports.contact_writer(lambda record: _due(record, normalized, now))
    results: dict[ContactKey, WriteResult] = {}
    logged = published = journaled = 0
    chunks = _chunks(normalized.observations)
    done = 0
    # Chunk by chunk (state, log, events), each only while the invocation has time for it: a
    # body too big to finish is deferred whole rather than timed out half-way (see ARCHITECTURE).
    for chunk in chunks:
        if time_left is not None and done and time_left() < TIME_RESERVE_SECONDS:
            break
        for key in dict.fromkeys(o.key for o in chunk):
            if key in deltas:
                results[key] = writer.write(deltas[key])
        chunk_logged, chunk_journaled = _log_and_journal(ports, normalized, chunk)
        logged += chunk_logged
        journaled += chunk_journaled
        bus_events = _bus_events(normalized, deltas, results, now, chunk)
        published += ports.publish(bus_events) if bus_events else 0
        done += 1
    deferred_contacts = len({o.key for chunk in chunks[done:] for o in chunk})

    reasons = sorted(
        {r.reason for r in normalized.rejections}
        | ({"unknown_event_kind"} if normalized.unknown_kinds else set())
        | ({"unencodable_text"} if unencodable else set())
        | ({"deferred_over_time"} if deferred_contacts else set())
    )
    if reasons:
        detail = "; ".join(
            [f"{r.reason} {r.webhook_object}/{r.entry_id} {r.detail}".strip() for r in normalized.rejections]
            + [f"unknown {kind}" for kind in sorted(set(normalized.unknown_kinds))]
            + ([f"unencodable_text {unencodable} lone surrogate(s) stored as U+FFFD"] if unencodable else [])
            + (
                [
                    f"deferred_over_time {deferred_contacts} of {len(deltas)} contacts not written: "
                    "replay the body (idempotent) to apply them"
                ]
                if deferred_contacts
                else []
            )
        )
        ports.quarantine.put(body, reason=",".join(reasons), received_at=now, detail=detail)
    blocked = sum(_note_enforcement(ports, notice, now) for notice in normalized.page_notices)
    templates_changed = sum(
        ports.templates.apply(account.channel, account.account_id, notice.change)
        for notice in normalized.template_notices
        for account in notice.accounts
    )

    writes = sum(r.writes for r in results.values())
    unknown_accounts = sum(1 for r in normalized.rejections if r.reason == "unknown_account")
    logger.info(
        "webhook processed",
        extra={
            "object": webhook_object,
            "entries": entries,
            "events": normalized.events,
            "contacts": len(deltas),
            "state_writes": writes,
            "published": published,
            "logged_messages": logged,
            "journaled": journaled,
            "refused_entries": len(normalized.rejections),
            "unknown_kinds": sorted(set(normalized.unknown_kinds)),
        },
    )
    ok: dict[str, Any] = {"status": "ok", "events": normalized.events}
    if deferred_contacts:
        logger.warning("webhook body deferred", extra={"deferred_contacts": deferred_contacts})
        ok["deferred_contacts"] = deferred_contacts
    reply: dict[str, Any] | str = ok
    status = 200
    if answer is not None:
        status, reply = answer(normalized.events)
    return Outcome(
        status,
        reply,
        {
            "ParsedEvents": normalized.events,
            "StateWrites": writes,
            "ContactsUpdated": sum(1 for r in results.values() if r.writes),
            "PublishedEvents": published,
            "LoggedMessages": logged,
            "UnknownAccount": unknown_accounts,
            "UnknownEventKinds": len(normalized.unknown_kinds),
            "UnencodableText": unencodable,
            "WebhookDeferred": 1 if deferred_contacts else 0,
            "DeferredContacts": deferred_contacts,
            "Quarantined": 1 if reasons else 0,
            "AccountUnavailable": blocked,  # AccountUnavailableAlarm
            "TemplateStateChanges": templates_changed,
        },
    )


def _note_enforcement(ports: WebhookPorts, notice: PageNotice, now: datetime) -> bool:
    """Meta's policy enforcement for an account: a ``block`` stops its sends (kept as the account's
    health, at the notice's own instant), an ``unblock`` lifts it, a ``warning`` is logged.
    True when a block was recorded."""
    account = notice.account
    logger.warning(
        "Meta policy enforcement on an account",
        extra={"account_id": account.account_id, "action": notice.action},
    )
    if notice.action not in ("block", "unblock"):
        return False
    current = ports.health.get(account.channel, account.account_id)
    previous = current.status if current is not None else "ok"
    if notice.action == "unblock" and previous != "blocked":
        return False  # nothing of ours to lift (a token or restriction problem is not Meta's block)
    changed = AccountHealth(
        channel=account.channel,
        account_id=account.account_id,
        tenant_id=account.tenant_id,
        status="blocked" if notice.action == "block" else "ok",
        since_ms=notice.at_ms,
        changed_ms=notice.at_ms,
        reason=f"policy_{notice.action}",
        detail=notice.reason,
    )
    if not ports.health.record(changed):
        return False  # a newer fact about the account is kept already
    ports.publish([health_changed_event(changed, previous, now)])
    return changed.blocks_sends


def _quarantine_whole(body: bytes, ports: WebhookPorts, now: datetime, reason: str, detail: str) -> Outcome:
    key = ports.quarantine.put(body, reason=reason, received_at=now, detail=detail)
    logger.warning("webhook body quarantined", extra={"reason": reason, "key": key, "bytes": len(body)})
    return Outcome(
        200, {"status": "ok", "events": 0, "quarantined": reason}, {"Quarantined": 1, "ParsedEvents": 0}
    )


def _account(normalized: Normalized, key: ContactKey) -> AccountConfig:
    return normalized.accounts[(key.channel, key.account_id)]


def _due(record: ContactRecord, normalized: Normalized, now: datetime) -> dict[str, Any] | None:
    account = normalized.accounts[(record.channel, record.account_id)]
    return next_due(record, account.profile(), now)


def _chunks(observations: Sequence[Observation]) -> list[list[Observation]]:
    """Observations grouped by contact (first-seen order), cut into chunks of about
    ``CHUNK_CONTACTS`` contacts or ``CHUNK_EVENTS`` events: one contact is never split."""
    by_contact: dict[ContactKey, list[Observation]] = {}
    for observation in observations:
        by_contact.setdefault(observation.key, []).append(observation)
    chunks: list[list[Observation]] = []
    current: list[Observation] = []
    contacts = 0
    for group in by_contact.values():
        if current and (contacts >= CHUNK_CONTACTS or len(current) + len(group) > CHUNK_EVENTS):
            chunks.append(current)
            current, contacts = [], 0
        current.extend(group)
        contacts += 1
    if current:
        chunks.append(current)
    return chunks


def _log_and_journal(
    ports: WebhookPorts, normalized: Normalized, observations: Sequence[Observation]
) -> tuple[int, int]:
    """Conversation-log items, the contacts' journal entries (``store/history_table.py``) and the
    consent ledger's audit records, written together, one ``BatchWriteItem`` per 25 (a put of the
    same key is harmless). Returns (log items, journal entries)."""
    items: dict[tuple[str, str], dict[str, Any]] = {}
    journaled = logged = 0
    for observation in observations:
        entry = entry_from_observation(observation)
        if entry is None:
            continue
        account = _account(normalized, observation.key)
        key = observation.key
        item = contact_history_item(
            key.channel, key.account_id, key.contact_id, entry, retention_days=account.audit_retention_days
        )
        if (item["pk"], item["sk"]) not in items:
            items[(item["pk"], item["sk"])] = item
            journaled += 1
    for observation in observations:
        ledger = consent_ledger_record(observation, _account(normalized, observation.key))
        if ledger is not None:  # the consent ledger rides the same BatchWriteItem rounds
            items[(ledger["pk"], ledger["sk"])] = ledger
        line = observation.log
        if line is None:
            continue
        account = _account(normalized, observation.key)
        at = from_ms(observation.at_ms)
        assert at is not None
        item = message_item(
            channel=observation.key.channel,
            account_id=observation.key.account_id,
            contact_id=observation.key.contact_id,
            message_id=line.message_id,
            direction=line.direction,
            at=at,
            kind=line.kind,
            text=line.text,
            sender=line.sender,
            retention_days=account.message_retention_days,
        )
        if (item["pk"], item["sk"]) not in items:
            logged += 1
        items[(item["pk"], item["sk"])] = item  # one batch must not name a key twice
    ports.items.put_all(list(items.values()))
    return logged, journaled


def _bus_events(
    normalized: Normalized,
    deltas: Mapping[ContactKey, ContactDelta],
    results: Mapping[ContactKey, WriteResult],
    now: datetime,
    observations: Sequence[Observation] | None = None,
) -> list[BusEvent]:
    """The bus events of ``observations`` (default: all of the POST's)."""
    out: list[BusEvent] = []
    owners: dict[ContactKey, str] = {}  # who holds each contact after this POST: read once per contact
    for observation in normalized.observations if observations is None else observations:
        if observation.detail_type is None:
            continue
        detail = {**observation.detail, "at": _iso(observation.at_ms)}
        if observation.detail_type == DetailType.CUSTOMER_ACTION:
            if observation.standby:
                detail["route"] = "human"  # another app (Meta's inbox) holds the thread
            else:
                key = observation.key
                if key not in owners:
                    owners[key] = _owner(key, normalized, results.get(key), now)
                detail["route"] = owners[key]
        out.append(BusEvent(observation.detail_type, observation.event_id, detail))
    return out


def _owner(key: ContactKey, normalized: Normalized, result: WriteResult | None, now: datetime) -> str:
    """``human`` when a person holds the conversation after this POST's write, else ``bot``."""
    if result is None or not result.item:
        return "bot"
    record = ContactRecord.from_item(result.item)
    return effective_owner(record, _account(normalized, key).profile(), now).owner


def _iso(at_ms: int) -> str:
    at = from_ms(at_ms)
    assert at is not None
    return at.isoformat()


# ---------------------------------------------------------------- the other channels


def handle_channel(
    channel_name: str,
    account_id: str,
    request: InboundRequest,
    ports: WebhookPorts,
    *,
    now: datetime,
    time_left: Callable[[], float] | None = None,
) -> Outcome:
    """``GET|POST /webhook/{channel}/{account_id}``: a Viber, Telegram, LINE, WeChat or web-chat event.

    The URL names the account (each platform's webhook is set per bot); the platform's proof is
    checked with that account's credentials before anything is read. Then as Meta's POST: one
    conditional write per contact, log, bus, quarantine of what cannot be used.
    """
    reader = reader_for(Channel(channel_name)) if channel_name in _CHANNEL_NAMES else None
    if reader is None:
        return _error(
            404,
            "unknown_channel",
            f"No webhook is served for channel '{channel_name}' here; Meta's channels post to /webhook.",
        )
    if len(request.body) > ports.max_body_bytes:
        return _error(
            413,
            "body_too_large",
            f"The body is {len(request.body)} bytes; at most {ports.max_body_bytes} are accepted.",
            BodyTooLarge=1,
        )
    account = ports.accounts.get(reader.channel, account_id)
    if account is None:
        logger.warning("channel webhook for an unknown account", extra={"channel": channel_name})
        return _error(
            404,
            "unknown_account",
            f"No {reader.channel.value} account '{account_id}' is configured here.",
            UnknownAccount=1,
        )
    try:
        credentials = ports.channel_credentials(account)
    except secret_errors(ports) as error:
        logger.error("channel credentials unavailable", extra={"error": type(error).__name__})
        return _error(
            500, "secret_unavailable", "The account's credentials could not be read; try again later."
        )
    try:
        if request.method == "GET":
            handshake = reader.handshake(request, credentials)
            if handshake is None:
                return _error(405, "method_not_allowed", f"{channel_name} webhooks are POSTed, not fetched.")
            return Outcome(handshake.status, handshake.body, {"SubscriptionVerified": 1})
        reader.verify(request, credentials, now)
    except InboundRefused as refused:
        logger.warning("channel webhook refused", extra={"channel": channel_name, "reason": refused.reason})
        return _error(refused.status, refused.reason, refused.message, SignatureRejected=1)
    events = ChannelEvents(account, received_ms=to_ms(now))
    try:
        reader.parse(request, account, events)
    except UnparsableBody as unparsable:
        # The detail names the account: a channel body does not (its URL did), and a replay needs it.
        where = f"{reader.channel.value}/{account.account_id}: {unparsable.detail}"
        outcome = _quarantine_whole(request.body, ports, now, unparsable.reason, where)
        ack = reader.ack(0)
        return Outcome(ack.status, ack.body, outcome.metrics)

    def answer(events_seen: int) -> tuple[int, dict[str, Any] | str]:
        ack = reader.ack(events_seen)
        return ack.status, ack.body

    return apply_channel_events(
        request.body, events, ports, now=now, time_left=time_left, webhook_object=channel_name, answer=answer
    )


def apply_channel_events(
    body: bytes,
    events: ChannelEvents,
    ports: WebhookPorts,
    *,
    now: datetime,
    time_left: Callable[[], float] | None,
    webhook_object: str,
    answer: Callable[[int], tuple[int, dict[str, Any] | str]] | None = None,
) -> Outcome:
    """An authenticated body's events for one account, applied as Meta's are (``_apply``); a
    storage failure answers 500 so the platform (or Lambda, for SNS) delivers the body again.
    Shared by the HTTP channels and the ones AWS delivers (``ingest/aws_inbound.py``)."""
    try:
        return _apply(
            body,
            events.out,
            ports,
            now,
            time_left,
            webhook_object=webhook_object,
            entries=1,
            unencodable=events.unencodable,
            answer=answer,
        )
    except ports.backend_errors as error:
        return _storage_failure(error, "the platform")


_CHANNEL_NAMES = frozenset(c.value for c in Channel)


# ---------------------------------------------------------------- POST /v1/events


def handle_customer_events(
    payload: Any, principal: Principal, ports: WebhookPorts, *, now: datetime
) -> Outcome:
    """Customer actions and consent from a platform that hears the channel itself (``events_api``).

    Automation principals of the account's tenant only: an agent does not report what a customer
    did, and another tenant's account is not named (404 and 403 as the send API answers them).
    Raises ``errors.DomainError`` (400/403/404) and ``ValidationError`` (400) for the handler to shape.
    """
    if principal.is_human_agent:
        raise errors.Forbidden(
            "automation_only",
            "Customer events are reported by automation (the platform's integration), not agents.",
        )
    # Imported here: its models are built on first use, not on every Meta webhook's cold start.
    from windowkeeper.ingest.channels.events_api import CustomerEventsRequest, file_events  # noqa: PLC0415

    request = CustomerEventsRequest.model_validate(payload)
    account = ports.accounts.get(request.channel, request.account_id)
    if account is None:
        raise errors.NotFound(
            "unknown_account", f"No {request.channel.value} account '{request.account_id}' is configured."
        )
    if account.tenant_id != principal.tenant_id:
        logger.warning(
            "customer events for another tenant's account", extra={"caller_tenant": principal.tenant_id}
        )
        raise errors.Forbidden("forbidden_tenant", "This account belongs to another tenant.")
    events = ChannelEvents(account, received_ms=to_ms(now))
    file_events(request, events)
    body = json.dumps(payload, sort_keys=True, default=str).encode()
    return _apply(body, events.out, ports, now, None, webhook_object="api_events", entries=1, unencodable=0)


# ---------------------------------------------------------------- GET /webhook/webchat/{account}/messages

WEBCHAT_MESSAGES_LIMIT = 50


def handle_webchat_messages(
    account_id: str, request: InboundRequest, ports: WebhookPorts, *, now: datetime
) -> Outcome:
    """A web-chat widget reads its visitor's conversation: the newest messages after ``?after=``
    (epoch ms), for the visitor its token names and no one else."""
    from windowkeeper.ingest.channels.webchat import visitor_claims  # noqa: PLC0415  (web chat only)

    account = ports.accounts.get(Channel.WEBCHAT, account_id)
    if account is None:
        return _error(404, "unknown_account", f"No webchat account '{account_id}' is configured here.")
    try:
        secret = str(ports.channel_credentials(account)["widget_secret"])
    except secret_errors(ports) as error:
        logger.error("channel credentials unavailable", extra={"error": type(error).__name__})
        return _error(
            500, "secret_unavailable", "The account's credentials could not be read; try again later."
        )
    try:
        claims = visitor_claims(request, secret, now)
    except InboundRefused as refused:
        return _error(refused.status, refused.reason, refused.message)
    after = request.query.get("after", "0")
    if not after.isdigit():
        return _error(400, "invalid_request", "The request is not valid: after: epoch milliseconds.")
    try:
        logged = ports.conversation.list(
            Channel.WEBCHAT, account_id, str(claims["sub"]), now=now, limit=WEBCHAT_MESSAGES_LIMIT
        )
    except ports.backend_errors as error:
        return _storage_failure(error, "the widget")
    messages = [
        {
            "id": m.message_id,
            "from": "visitor" if m.direction == "in" else "business",
            "text": m.text,
            "at": _iso(m.at_ms),
            "at_ms": m.at_ms,
        }
        for m in logged
        if m.at_ms > int(after) and m.status in (None, "sent")
    ]
    return Outcome(200, {"status": "ok", "messages": messages})
