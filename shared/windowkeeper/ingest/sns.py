"""One SNS notification as the inbound function receives it (a Lambda SNS event record).

SNS invokes the function with ``{"Records": [{"EventSource": "aws:sns", "Sns": {...}}]}``; the
record is read with powertools' ``SnsRecordModel`` (its pydantic model of that event) and kept as
an ``SnsNotice``: which topic, SNS's message id, the instant SNS took it, and the message text the
publisher (End User Messaging SMS, SES) wrote.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.utilities.parser.models import SnsRecordModel
from pydantic import ValidationError

from windowkeeper.ingest.channels.base import UnparsableBody
from windowkeeper.ingest.normalize.common import first_problem
from windowkeeper.ingest.scrub import may_hold_lone_surrogate, scrub_lone_surrogates
from windowkeeper.instants import to_ms


@dataclass(frozen=True)
class SnsNotice:
    topic_arn: str
    message_id: str
    at_ms: int  # the envelope's Timestamp: when SNS took the message
    message: str


def read_record(record: Any) -> SnsNotice:
    """The notice in one Lambda SNS record; ``UnparsableBody`` when it is not one."""
    try:
        parsed = SnsRecordModel.model_validate(record)
    except ValidationError as error:
        raise UnparsableBody("schema_invalid", first_problem(error)) from error
    sns = parsed.Sns
    message = sns.Message if isinstance(sns.Message, str) else json.dumps(sns.Message)
    return SnsNotice(sns.TopicArn, sns.MessageId, to_ms(sns.Timestamp), message)


def notice_json(notice: SnsNotice) -> tuple[Any, int]:
    """The message as JSON, text no store accepts replaced (and how many such characters)."""
    try:
        payload = json.loads(notice.message)
    except RecursionError as error:
        raise UnparsableBody("json_too_deep", "the message nests too deep to parse") from error
    except ValueError as error:
        raise UnparsableBody("invalid_json", "the SNS message is not JSON") from error
    if may_hold_lone_surrogate(notice.message.encode("utf-8", "surrogatepass")):
        payload, replaced = scrub_lone_surrogates(payload)
        return payload, replaced
    return payload, 0
