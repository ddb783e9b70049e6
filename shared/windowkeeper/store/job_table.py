"""Re-engagement jobs and their per-contact results.

* job ``pk = J#<job_id>, sk = JOB``: what to send to whom (selection, purpose, content per path),
  status, and the selection cutoff frozen at the first run;
* result ``pk = J#<job_id>, sk = T#<contact pk>``: one per contact, created with
  ``attribute_not_exists`` in status ``sending`` *before* anything is sent. A resumed or
  concurrent run that finds the item skips the contact, so nobody gets the message twice. The
  claim also carries a "check back at" key on the due-index; the outcome's Put replaces the whole
  item and so drops it, and a result still ``sending`` when the minute sweep meets the key is
  marked ``stuck`` and reported (``windowkeeper.store.stuck_table``).

Contacts "silent for N hours" come from the sparse, sharded ``account-index`` (hash
``A#<channel>#<account>#<shard>``, range ``last_customer_action_ms``): one Query per shard with
``last_customer_action_ms <= cutoff``, never a Scan.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from boto3.dynamodb.conditions import Key
from boto3.dynamodb.types import TypeSerializer
from botocore.exceptions import ClientError

from windowkeeper import aws
from windowkeeper.policy.model import Channel
from windowkeeper.store.contact_item import plain
from windowkeeper.store.job_records import JobRecord, ResultRecord
from windowkeeper.store.keys import (
    ACCOUNT_INDEX,
    JOB_SK,
    RESULT_SK_PREFIX,
    account_shard_keys,
    job_pk,
    result_sk,
)
from windowkeeper.store.stuck_records import CHECK_RESULT
from windowkeeper.store.stuck_table import check_attributes


@dataclass(frozen=True)
class JobStore:
    table_name: str

    def _table(self) -> Any:
        return aws.table(self.table_name)

    def create(self, job: JobRecord) -> bool:
        """Store a new job; ``False`` if a job with this id exists (a retried request)."""
        try:
            self._table().put_item(Item=job.item(), ConditionExpression="attribute_not_exists(pk)")
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def get(self, job_id: str) -> JobRecord | None:
        item = (
            self._table().get_item(Key={"pk": job_pk(job_id), "sk": JOB_SK}, ConsistentRead=True).get("Item")
        )
        return JobRecord.model_validate(plain(item)) if item else None

    def start_run(self, job_id: str, cutoff_ms: int | None, now_ms: int) -> JobRecord:
        """Count a run, mark the job running and freeze the cutoff the first time (``if_not_exists``)."""
        update = "SET #status = :running, runs = if_not_exists(runs, :zero) + :one, "
        update += "started_at_ms = if_not_exists(started_at_ms, :now)"
        values: dict[str, Any] = {":running": "running", ":zero": 0, ":one": 1, ":now": now_ms}
        if cutoff_ms is not None:
            update += ", cutoff_ms = if_not_exists(cutoff_ms, :cutoff)"
            values[":cutoff"] = cutoff_ms
        response = self._table().update_item(
            Key={"pk": job_pk(job_id), "sk": JOB_SK},
            UpdateExpression=update,
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues=values,
            ConditionExpression="attribute_exists(pk)",
            ReturnValues="ALL_NEW",
        )
        return JobRecord.model_validate(plain(response["Attributes"]))

    def finish(self, job_id: str, now_ms: int) -> None:
        self._table().update_item(
            Key={"pk": job_pk(job_id), "sk": JOB_SK},
            UpdateExpression="SET #status = :done, finished_at_ms = :now",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={":done": "done", ":now": now_ms},
        )

    def claim(self, job_id: str, contact_pk_value: str, contact_id: str, now_ms: int) -> bool:
        """Write the contact's result as ``sending``; ``False`` if it already has one."""
        record = ResultRecord(contact_pk=contact_pk_value, contact_id=contact_id, claimed_at_ms=now_ms)
        pk, sk = job_pk(job_id), result_sk(contact_pk_value)
        try:
            self._table().put_item(
                Item={
                    "pk": pk,
                    "sk": sk,
                    **record.model_dump(mode="json", exclude_none=True),
                    **check_attributes(CHECK_RESULT, pk, sk, now_ms),
                },
                ConditionExpression="attribute_not_exists(sk)",
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def save_result(self, job_id: str, result: ResultRecord) -> None:
        """Replace a claimed ``sending`` result by its outcome and count it on the job, atomically.

        The Put replaces the whole item, so the claim's stuck-check key goes with it."""
        serializer = TypeSerializer()
        item = {
            "pk": job_pk(job_id),
            "sk": result_sk(result.contact_pk),
            **result.model_dump(mode="json", exclude_none=True),
        }
        aws.client("dynamodb").transact_write_items(
            TransactItems=[
                {
                    "Put": {
                        "TableName": self.table_name,
                        "Item": {k: serializer.serialize(v) for k, v in item.items()},
                        "ConditionExpression": "#status = :sending",
                        "ExpressionAttributeNames": {"#status": "status"},
                        "ExpressionAttributeValues": {":sending": {"S": "sending"}},
                    }
                },
                {
                    "Update": {
                        "TableName": self.table_name,
                        "Key": {"pk": {"S": job_pk(job_id)}, "sk": {"S": JOB_SK}},
                        "UpdateExpression": "ADD #count :one",
                        "ExpressionAttributeNames": {"#count": f"{result.status}_count"},
                        "ExpressionAttributeValues": {":one": {"N": "1"}},
                    }
                },
            ]
        )

    def mark_published(self, job_id: str, contact_pk_value: str) -> None:
        self._table().update_item(
            Key={"pk": job_pk(job_id), "sk": result_sk(contact_pk_value)},
            UpdateExpression="SET event_published = :yes",
            ExpressionAttributeValues={":yes": True},
        )

    def results(self, job_id: str) -> list[ResultRecord]:
        records, after = self.results_page(job_id, limit=None, after=None)
        assert after is None
        return records

    def results_page(
        self, job_id: str, *, limit: int | None, after: str | None
    ) -> tuple[list[ResultRecord], str | None]:
        """Results in contact-key order; ``limit`` per page, ``after`` = the last ``contact_pk`` seen."""
        kwargs: dict[str, Any] = {
            "KeyConditionExpression": Key("pk").eq(job_pk(job_id)) & Key("sk").begins_with(RESULT_SK_PREFIX),
            "ConsistentRead": True,
        }
        if after is not None:
            kwargs["ExclusiveStartKey"] = {"pk": job_pk(job_id), "sk": result_sk(after)}
        records: list[ResultRecord] = []
        while True:
            if limit is not None:
                kwargs["Limit"] = limit - len(records)
            page = self._table().query(**kwargs)
            records.extend(ResultRecord.model_validate(plain(i)) for i in page["Items"])
            last = page.get("LastEvaluatedKey")
            if last is None:
                return records, None
            if limit is not None and len(records) >= limit:
                return records, records[-1].contact_pk
            kwargs["ExclusiveStartKey"] = last

    def silent_contacts(self, channel: Channel, account_id: str, cutoff_ms: int) -> Iterator[tuple[str, str]]:
        """``(contact pk, contact id)`` of the account's contacts whose last action is <= cutoff."""
        for shard_key in account_shard_keys(channel, account_id):
            kwargs: dict[str, Any] = {
                "IndexName": ACCOUNT_INDEX,
                "KeyConditionExpression": Key("account_shard").eq(shard_key)
                & Key("last_customer_action_ms").lte(cutoff_ms),
                "ProjectionExpression": "pk, contact_id",
            }
            while True:
                page = self._table().query(**kwargs)
                for item in page["Items"]:
                    yield str(item["pk"]), str(item["contact_id"])
                if "LastEvaluatedKey" not in page:
                    break
                kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
