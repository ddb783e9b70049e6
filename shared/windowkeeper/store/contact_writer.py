"""The contact-state writer: one conditional ``UpdateItem`` per contact per POST, no read first.

The update is planned by ``store.contact_write_plan.ContactPlanner`` (see there for which part is
guarded by which stored instant). The first attempt is blind: all parts, every guard ANDed. When
a guard fails, DynamoDB hands back the stored item (``ReturnValuesOnConditionCheckFailure=
ALL_OLD``); the parts that are still newer are re-planned against it and written in one more
attempt. ``ReturnValues=ALL_NEW`` gives the item after the write: who owns the conversation, and
the full state the ``due_*`` notice is checked against.
"""

from __future__ import annotations

from typing import Any

from boto3.dynamodb.types import TypeDeserializer
from botocore.exceptions import ClientError

from windowkeeper import aws
from windowkeeper.ingest.delta import ContactDelta
from windowkeeper.store.contact_item import ContactRecord, plain
from windowkeeper.store.contact_write_plan import (
    DUE_ATTRIBUTES,
    ContactPlanner,
    DueFor,
    Item,
    Part,
    WriteResult,
    same_due_inputs,
)
from windowkeeper.store.keys import STATE_SK, contact_pk

MAX_ATTEMPTS = 4


def _key(delta: ContactDelta) -> dict[str, str]:
    return {"pk": contact_pk(delta.key.channel, delta.key.account_id, delta.key.contact_id), "sk": STATE_SK}


class ContactWriter(ContactPlanner):
    """``ports.webhook.ContactStateWriter`` on the table."""

    def __init__(self, table_name: str, due_for: DueFor) -> None:
        super().__init__(due_for)
        self.table_name = table_name

    def write(self, delta: ContactDelta) -> WriteResult:
        if not delta.needs_write:
            return WriteResult(item=None, writes=0, window_applied=False)
        projected = self.projected(delta) if delta.window else None
        due = self.due_for(projected) if projected is not None else None
        old: Item | None = None
        writes = 0
        for _ in range(MAX_ATTEMPTS):
            part, window_applied = self.plan(delta, old, due)
            if old is not None and part.empty:
                return WriteResult(item=old, writes=writes, window_applied=False)  # nothing new
            writes += 1
            try:
                new = self._update(delta, part)
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                    raise
                raw: Any = error.response.get("Item")
                old = plain(_deserialise(raw)) if raw else {}
                continue
            entry_applied = any(a in part.set for a in ("entry_point_ms", "ad_conversation_started_ms"))
            closing_moved = entry_applied or "window_closed_early_ms" in part.set
            if window_applied:
                if not (projected and same_due_inputs(projected, new)):
                    writes += self._correct_due(delta, new, due)
            elif closing_moved and new.get("last_customer_action_ms") is not None:
                # The window stayed, but its closing moved: a late ad message (the ad's 7 days) or
                # Meta closing it early (131047). The queued notice follows the full state.
                queued = {a: new[a] for a in DUE_ATTRIBUTES if a in new}
                complete = len(queued) == len(DUE_ATTRIBUTES)
                writes += self._correct_due(delta, new, queued if complete else None)
            return WriteResult(
                item=new, writes=writes, window_applied=window_applied, entry_applied=entry_applied
            )
        raise RuntimeError(f"contact state update lost {MAX_ATTEMPTS} races in a row")

    def _correct_due(self, delta: ContactDelta, new: Item, written: dict[str, Any] | None) -> int:
        """Re-check the notice against the full stored state (e.g. an ad start from an earlier POST).

        Rare: only when state this POST did not carry changes the closing instant. Guarded on the
        window we wrote, so a newer customer action (and its own notice) is never overwritten.
        """
        actual = self.due_for(ContactRecord.from_item(new))
        if actual == written:
            return 0
        names = {"#w": "last_customer_action_ms", **{f"#d{i}": a for i, a in enumerate(DUE_ATTRIBUTES)}}
        values: dict[str, Any] = {":w": new["last_customer_action_ms"]}
        if actual:
            sets = []
            for index, attribute in enumerate(DUE_ATTRIBUTES):
                values[f":d{index}"] = actual[attribute]
                sets.append(f"#d{index} = :d{index}")
            expression = "SET " + ", ".join(sets)
        else:
            expression = "REMOVE " + ", ".join(f"#d{i}" for i in range(len(DUE_ATTRIBUTES)))
        try:
            response = aws.table(self.table_name).update_item(
                Key=_key(delta),
                UpdateExpression=expression,
                ConditionExpression="#w = :w",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
            )
            new.clear()
            new.update(plain(response["Attributes"]))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
        return 1

    def _update(self, delta: ContactDelta, part: Part) -> Item:
        names: dict[str, str] = {}
        values: dict[str, Any] = {}

        def name(attribute: str) -> str:
            placeholder = f"#a{len(names)}"
            names[placeholder] = attribute  # placeholders for all: "owner" is a reserved word
            return placeholder

        def value(content: Any) -> str:
            placeholder = f":v{len(values)}"
            values[placeholder] = content
            return placeholder

        sets = [f"{name(a)} = {value(v)}" for a, v in part.set.items()]
        for attribute, content in part.set_if_absent.items():
            placeholder = name(attribute)
            sets.append(f"{placeholder} = if_not_exists({placeholder}, {value(content)})")
        for attribute, content in part.append.items():
            placeholder = name(attribute)
            sets.append(
                f"{placeholder} = list_append(if_not_exists({placeholder}, {value([])}), {value(content)})"
            )
        expression = "SET " + ", ".join(sets) if sets else ""
        if part.add:
            expression += " ADD " + ", ".join(f"{name(a)} {value(set(v))}" for a, v in part.add.items())
        if part.remove:
            expression += " REMOVE " + ", ".join(name(a) for a in part.remove)
        expression = expression.strip()
        conditions = []
        for attribute, at_ms in part.newer.items():
            placeholder = name(attribute)
            conditions.append(f"(attribute_not_exists({placeholder}) OR {placeholder} < {value(at_ms)})")
        for attribute, at_ms in part.older.items():
            placeholder = name(attribute)
            conditions.append(f"(attribute_not_exists({placeholder}) OR {placeholder} > {value(at_ms)})")
        for attribute, expected in part.equals.items():
            placeholder = name(attribute)
            if expected is None:
                conditions.append(f"attribute_not_exists({placeholder})")
            else:
                conditions.append(f"{placeholder} = {value(expected)}")
        arguments: dict[str, Any] = {
            "Key": _key(delta),
            "UpdateExpression": expression,
            "ExpressionAttributeNames": names,
            "ReturnValues": "ALL_NEW",
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
        if values:
            arguments["ExpressionAttributeValues"] = values
        if conditions:
            arguments["ConditionExpression"] = " AND ".join(conditions)
        response = aws.table(self.table_name).update_item(**arguments)
        result: Item = plain(response["Attributes"])
        return result


def _deserialise(item: dict[str, Any]) -> Item:
    """The old item inside a ConditionalCheckFailed error comes in DynamoDB's typed format."""
    deserializer = TypeDeserializer()
    return {k: deserializer.deserialize(v) for k, v in item.items()}
