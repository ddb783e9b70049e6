"""``GraphClient``: delivers a decided message through Meta's Graph API with httpx.

Sent or not. Meta's Send APIs take no idempotency key, so every failure is read as one of:

* *certainly not sent*: nothing reached Meta (connect errors and timeouts, no free connection),
  HTTP 429, or Meta's Graph layer answered with its error envelope. A 5xx *with* a Graph error
  body (codes 1 "unknown error, retry" and 2 "service temporarily unavailable", ``is_transient``)
  is Meta saying the call failed as a whole, so it did not send; the error table's ``transient``
  flag (throttling codes 4, 613, 80007, 130429, 131056, 131057; codes 1 and 2) decides whether a
  retry may help. These are retried, and when attempts run out the result is ``transient``.
* *may have been sent* (``delivery_unknown``): the request went out and no Graph answer came
  back: a read or write timeout, a connection dropped mid-response, a 5xx without a Graph error
  body (a proxy or load balancer in front of Meta; the call may have been processed behind it).
  For the Send API these are **not retried** (``retry_ambiguous_sends=False``, the default): a
  retry could deliver the message twice, and the send endpoint answers "unknown" instead.
  Thread-control calls set state, so repeating them is harmless: they are retried.
* every other answer is final: a 4xx is Meta's verdict on this request.

Retries. Up to ``max_attempts`` calls, with exponential back-off and full jitter between them
(``sleep(random() * min(cap, base * 2**(n-1)))``, or Meta's ``Retry-After`` when it sends one).

Time budget. ``deadline_seconds`` (``GRAPH_BUDGET_SECONDS`` = 20 s) bounds the whole delivery,
attempts and back-off included: an attempt starts only if at least ``MIN_ATTEMPT_SECONDS``
remain after its back-off, and its httpx timeouts (``ATTEMPT_TIMEOUT``: connect 3 s, write 3 s,
read 10 s, pool 1 s; 17 s worst case) are scaled down so that their sum fits in what remains.
The send function's Lambda ``Timeout`` is 29 s (``infra/template.yaml``; API Gateway's
integration limit is 30 s), which leaves 9 s for the reads and the claim before delivery and the
audit, contact and log writes after it. (httpx's read timeout is per socket read; a Graph
answer is a single small JSON body, so one read.)

Tokens come from ``token_provider(account)`` and travel only in the ``Authorization: Bearer``
header: never in the URL, never in a log record. Errors from the token provider (a missing
secret) propagate: that is a configuration failure, not a delivery result.
"""

from __future__ import annotations

import dataclasses
import logging
import random as random_module
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from windowkeeper.accounts import AccountConfig
from windowkeeper.graph.errors import classify, contact_effects
from windowkeeper.graph.request_builder import GraphRequest, build_send_request, thread_control_request
from windowkeeper.graph.results import NO_EFFECTS, DeliveryResult, GraphError, local_refusal
from windowkeeper.policy.model import META_CHANNELS, Channel, ContactState, Content, Decision, ReasonCode

logger = logging.getLogger(__name__)

TokenProvider = Callable[[AccountConfig], str]

SAFE_TO_RETRY = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)  # nothing reached Meta

GRAPH_BUDGET_SECONDS = 20.0  # whole delivery; the send function's Timeout (29 s) leaves 9 s around it
ATTEMPT_TIMEOUT = httpx.Timeout(connect=3.0, write=3.0, read=10.0, pool=1.0)
MIN_ATTEMPT_SECONDS = 2.0  # less than this left: a new attempt could not even connect and answer
# What the send function needs besides the Graph budget: the account/contact reads and the claim
# before delivery, the audit, contact and log writes after it (each a few botocore retries at most).
RESERVED_AROUND_DELIVERY_SECONDS = 8.0


@dataclass(frozen=True)
class _Outcome:
    result: DeliveryResult
    retry_after: float | None = None
    ambiguous: bool = False  # the request may have been processed by Meta


def _phases(timeout: httpx.Timeout) -> dict[str, float]:
    phases = {"connect": timeout.connect, "write": timeout.write, "read": timeout.read, "pool": timeout.pool}
    if any(v is None for v in phases.values()):
        raise ValueError("every phase of the attempt timeout must be bounded when a budget is set")
    return {k: float(v) for k, v in phases.items() if v is not None}


