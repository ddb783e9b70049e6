"""Template state items (``A#<channel>#<account>`` / ``TPL#<name>#<language>``).

``ports.accounts.TemplateStates`` on the table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from windowkeeper import aws
from windowkeeper.policy.model import Channel
from windowkeeper.store.contact_item import plain
from windowkeeper.store.keys import TEMPLATE_SK_PREFIX, account_pk, template_state_key
from windowkeeper.store.template_records import TemplateChange, TemplateState


@dataclass(frozen=True)
class TemplateStateTable:
    table_name: str

    def get(self, channel: Channel, account_id: str, name: str, language: str) -> TemplateState | None:
        item = (
            aws.table(self.table_name)
            .get_item(Key=template_state_key(channel, account_id, name, language), ConsistentRead=True)
            .get("Item")
        )
        return TemplateState.model_validate(plain(item)) if item else None

    def list(self, channel: Channel, account_id: str) -> dict[tuple[str, str], TemplateState]:
        kwargs: dict[str, Any] = {
            "KeyConditionExpression": Key("pk").eq(account_pk(channel, account_id))
            & Key("sk").begins_with(TEMPLATE_SK_PREFIX),
            "ConsistentRead": True,
        }
        found: dict[tuple[str, str], TemplateState] = {}
        while True:
            page = aws.table(self.table_name).query(**kwargs)
            for item in page["Items"]:
                state = TemplateState.model_validate(plain(item))
                found[(state.name, state.language)] = state
            if "LastEvaluatedKey" not in page:
                return found
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def apply(self, channel: Channel, account_id: str, change: TemplateChange) -> bool:
        """Set the change's fact unless a newer one of the same kind is kept; True when set."""
        values: dict[str, Any] = {":at": change.at_ms, ":name": change.name, ":language": change.language}
        sets = ["#name = :name", "#language = :language", f"{change.fact}_ms = :at"]
        if change.fact == "status":
            fields = {"status": change.status.value if change.status else None}
            fields |= {"status_event": change.event, "status_reason": change.reason}
        elif change.fact == "category":
            fields = {"category": change.category.value if change.category else None}
        else:
            fields = {"quality": change.quality}
        names = {"#name": "name", "#language": "language"}
        for index, (attribute, value) in enumerate(fields.items()):
            if value is not None:
                names[f"#f{index}"] = attribute
                values[f":f{index}"] = value
                sets.append(f"#f{index} = :f{index}")
        try:
            aws.table(self.table_name).update_item(
                Key=template_state_key(channel, account_id, change.name, change.language),
                UpdateExpression="SET " + ", ".join(sets),
                ConditionExpression=f"attribute_not_exists({change.fact}_ms) OR {change.fact}_ms < :at",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            return False
        return True
