"""The contacts API routes of the send function (a powertools Router included by ``send_app``).

Each route reads the principal from the JWT authorizer's claims, validates path, query and body,
reads the clock (only here), calls ``windowkeeper.sending.contacts_service.ContactsService``, counts what
it did (one metric per request, flushed by ``send_app``'s ``log_metrics``) and answers the
service's dict as JSON. Errors are ``ApiError``s, answered and counted in the shared shape by the
handlers ``send_app`` installs (``install_api_error_handlers``).

- ``GET  /v1/contacts/{channel}/{account_id}/{contact_id}[?at=ISO]`` window state, paths, owner...
- ``POST /v1/contacts/{channel}/{account_id}/{contact_id}/handover`` ``{"to", "inbox"?}``
- ``POST /v1/contacts/{channel}/{account_id}/{contact_id}/consent`` ``{"scope", "action", "note"?}``
- ``GET  /v1/contacts/{channel}/{account_id}/{contact_id}/decisions?limit=&cursor=``
- ``GET  /v1/contacts/{channel}/{account_id}/{contact_id}/messages?limit=``
- ``GET  /v1/conversations?channel=&account_id=&sort=recent|closing&q=&limit=&cursor=``
- ``GET  /v1/accounts``
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from aws_lambda_powertools.metrics import MetricUnit

from windowkeeper.auth import Principal
from windowkeeper.clock import Clock, system_clock
from windowkeeper.http import ApiError, json_body, json_response, request_principal
from windowkeeper.ids import ACCOUNT_ID_MAX, CONTACT_ID_MAX, checked_id
from windowkeeper.instants import InstantError, parse_instant
from windowkeeper.observability import metrics
from windowkeeper.policy.model import Channel
from windowkeeper.sending.api_models import AuditFilters, ConsentRequest, HandoverRequest
from windowkeeper.sending.contacts_service import ContactRef
from windowkeeper.store.inbox_records import InboxSort
from windowkeeper.wiring import send as wiring

router = APIGatewayHttpRouter()  # type: ignore[no-untyped-call]  # untyped upstream

CONTACT = "/v1/contacts/<channel>/<account_id>/<contact_id>"
DECISIONS_DEFAULT_LIMIT = 20
AUDIT_DEFAULT_LIMIT = 50
MESSAGES_DEFAULT_LIMIT = 50
CONVERSATIONS_DEFAULT_LIMIT = 50

# The edge's clock: read once per request, and passed down as ``now`` (tests pin it).
utc_now: Clock = system_clock


# --- request parsing -----------------------------------------------------------------------------------
def _principal() -> Principal:
    return request_principal(router.current_event)


def _count(name: str) -> None:
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)


def _channel(value: str) -> Channel:
    try:
        return Channel(value)
    except ValueError as error:
        known = ", ".join(c.value for c in Channel)
        raise ApiError(
            400, "invalid_request", f"The request is not valid: channel: one of {known}."
        ) from error


def _ref(channel: str, account_id: str, contact_id: str) -> ContactRef:
    return ContactRef(
        channel=_channel(channel),
        account_id=checked_id("account_id", account_id, max_length=ACCOUNT_ID_MAX),
        contact_id=checked_id("contact_id", contact_id, max_length=CONTACT_ID_MAX),
    )


def _query(name: str) -> str | None:
    value = router.current_event.get_query_string_value(name)
    return value if value not in (None, "") else None


def _account_query() -> str | None:
    raw = _query("account_id")
    return checked_id("account_id", raw, max_length=ACCOUNT_ID_MAX) if raw is not None else None


def _limit(default: int) -> int:
    raw = _query("limit")
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError as error:
        raise ApiError(400, "invalid_request", "The request is not valid: limit: a whole number.") from error


def _instant(raw: str, name: str = "at") -> datetime:
    try:
        return parse_instant(raw)
    except InstantError as error:
        raise ApiError(
            400, "invalid_instant", f"The query parameter '{name}' is not usable: {error}."
        ) from error


def _optional_instant(name: str) -> datetime | None:
    raw = _query(name)
    return _instant(raw, name) if raw is not None else None


# --- routes ----------------------------------------------------------------------------------------
@router.get(CONTACT)
def get_contact(channel: str, account_id: str, contact_id: str) -> Response[Any]:
    principal = _principal()
    ref = _ref(channel, account_id, contact_id)
    at_raw = _query("at")
    now = utc_now()
    at = _instant(at_raw) if at_raw is not None else now
    body = wiring.contacts_service().contact_view(principal, ref, at=at, now=now)
    _count("ContactViews")
    return json_response(200, body)


@router.post(CONTACT + "/handover")
def post_handover(channel: str, account_id: str, contact_id: str) -> Response[Any]:
    principal = _principal()
    ref = _ref(channel, account_id, contact_id)
    request = HandoverRequest.model_validate(json_body(router.current_event))
    body = wiring.contacts_service().handover(principal, ref, request, utc_now())
    _count("HandoversRecorded" if body["changed"] else "HandoversUnchanged")
    return json_response(200, body)


@router.post(CONTACT + "/consent")
def post_consent(channel: str, account_id: str, contact_id: str) -> Response[Any]:
    principal = _principal()
    ref = _ref(channel, account_id, contact_id)
    request = ConsentRequest.model_validate(json_body(router.current_event))
    body = wiring.contacts_service().record_consent(principal, ref, request, utc_now())
    _count("ConsentChanges" if body["changed"] else "ConsentUnchanged")
    return json_response(200, body)


@router.get(CONTACT + "/decisions")
def get_decisions(channel: str, account_id: str, contact_id: str) -> Response[Any]:
    principal = _principal()
    ref = _ref(channel, account_id, contact_id)
    body = wiring.contacts_service().decisions(
        principal, ref, limit=_limit(DECISIONS_DEFAULT_LIMIT), cursor=_query("cursor"), now=utc_now()
    )
    _count("DecisionHistoryViews")
    return json_response(200, body)


@router.get(CONTACT + "/messages")
def get_messages(channel: str, account_id: str, contact_id: str) -> Response[Any]:
    principal = _principal()
    ref = _ref(channel, account_id, contact_id)
    body = wiring.contacts_service().messages(
        principal, ref, limit=_limit(MESSAGES_DEFAULT_LIMIT), now=utc_now()
    )
    _count("MessageHistoryViews")
    return json_response(200, body)


def _inbox_sort() -> InboxSort:
    raw = _query("sort") or "recent"
    if raw == "recent":
        return "recent"
    if raw == "closing":
        return "closing"
    raise ApiError(400, "invalid_request", "The request is not valid: sort: 'recent' or 'closing'.")


@router.get("/v1/conversations")
def get_conversations() -> Response[Any]:
    principal = _principal()
    channel_raw = _query("channel")
    body = wiring.contacts_service().conversations(
        principal,
        channel=_channel(channel_raw) if channel_raw is not None else None,
        account_id=_account_query(),
        limit=_limit(CONVERSATIONS_DEFAULT_LIMIT),
        now=utc_now(),
        sort=_inbox_sort(),
        q=(_query("q") or "").strip() or None,
        cursor=_query("cursor"),
    )
    _count("ConversationListViews")
    return json_response(200, body)


@router.get("/v1/audit")
def get_tenant_audit() -> Response[Any]:
    principal = _principal()
    filters = AuditFilters.model_validate(
        {name: value for name in AuditFilters.model_fields if (value := _query(name)) is not None}
    )
    body = wiring.contacts_service().tenant_audit(
        principal,
        filters,
        since=_optional_instant("since"),
        until=_optional_instant("until"),
        limit=_limit(AUDIT_DEFAULT_LIMIT),
        cursor=_query("cursor"),
        now=utc_now(),
    )
    _count("TenantAuditViews")
    return json_response(200, body)


@router.get("/v1/accounts")
def get_accounts() -> Response[Any]:
    body = wiring.contacts_service().accounts_of(_principal())
    _count("AccountListViews")
    return json_response(200, body)