class GraphClient:
    def __init__(
        self,
        base_url: str,
        version: str,
        token_provider: TokenProvider,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: float | httpx.Timeout = ATTEMPT_TIMEOUT,
        max_attempts: int = 4,
        sleep: Callable[[float], None] = time.sleep,
        random: Callable[[], float] = random_module.random,
        monotonic: Callable[[], float] = time.monotonic,
        backoff_base: float = 0.5,
        backoff_cap: float = 8.0,
        deadline_seconds: float | None = GRAPH_BUDGET_SECONDS,
        retry_ambiguous_sends: bool = False,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.version = version.strip("/")
        self._token_provider = token_provider
        self._timeout = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)
        if deadline_seconds is not None:
            _phases(self._timeout)  # fail at construction, not mid-send
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"),
            transport=transport,
            timeout=self._timeout,
            follow_redirects=False,
            headers={"Accept": "application/json"},
        )
        self._max_attempts = max_attempts
        self._sleep = sleep
        self._random = random
        self._monotonic = monotonic
        self._backoff_base = backoff_base
        self._backoff_cap = backoff_cap
        self._deadline_seconds = deadline_seconds
        self._retry_ambiguous_sends = retry_ambiguous_sends

    # --- public API -------------------------------------------------------------------------

    def send(
        self, account: AccountConfig, contact: ContactState, decision: Decision, content: Content
    ) -> DeliveryResult:
        """Deliver ``content`` the way ``decision`` says. Only allowed decisions may be delivered."""
        if not decision.allowed:
            raise ValueError("refusing to deliver a message the policy engine did not allow")
        if contact.channel not in META_CHANNELS or account.channel is not contact.channel:
            return local_refusal(
                ReasonCode.CHANNEL_UNSUPPORTED, f"{contact.channel.value} is not a Graph API channel"
            )
        return self._execute(
            account,
            build_send_request(account, contact, decision, content),
            retry_ambiguous=self._retry_ambiguous_sends,
        )

    def pass_thread_control(
        self, account: AccountConfig, contact_id: str, target_app_id: str, metadata: str = ""
    ) -> DeliveryResult:
        return self._thread_control(
            account, contact_id, "pass_thread_control", target_app_id=target_app_id, metadata=metadata
        )

    def take_thread_control(
        self, account: AccountConfig, contact_id: str, metadata: str = ""
    ) -> DeliveryResult:
        return self._thread_control(account, contact_id, "take_thread_control", metadata=metadata)

    def release_thread_control(self, account: AccountConfig, contact_id: str) -> DeliveryResult:
        return self._thread_control(account, contact_id, "release_thread_control")

    def message_templates(self, account: AccountConfig) -> list[dict[str, Any]]:
        """The WABA's templates as the WhatsApp Business Management API lists them, every page.

        ``GET /{waba_id}/message_templates`` with the fields a registry needs. Raises
        ``TemplateListError`` with Meta's error when a page is refused (a read: safe to retry).
        """
        if account.waba_id is None:
            raise TemplateListError(GraphError(code=None, message="the account names no waba_id"))
        headers = {"Authorization": f"Bearer {self._token_provider(account)}"}
        url: str | None = f"/{self.version}/{account.waba_id}/message_templates"
        params: dict[str, str] | None = {"fields": TEMPLATE_FIELDS, "limit": "100"}
        found: list[dict[str, Any]] = []
        while url is not None:
            response = self._get_page(url, params, headers)
            data = _json_object(response)
            if response.status_code != 200:
                raise TemplateListError(_graph_error(data, response.status_code)[0])
            found.extend(item for item in data.get("data", []) if isinstance(item, dict))
            paging = data.get("paging")
            url = paging.get("next") if isinstance(paging, dict) else None
            params = None  # the next link carries every parameter, the cursor included
        return found

    def user_profile_name(self, account: AccountConfig, contact_id: str) -> str | None:
        """The person's name from Meta's User Profile API, or None when Meta gives none or refuses.

        Messenger ``GET /{PSID}?fields=first_name,last_name``, Instagram ``GET /{IGSID}?fields=
        name,username`` (the name, else ``@username``), with the Page token. One attempt with a
        short timeout and no retry: the inbox asks on a read and may ask again later.
        """
        fields = PROFILE_FIELDS.get(account.channel)
        if fields is None or not _PATH_SAFE_ID.fullmatch(contact_id):  # an id, never a path
            return None
        headers = {"Authorization": f"Bearer {self._token_provider(account)}"}
        try:
            response = self._http.get(
                f"/{self.version}/{contact_id}",
                params={"fields": fields},
                headers=headers,
                timeout=PROFILE_TIMEOUT_SECONDS,
            )
        except httpx.HTTPError:
            return None
        if response.status_code != 200:
            return None
        return profile_display_name(_json_object(response))

    def _get_page(self, url: str, params: dict[str, str] | None, headers: dict[str, str]) -> httpx.Response:
        """One page, retried on throttling, 5xx and connection failures (a read repeats nothing)."""
        for attempt in range(1, self._max_attempts + 1):
            try:
                response = self._http.get(url, params=params, headers=headers)
            except httpx.TransportError:
                if attempt == self._max_attempts:
                    raise
            else:
                if response.status_code < 500 and response.status_code != 429:
                    return response
                if attempt == self._max_attempts:
                    return response
            self._sleep(self._backoff(attempt, None))
        raise AssertionError("unreachable")  # the loop returns or raises on its last attempt

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> GraphClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # --- internals --------------------------------------------------------------------------

    def _thread_control(
        self, account: AccountConfig, contact_id: str, action: str, **fields: str
    ) -> DeliveryResult:
        if account.channel not in (Channel.MESSENGER, Channel.INSTAGRAM):
            return local_refusal(
                ReasonCode.CHANNEL_UNSUPPORTED, f"no thread control on {account.channel.value}"
            )
        # Setting the thread owner twice is harmless, so an ambiguous failure is retried.
        return self._execute(
            account, thread_control_request(account, contact_id, action, **fields), retry_ambiguous=True
        )

    def _attempt_timeout(self, remaining: float | None) -> httpx.Timeout:
        """The attempt's httpx timeouts, scaled down so their sum fits in ``remaining`` seconds."""
        if remaining is None:
            return self._timeout
        phases = _phases(self._timeout)
        total = sum(phases.values())
        if total <= remaining:
            return self._timeout
        scale = remaining / total
        return httpx.Timeout(**{name: value * scale for name, value in phases.items()})

    def _execute(
        self, account: AccountConfig, request: GraphRequest, *, retry_ambiguous: bool
    ) -> DeliveryResult:
        headers = {"Authorization": f"Bearer {self._token_provider(account)}"}
        url = f"/{self.version}/{request.path}"
        started = self._monotonic()
        attempt = 0
        delay = 0.0
        maybe_sent = False  # an earlier attempt may have been processed by Meta
        result: DeliveryResult | None = None
        while True:
            remaining = None
            if self._deadline_seconds is not None:
                remaining = self._deadline_seconds - (self._monotonic() - started) - delay
            if result is not None:  # a retry: only if it can still finish inside the budget
                if remaining is not None and remaining < MIN_ATTEMPT_SECONDS:
                    return _settled(result, maybe_sent)
                self._sleep(delay)
            attempt += 1
            outcome = self._attempt(
                url,
                headers,
                request,
                attempt,
                timeout=self._attempt_timeout(remaining),
                retry_ambiguous=retry_ambiguous,
            )
            result = outcome.result
            maybe_sent = maybe_sent or outcome.ambiguous
            logger.info(
                "graph call",
                extra={
                    "channel": request.channel.value,
                    "edge": request.path.rsplit("/", 1)[-1],
                    "attempt": attempt,
                    "http_status": result.http_status,
                    "ok": result.ok,
                    "error_code": result.error.code if result.error else None,
                    "error_subcode": result.error.subcode if result.error else None,
                    "reason": result.reason.value if result.reason else None,
                    "known": result.known_error,
                    "ambiguous": outcome.ambiguous,
                },
            )
            if result.ok or not result.transient or attempt >= self._max_attempts:
                return _settled(result, maybe_sent)
            delay = self._backoff(attempt, outcome.retry_after)

    def _attempt(
        self,
        url: str,
        headers: dict[str, str],
        request: GraphRequest,
        attempt: int,
        *,
        timeout: httpx.Timeout,
        retry_ambiguous: bool,
    ) -> _Outcome:
        try:
            response = self._http.post(url, json=request.body, headers=headers, timeout=timeout)
        except httpx.TransportError as exc:
            if isinstance(exc, SAFE_TO_RETRY):
                return _Outcome(_network_failure(exc, attempt, transient=True, unknown=False))
            # The request was (at least partly) sent and no answer came back.
            return _Outcome(
                _network_failure(exc, attempt, transient=retry_ambiguous, unknown=not retry_ambiguous),
                ambiguous=True,
            )
        return self._interpret(request, response, attempt, retry_ambiguous)

    def _interpret(
        self, request: GraphRequest, response: httpx.Response, attempt: int, retry_ambiguous: bool
    ) -> _Outcome:
        data = _json_object(response)
        status = response.status_code
        if 200 <= status < 300 and "error" not in data:
            return _Outcome(
                DeliveryResult(
                    ok=True,
                    platform_message_id=_message_id(data, request),
                    http_status=status,
                    error=None,
                    reason=None,
                    effects=NO_EFFECTS,
                    known_error=True,
                    attempts=attempt,
                )
            )
        error, meta_says_transient = _graph_error(data, status)
        if status >= 500 and not isinstance(data.get("error"), dict):
            # No Graph error envelope: something in front of Meta answered; the call may have
            # been processed behind it.
            return _Outcome(
                DeliveryResult(
                    ok=False,
                    platform_message_id=None,
                    http_status=status,
                    error=error,
                    reason=None,
                    effects=NO_EFFECTS,
                    known_error=True,
                    attempts=attempt,
                    transient=retry_ambiguous,
                    delivery_unknown=not retry_ambiguous,
                    meaning=f"HTTP {status} without a Graph error body: Meta may have processed the request.",
                ),
                retry_after=_retry_after(response),
                ambiguous=True,
            )
        reading = classify(request.channel, status, error.code, error.subcode, conditions=request.conditions)
        transient = reading.transient or (meta_says_transient and not reading.known)
        unreachable_reason = f"meta:{error.code}" + (f"/{error.subcode}" if error.subcode else "")
        return _Outcome(
            DeliveryResult(
                ok=False,
                platform_message_id=None,
                http_status=status,
                error=error,
                reason=reading.reason,
                effects=contact_effects(reading.effects, unreachable_reason, code=error.code),
                known_error=reading.known,
                attempts=attempt,
                transient=transient,
                meaning=reading.meaning,
                sources=reading.sources,
            ),
            retry_after=_retry_after(response),
        )

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None and 0 <= retry_after <= self._backoff_cap:
            return retry_after
        ceiling = min(self._backoff_cap, self._backoff_base * 2.0 ** (attempt - 1))
        return self._random() * ceiling


