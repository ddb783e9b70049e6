"""``GraphClient``: delivers a decided message through Meta's Graph API with httpx.

Retries. Up to ``max_attempts`` calls, with exponential back-off and full jitter between them
(``sleep(random() * min(cap, base * 2**(n-1)))``, or Meta's ``Retry-After`` when it sends one), on:
HTTP 5xx and 429, Graph throttling (codes 4 and 613 without a policy subcode, 80007, WhatsApp
130429, 131056, 131057), Graph codes 1/2 and ``is_transient: true``, and network failures. Every
other answer is final: a 4xx is Meta's verdict on this request and resending cannot change it. A
time budget (``deadline_seconds``) stops retrying before API Gateway's 30 s limit would cut the
caller off mid-answer.

Duplicates. Meta's Send APIs take no idempotency key, so a retry after a *read* timeout or a
dropped connection can deliver the message twice if Meta had already accepted it. Connection
failures before the request was sent (connect errors, connect timeouts) are always safe to
retry. The ambiguous ones are retried too (``retry_ambiguous=True``, the default): giving up
would report a failure for a message that may well have gone, and the caller's only move then is
to send again, which is the same duplicate risk with a longer delay; a rare duplicate of a
service message costs less than a lost one. Idempotency across *caller* retries (the same API
request arriving twice) is the send endpoint's job (powertools idempotency), not this client's.

Tokens come from ``token_provider(account)`` and travel only in the ``Authorization: Bearer``
header: never in the URL, never in a log record. Errors from the token provider (a missing
secret) propagate: that is a configuration failure, not a delivery result.
"""

from __future__ import annotations

import logging
import random as random_module
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from windowkeeper.accounts import AccountConfig
from windowkeeper.graph.errors import classify, contact_effects
from windowkeeper.graph.requests import GraphRequest, build_send_request, thread_control_request
from windowkeeper.graph.results import NO_EFFECTS, DeliveryResult, GraphError
from windowkeeper.policy.model import META_CHANNELS, Channel, ContactState, Content, Decision, ReasonCode

logger = logging.getLogger(__name__)

TokenProvider = Callable[[AccountConfig], str]

SAFE_TO_RETRY = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)  # nothing reached Meta


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class _Outcome:
    result: DeliveryResult
    retry_after: float | None = None


class GraphClient:
    def __init__(
        self,
        base_url: str,
        version: str,
        token_provider: TokenProvider,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 10.0,
        max_attempts: int = 4,
        sleep: Callable[[float], None] = time.sleep,
        random: Callable[[], float] = random_module.random,
        clock: Callable[[], datetime] = _utc_now,
        monotonic: Callable[[], float] = time.monotonic,
        backoff_base: float = 0.5,
        backoff_cap: float = 8.0,
        deadline_seconds: float | None = 25.0,
        retry_ambiguous: bool = True,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.version = version.strip("/")
        self._token_provider = token_provider
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"),
            transport=transport,
            timeout=timeout,
            follow_redirects=False,
            headers={"Accept": "application/json"},
        )
        self._max_attempts = max_attempts
        self._sleep = sleep
        self._random = random
        self._clock = clock
        self._monotonic = monotonic
        self._backoff_base = backoff_base
        self._backoff_cap = backoff_cap
        self._deadline_seconds = deadline_seconds
        self._retry_ambiguous = retry_ambiguous

    # --- public API -------------------------------------------------------------------------

    def send(
        self, account: AccountConfig, contact: ContactState, decision: Decision, content: Content
    ) -> DeliveryResult:
        """Deliver ``content`` the way ``decision`` says. Only allowed decisions may be delivered."""
        if not decision.allowed:
            raise ValueError("refusing to deliver a message the policy engine did not allow")
        if contact.channel not in META_CHANNELS or account.channel is not contact.channel:
            return _local_refusal(
                ReasonCode.CHANNEL_UNSUPPORTED, f"{contact.channel.value} is not a Graph API channel"
            )
        return self._execute(account, build_send_request(account, contact, decision, content))

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
            return _local_refusal(
                ReasonCode.CHANNEL_UNSUPPORTED, f"no thread control on {account.channel.value}"
            )
        return self._execute(account, thread_control_request(account, contact_id, action, **fields))

    def _execute(self, account: AccountConfig, request: GraphRequest) -> DeliveryResult:
        headers = {"Authorization": f"Bearer {self._token_provider(account)}"}
        url = f"/{self.version}/{request.path}"
        started = self._monotonic()
        attempt = 0
        while True:
            attempt += 1
            outcome = self._attempt(url, headers, request, attempt)
            result = outcome.result
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
                },
            )
            if result.ok or not result.transient or attempt >= self._max_attempts:
                return result
            delay = self._backoff(attempt, outcome.retry_after)
            if (
                self._deadline_seconds is not None
                and self._monotonic() - started + delay > self._deadline_seconds
            ):
                return result
            self._sleep(delay)

    def _attempt(self, url: str, headers: dict[str, str], request: GraphRequest, attempt: int) -> _Outcome:
        try:
            response = self._http.post(url, json=request.body, headers=headers)
        except httpx.TransportError as exc:
            transient = isinstance(exc, SAFE_TO_RETRY) or self._retry_ambiguous
            error = GraphError(
                code=None, type=type(exc).__name__, message="network failure talking to the Graph API"
            )
            return _Outcome(
                DeliveryResult(
                    ok=False,
                    platform_message_id=None,
                    http_status=None,
                    error=error,
                    reason=None,
                    effects=NO_EFFECTS,
                    known_error=True,
                    attempts=attempt,
                    transient=transient,
                    meaning="The Graph API could not be reached or did not answer in time.",
                )
            )
        return self._interpret(request, response, attempt)

    def _interpret(self, request: GraphRequest, response: httpx.Response, attempt: int) -> _Outcome:
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
                effects=contact_effects(reading.effects, self._clock(), unreachable_reason),
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


def _local_refusal(reason: ReasonCode, meaning: str) -> DeliveryResult:
    """A call we do not make at all (no Graph API for that channel): nothing was sent."""
    return DeliveryResult(
        ok=False,
        platform_message_id=None,
        http_status=None,
        error=None,
        reason=reason,
        effects=NO_EFFECTS,
        known_error=True,
        attempts=0,
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
