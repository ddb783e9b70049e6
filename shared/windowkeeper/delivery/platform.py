"""What every non-Meta sender shares: its error table as data, one HTTP call's reading, results.

A platform sender (``delivery/<channel>.py``) builds the platform's request and reads its answer
into ``PlatformAnswer`` (ok + message id, or the platform's error code and text); ``deliver``
here makes the call with the same promises as the Graph client (``graph/client.py``):

* nothing reached the platform (connect error or timeout, no free connection) or it said "slow
  down" (HTTP 429, or an error row marked ``transient``): retried with back-off (the platform's
  ``retry_after`` when it gives one) while attempts and the time budget last, then ``transient``;
* the request went out and no answer came back (read/write timeout, dropped connection, a 5xx with
  no readable error body): ``delivery_unknown``, never retried (the platforms' send APIs take no
  idempotency key, so a retry could deliver twice);
* any other answer is final: the error table row that matches says what it means: a policy
  refusal (``reason``: answered "refused"), facts to record (``effects``: unreachable, token
  invalid...), or a plain failure; a code not in the table is reported verbatim (``known_error``
  False), never guessed at.

Tokens travel only in headers or the URL path the platform prescribes and never reach a log.
"""

from __future__ import annotations

import dataclasses
import os
import random as random_module
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

from windowkeeper.accounts import AccountConfig
from windowkeeper.graph.results import NO_EFFECTS, ContactEffects, DeliveryResult, GraphError, local_refusal

__all__ = [  # local_refusal is re-exported: every sender refuses locally the same way
    "PlatformAnswer",
    "PlatformErrorRule",
    "PlatformHttp",
    "PlatformRequest",
    "PlatformSender",
    "TextSender",
    "base_url",
    "local_refusal",
    "match_rule",
    "text_only",
]
from windowkeeper.policy.model import Channel, ContactState, Content, ContentKind, Decision, ReasonCode

ATTEMPT_TIMEOUT = httpx.Timeout(connect=3.0, write=3.0, read=10.0, pool=1.0)
BUDGET_SECONDS = 20.0  # the whole delivery, as the Graph client's (the send function's Timeout is 29 s)
SAFE_TO_RETRY = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)  # nothing reached them


@dataclass(frozen=True)
class PlatformErrorRule:
    """One row of a platform's error table: what its code means for the gate, with the source."""

    code: int | str  # the platform's own code (Telegram/LINE: HTTP status; Viber: status; WeChat: errcode)
    meaning: str
    source: str
    reason: ReasonCode | None = None  # set: the platform refused on policy grounds ("refused")
    effects: ContactEffects = NO_EFFECTS
    transient: bool = False  # a later retry may work (throttling, the platform's temporary error)
    text: str | None = None  # when one code covers several cases: a fragment of the platform's text


def match_rule(table: Sequence[PlatformErrorRule], code: int | str, text: str) -> PlatformErrorRule | None:
    """The row for ``code``: the first whose ``text`` occurs in the platform's text, else the row
    without ``text``; None when the table does not know the code."""
    folded = text.lower()
    rows = [r for r in table if r.code == code]
    return next((r for r in rows if r.text is not None and r.text.lower() in folded), None) or next(
        (r for r in rows if r.text is None), None
    )


@dataclass(frozen=True)
class PlatformAnswer:
    """A platform's answer to one send, read: accepted with an id, or its error as it sent it."""

    ok: bool
    message_id: str | None = None
    code: int | str | None = None
    text: str = ""
    retry_after: float | None = None
    readable: bool = True  # False: a 5xx whose body we could not read (maybe processed behind a proxy)


@dataclass(frozen=True)
class PlatformRequest:
    method: str
    url: str  # relative to the sender's base URL
    json: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)
    params: Mapping[str, str] | None = None


class PlatformSender(Protocol):
    """Delivers a decided message on one channel (``delivery/<channel>.py``)."""

    channel: Channel

    def send(
        self,
        account: AccountConfig,
        contact: ContactState,
        decision: Decision,
        content: Content,
        credentials: Mapping[str, Any],
    ) -> DeliveryResult: ...


def base_url(channel: Channel, default: str) -> str:
    """``<CHANNEL>_API_BASE_URL`` (the local stack points it at the simulator), else the platform's."""
    return os.environ.get(f"{channel.value.upper()}_API_BASE_URL") or default


class TextSender:
    """What every text-only sender does before its platform call: refuse content the channel
    cannot carry and credentials that lack what the call needs, both locally (nothing is sent).
    A subclass names ``channel``, ``label`` and ``required`` and implements ``deliver``."""

    channel: Channel
    label: str
    required: tuple[str, ...] = ()  # credential keys the call needs

    def send(
        self,
        account: AccountConfig,
        contact: ContactState,
        decision: Decision,
        content: Content,
        credentials: Mapping[str, Any],
    ) -> DeliveryResult:
        text = text_only(content, self.label)
        if isinstance(text, DeliveryResult):
            return text
        missing = [
            key for key in self.required if not isinstance(credentials.get(key), str) or not credentials[key]
        ]
        if missing:
            return local_refusal(
                ReasonCode.CHANNEL_UNSUPPORTED, f"the account's credentials hold no {' or '.join(missing)}"
            )
        return self.deliver(account, contact, text, credentials)

    def deliver(
        self, account: AccountConfig, contact: ContactState, text: str, credentials: Mapping[str, Any]
    ) -> DeliveryResult:
        raise NotImplementedError


