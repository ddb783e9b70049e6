"""``ports.idempotency.OnceOnly`` on powertools idempotency over the idempotency table.

Powertools keeps the records (in progress, completed, expiry, the request digest); this adapter
only maps its control flow onto the port: an answer not to remember leaves the wrapped function
as an exception (powertools deletes the record then), and powertools' exceptions become domain
errors.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from windowkeeper import aws, errors
from windowkeeper.ports.idempotency import Answer, IdempotencyKey


class _ForgetError(Exception):
    """Leaves the wrapped function so powertools forgets the attempt."""

    def __init__(self, answer: Answer) -> None:
        super().__init__("not remembered")
        self.answer = answer


def _run(*, idempotency: dict[str, str], work: Callable[[], tuple[Answer, bool]]) -> Answer:
    del idempotency  # only the key material powertools hashes
    answer, remember = work()
    if not remember:
        raise _ForgetError(answer)
    return answer


class PowertoolsIdempotency:
    def __init__(self, table_name: str, expires_after_seconds: int) -> None:
        self.config = IdempotencyConfig(
            event_key_jmespath="[subject, tenant_id, key]",
            payload_validation_jmespath="request_sha256",  # same key, other request → reused
            expires_after_seconds=expires_after_seconds,
        )
        persistence = DynamoDBPersistenceLayer(table_name=table_name, boto3_client=aws.client("dynamodb"))
        self._once: Any = idempotent_function(
            _run, data_keyword_argument="idempotency", persistence_store=persistence, config=self.config
        )

    def register_lambda_context(self, context: LambdaContext) -> None:
        """Lets powertools expire an in-progress record when the invocation times out."""
        self.config.register_lambda_context(context)

    def run_once(self, key: IdempotencyKey, work: Callable[[], tuple[Answer, bool]]) -> tuple[Answer, bool]:
        ran: list[bool] = []

        def tracked() -> tuple[Answer, bool]:
            ran.append(True)
            return work()

        material = {
            "subject": key.subject,
            "tenant_id": key.tenant_id,
            "key": key.key,
            "request_sha256": key.request_sha256,
        }
        try:
            answer: Answer = self._once(idempotency=material, work=tracked)
        except _ForgetError as forgotten:
            return forgotten.answer, False
        except IdempotencyValidationError as error:
            raise errors.Unprocessable(
                "idempotency_key_reused",
                "This Idempotency-Key was already used with a different request body.",
            ) from error
        except IdempotencyAlreadyInProgressError as error:
            raise errors.Conflict(
                "request_in_progress", "A request with this Idempotency-Key is still being processed."
            ) from error
        return answer, not ran