def _settled(result: DeliveryResult, maybe_sent: bool) -> DeliveryResult:
    """The final result; a failure after an attempt Meta may have processed is "unknown"."""
    if result.ok or not maybe_sent or result.delivery_unknown:
        return result
    return dataclasses.replace(result, transient=False, delivery_unknown=True)


def _network_failure(
    exc: httpx.TransportError, attempt: int, *, transient: bool, unknown: bool
) -> DeliveryResult:
    if unknown:
        meaning = "The request was sent but no answer came back: Meta may have delivered the message."
    else:
        meaning = "The Graph API could not be reached; nothing was sent."
    return DeliveryResult(
        ok=False,
        platform_message_id=None,
        http_status=None,
        error=GraphError(
            code=None, type=type(exc).__name__, message="network failure talking to the Graph API"
        ),
        reason=None,
        effects=NO_EFFECTS,
        known_error=True,
        attempts=attempt,
        transient=transient,
        delivery_unknown=unknown,
        meaning=meaning,
    )


def _json_object(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _graph_error(data: dict[str, Any], status: int) -> tuple[GraphError, bool]:
    raw = data.get("error")
    if not isinstance(raw, dict):
        return GraphError(code=None, message=f"HTTP {status} without a Graph error body"), False
    error_data = raw.get("error_data")
    details = error_data.get("details") if isinstance(error_data, dict) else None
    return (
        GraphError(
            code=_int_or_none(raw.get("code")),
            subcode=_int_or_none(raw.get("error_subcode")),
            type=str(raw["type"]) if raw.get("type") is not None else None,
            message=str(raw.get("message", "")),
            fbtrace_id=str(raw["fbtrace_id"]) if raw.get("fbtrace_id") is not None else None,
            details=str(details) if details is not None else None,
        ),
        raw.get("is_transient") is True,
    )


class TemplateListError(RuntimeError):
    """Meta refused to list a WABA's templates (Graph's error attached)."""

    def __init__(self, error: GraphError) -> None:
        super().__init__(f"Meta refused the template list: {error.code} {error.message}")
        self.error = error


# The fields a template registry needs (W12): what the engine and the console read.
TEMPLATE_FIELDS = "name,language,status,category,components,quality_score"
PROFILE_FIELDS = {Channel.MESSENGER: "first_name,last_name", Channel.INSTAGRAM: "name,username"}
PROFILE_TIMEOUT_SECONDS = 0.5  # the inbox waits on it: at most a few per page
_PATH_SAFE_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")  # PSIDs and IGSIDs are digits


def profile_display_name(profile: dict[str, Any]) -> str | None:
    """The name a User Profile API answer gives: first and last name, else name, else @username."""
    parts = [profile.get("first_name"), profile.get("last_name")]
    full = " ".join(p.strip() for p in parts if isinstance(p, str) and p.strip())
    if full:
        return full[:200]
    name = profile.get("name")
    if isinstance(name, str) and name.strip():
        return name.strip()[:200]
    username = profile.get("username")
    if isinstance(username, str) and username.strip():
        return f"@{username.strip()}"[:200]
    return None


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _message_id(data: dict[str, Any], request: GraphRequest) -> str | None:
    if request.marketing_api_v2:
        tracking = data.get("marketing_message_tracking_id")
        return str(tracking) if tracking else None
    if isinstance(data.get("message_id"), str):
        return str(data["message_id"])
    messages = data.get("messages")
    if isinstance(messages, list) and messages and isinstance(messages[0], dict) and messages[0].get("id"):
        return str(messages[0]["id"])
    return None


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return None
