"""Sends that started and never finished: the "check back at" key and the ``stuck`` transition.

A follow-up in ``firing`` and a re-engagement result in ``sending`` are claimed *before* the send
and never retried (Meta may have delivered), so a crash mid-send leaves them there for good. To
report them without a scan, the claim also writes a sparse key on the existing ``due-index``:

* ``due_bucket`` = ``keys.due_bucket(claimed + STUCK_AFTER, "<pk>#<sk>")`` (minute + shard),
* ``due_at_ms`` = claimed + ``STUCK_AFTER``, ``due_kind`` = ``CHECK_FOLLOWUP`` / ``CHECK_RESULT``.

Every normal exit from ``firing``/``sending`` removes the key (the follow-up's transitions out of
``firing``; the result's Put of its outcome replaces the whole item), so only a send that died
is still in the index when the minute sweep reaches that minute. ``STUCK_AFTER`` is far longer
than the scheduler function's 60 s timeout: the invocation that claimed the item is over by then.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from windowkeeper import aws
from windowkeeper.instants import from_ms
from windowkeeper.store.keys import due_bucket
from windowkeeper.store.stuck_records import STUCK_AFTER

CHECK_ATTRIBUTES = ("due_bucket", "due_at_ms", "due_kind")
STUCK_STATUS = "stuck"


def check_attributes(kind: str, pk: str, sk: str, claimed_at_ms: int) -> dict[str, Any]:
    """The due-index key that brings a claimed send back to the sweep ``STUCK_AFTER`` later."""
    claimed_at = from_ms(claimed_at_ms)
    assert claimed_at is not None
    check_at = claimed_at + STUCK_AFTER
    return {
        # Sharded by the item's own key: a big job's results spread over every shard of a minute.
        "due_bucket": due_bucket(check_at, f"{pk}#{sk}"),
        "due_at_ms": claimed_at_ms + int(STUCK_AFTER.total_seconds() * 1000),
        "due_kind": kind,
    }


@dataclass(frozen=True)
class StuckStore:
    table_name: str

    def mark_stuck(
        self,
        pk: str,
        sk: str,
        *,
        expected_status: str,
        expected_due_at_ms: int,
        explanation: str,
        now_ms: int,
    ) -> bool:
        """``expected_status -> stuck`` and drop the check key; ``False`` if the item moved on."""
        try:
            aws.table(self.table_name).update_item(
                Key={"pk": pk, "sk": sk},
                UpdateExpression=(
                    "SET #status = :stuck, status_reason = :stuck, explanation = :explanation, "
                    "stuck_at_ms = :now "
                    "REMOVE due_bucket, due_at_ms, due_kind"
                ),
                ConditionExpression="#status = :expected AND due_at_ms = :due",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":stuck": STUCK_STATUS,
                    ":now": now_ms,
                    ":explanation": explanation,
                    ":expected": expected_status,
                    ":due": expected_due_at_ms,
                },
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True
