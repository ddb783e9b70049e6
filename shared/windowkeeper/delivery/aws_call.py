"""What the SMS and e-mail senders share: one boto3 send call, with the platform senders' promises.

SMS goes out through SNS ``Publish`` and e-mail through SESv2 ``SendEmail`` (``delivery/sms.py``,
``delivery/mail.py``); their errors are botocore ``ClientError`` codes, read against the channel's
error table (``platform.PlatformErrorRule`` rows, the code being AWS's error code) exactly as the
HTTP platforms' are (``platform.PlatformHttp``):

* nothing reached AWS (``EndpointConnectionError``, a connect timeout) or AWS said "slow down"
  (a row marked ``transient``: throttling, HTTP 429): retried with back-off while attempts and
  the time budget last, then ``transient``;
* the request went out and no answer came back (a read timeout, a dropped connection) or AWS
  answered a 5xx not in the table (``InternalError``: the message may have gone):
  ``delivery_unknown``, never retried (neither API takes an idempotency key);
* any other error is final: the matching row says what it means (a policy refusal such as the
  number being on the opt-out list, an account-level fact, or a plain failure); a code not in the
  table is reported verbatim (``known_error`` False).

So botocore's own retries are off for these clients (``total_max_attempts=1``): its standard
mode would retry a read timeout, which for a send could deliver twice.
"""

from __future__ import annotations

import random as random_module
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from windowkeeper import aws
from windowkeeper.delivery.platform import BUDGET_SECONDS, PlatformErrorRule, match_rule
from windowkeeper.graph.results import NO_EFFECTS, DeliveryResult, GraphError
from windowkeeper.policy.model import Channel

SEND_CLIENT_CONFIG = Config(retries={"total_max_attempts": 1}, connect_timeout=3, read_timeout=10)
NOTHING_SENT = (EndpointConnectionError, ConnectTimeoutError)
MAYBE_SENT = (ReadTimeoutError, ConnectionClosedError)


def send_client(service: str, endpoint_url: str | None) -> Any:
    """A client for sends (no botocore retries), at ``endpoint_url`` when one is set (the local
    stack's simulator), else where ``AWS_ENDPOINT_URL`` or the region puts it."""
    with aws._BUILDING:
        return aws.session().client(  # type: ignore[call-overload]
            service, region_name=aws.region(), endpoint_url=endpoint_url, config=SEND_CLIENT_CONFIG
        )


class AwsSend:
    """One channel's send call with the promises above (``table`` reads AWS's error codes)."""

    def __init__(
        self,
        channel: Channel,
        table: Sequence[PlatformErrorRule],
        *,
        max_attempts: int = 3,
        sleep: Callable[[float], None] = time.sleep,
        random: Callable[[], float] = random_module.random,
        monotonic: Callable[[], float] = time.monotonic,
        budget_seconds: float = BUDGET_SECONDS,
    ) -> None:
        self.channel = channel
        self.table = table
        self._max_attempts = max_attempts
        self._sleep = sleep
        self._random = random
        self._monotonic = monotonic
        self._budget = budget_seconds

    def deliver(self, call: Callable[[], Mapping[str, Any]]) -> DeliveryResult:
        """Make ``call`` (it returns AWS's answer, with ``MessageId``) until it is final."""
        started = self._monotonic()
        attempts = 0
        while True:
            attempts += 1
            left = self._budget - (self._monotonic() - started)
            delay = self._backoff(attempts)
            may_retry = attempts < self._max_attempts and left > delay + 2.0
            try:
                answer = call()
            except NOTHING_SENT as error:
                if may_retry:
                    self._sleep(delay)
                    continue
                return self._failed(
                    attempts, None, None, f"AWS could not be reached ({type(error).__name__})", transient=True
                )
            except MAYBE_SENT as error:
                return self._failed(
                    attempts,
                    None,
                    None,
                    f"the request went out and no answer came back ({type(error).__name__})",
                    unknown=True,
                )
            except ClientError as error:
                code = str(error.response.get("Error", {}).get("Code") or "")
                text = str(error.response.get("Error", {}).get("Message") or "")
                status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0) or None
                rule = match_rule(self.table, code, text)
                transient = status == 429 or (rule is not None and rule.transient)
                if transient and may_retry:
                    self._sleep(delay)
                    continue
                if rule is None and status is not None and status >= 500:
                    return self._failed(attempts, status, code, text, unknown=True)
                return self._final(
                    attempts, status=status, code=code, text=text, rule=rule, transient=transient
                )
            except BotoCoreError as error:  # a request botocore would not send (parameters, credentials)
                return self._failed(
                    attempts, None, None, f"the request was not sent ({type(error).__name__})"
                )
            return DeliveryResult(
                ok=True,
                platform_message_id=str(answer.get("MessageId") or "") or None,
                http_status=int(answer.get("ResponseMetadata", {}).get("HTTPStatusCode") or 200),
                error=None,
                reason=None,
                effects=NO_EFFECTS,
                known_error=True,
                attempts=attempts,
            )

    def _final(
        self,
        attempts: int,
        *,
        status: int | None,
        code: str,
        text: str,
        rule: PlatformErrorRule | None,
        transient: bool,
    ) -> DeliveryResult:
        return DeliveryResult(
            ok=False,
            platform_message_id=None,
            http_status=status,
            error=GraphError(code=None, type=self.channel.value, message=text, details=code),
            reason=rule.reason if rule is not None else None,
            effects=rule.effects if rule is not None else NO_EFFECTS,
            known_error=rule is not None,
            attempts=attempts,
            transient=transient,
            meaning=rule.meaning if rule is not None else None,
            sources=(rule.source,) if rule is not None else (),
        )

    def _failed(
        self,
        attempts: int,
        status: int | None,
        code: str | None,
        text: str,
        *,
        transient: bool = False,
        unknown: bool = False,
    ) -> DeliveryResult:
        return DeliveryResult(
            ok=False,
            platform_message_id=None,
            http_status=status,
            error=GraphError(
                code=None, type=self.channel.value if code else "transport", message=text, details=code
            ),
            reason=None,
            effects=NO_EFFECTS,
            known_error=True,
            attempts=attempts,
            transient=transient,
            delivery_unknown=unknown,
        )

    def _backoff(self, attempt: int) -> float:
        cap: float = min(4.0, 0.5 * 2 ** (attempt - 1))
        return float(self._random()) * cap