def text_only(content: Content, channel_label: str) -> str | DeliveryResult:
    """The message's text, or a refusal when the content is not plain text (templates and media are
    Meta's shapes; these channels' senders carry text)."""
    if content.kind is not ContentKind.TEXT or not (content.text or "").strip():
        return local_refusal(
            ReasonCode.CHANNEL_UNSUPPORTED, f"{channel_label} messages are sent as text; this content is not"
        )
    return content.text or ""


class PlatformHttp:
    """One platform's HTTP client with the delivery promises above (``read`` reads its answers)."""

    def __init__(
        self,
        channel: Channel,
        base_url: str,
        table: Sequence[PlatformErrorRule],
        read: Callable[[httpx.Response], PlatformAnswer],
        *,
        transport: httpx.BaseTransport | None = None,
        max_attempts: int = 3,
        sleep: Callable[[float], None] = time.sleep,
        random: Callable[[], float] = random_module.random,
        monotonic: Callable[[], float] = time.monotonic,
        budget_seconds: float = BUDGET_SECONDS,
    ) -> None:
        self.channel = channel
        self.table = table
        self._read = read
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"),
            transport=transport,
            timeout=ATTEMPT_TIMEOUT,
            follow_redirects=False,
        )
        self._max_attempts = max_attempts
        self._sleep = sleep
        self._random = random
        self._monotonic = monotonic
        self._budget = budget_seconds

    def close(self) -> None:
        self._http.close()

    def call(self, request: PlatformRequest) -> tuple[httpx.Response | None, bool]:
        """One request, retried only when nothing reached the platform: (response, maybe processed)."""
        started = self._monotonic()
        for attempt in range(1, self._max_attempts + 1):
            try:
                response = self._http.request(
                    request.method,
                    request.url,
                    json=request.json,
                    headers=dict(request.headers),
                    params=request.params,
                )
            except SAFE_TO_RETRY:
                if attempt == self._max_attempts or self._monotonic() - started > self._budget / 2:
                    return None, False
                self._sleep(self._backoff(attempt, None))
                continue
            except httpx.TransportError:
                return None, True  # it went out; whether it was processed is unknown
            return response, False
        return None, False

    def deliver(self, request: PlatformRequest) -> DeliveryResult:
        """Send, retrying what certainly did not send or what the platform asked to retry."""
        started = self._monotonic()
        attempts = 0
        while True:
            attempts += 1
            response, ambiguous = self.call(request)
            if response is None:
                if ambiguous:
                    return self._no_answer(
                        attempts, "the request went out and no answer came back", unknown=True
                    )
                return self._no_answer(attempts, "the platform could not be reached", unknown=False)
            answer = self._read(response)
            if answer.ok:
                return DeliveryResult(
                    ok=True,
                    platform_message_id=answer.message_id,
                    http_status=response.status_code,
                    error=None,
                    reason=None,
                    effects=NO_EFFECTS,
                    known_error=True,
                    attempts=attempts,
                )
            if response.status_code >= 500 and not answer.readable:
                unread = self._no_answer(attempts, f"HTTP {response.status_code} with no error", unknown=True)
                return dataclasses.replace(unread, http_status=response.status_code)
            rule = match_rule(self.table, answer.code, answer.text) if answer.code is not None else None
            # The row decides (LINE's 429 "monthly limit" is final); an unknown 429 is throttling.
            transient = rule.transient if rule is not None else response.status_code == 429
            left = self._budget - (self._monotonic() - started)
            delay = self._backoff(attempts, answer.retry_after)
            if transient and attempts < self._max_attempts and left > delay + 2.0:
                self._sleep(delay)
                continue
            return self._final(answer, rule, response.status_code, attempts, transient)

    # ------------------------------------------------------------------------------------------

    def _error(self, code: int | str | None, text: str) -> GraphError:
        numeric = code if isinstance(code, int) else None
        details = None if code is None or numeric is not None else str(code)
        return GraphError(code=numeric, type=self.channel.value, message=text, details=details)

    def _final(
        self,
        answer: PlatformAnswer,
        rule: PlatformErrorRule | None,
        status: int,
        attempts: int,
        transient: bool,
    ) -> DeliveryResult:
        return DeliveryResult(
            ok=False,
            platform_message_id=None,
            http_status=status,
            error=self._error(answer.code, answer.text),
            reason=rule.reason if rule is not None else None,
            effects=rule.effects if rule is not None else NO_EFFECTS,
            known_error=rule is not None,
            attempts=attempts,
            transient=transient,
            meaning=rule.meaning if rule is not None else None,
            sources=(rule.source,) if rule is not None else (),
        )

    @staticmethod
    def _no_answer(attempts: int, text: str, *, unknown: bool) -> DeliveryResult:
        """No answer to read: certainly not sent (``transient``) or maybe sent (``delivery_unknown``)."""
        return DeliveryResult(
            ok=False,
            platform_message_id=None,
            http_status=None,
            error=GraphError(code=None, type="transport", message=text),
            reason=None,
            effects=NO_EFFECTS,
            known_error=True,
            attempts=attempts,
            transient=not unknown,
            delivery_unknown=unknown,
        )

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return max(0.0, min(retry_after, 10.0))
        cap: float = min(4.0, 0.5 * 2 ** (attempt - 1))
        return float(self._random()) * cap
