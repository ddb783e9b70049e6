"""SMS two-way messages (End User Messaging SMS via SNS) through the inbound service."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.aws_notifications import EMAIL_TOPIC_ARN, SMS_TOPIC_ARN, sns_record, two_way_sms
from tests.support.fakes.webhook import InMemoryWebhookBackends
from windowkeeper.accounts import AccountConfig
from windowkeeper.events import DetailType
from windowkeeper.ingest.aws_inbound import handle_sns_record
from windowkeeper.ingest.service import Outcome
from windowkeeper.instants import from_ms
from windowkeeper.policy.model import Channel, ConsentScope

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
SENT_AT = datetime(2026, 11, 20, 11, 58, 30, tzinfo=UTC)
NUMBER = AccountConfig(tenant_id="acme", channel=Channel.SMS, account_id="+14155550100")
CUSTOMER = "+14255550182"
TOPICS = {SMS_TOPIC_ARN: Channel.SMS, EMAIL_TOPIC_ARN: Channel.EMAIL}


def backends(*accounts: AccountConfig) -> InMemoryWebhookBackends:
    return InMemoryWebhookBackends.of(*(accounts or (NUMBER,)), app_secret="unused")


def text(body: str, message_id: str = "cae173d2-66b9-564c-8309-21f858e9fb84", **kw: Any) -> dict[str, Any]:
    return two_way_sms(
        sender=kw.pop("sender", CUSTOMER),
        number=kw.pop("number", NUMBER.account_id),
        text=body,
        message_id=message_id,
        at=kw.pop("at", SENT_AT),
        **kw,
    )


def deliver(meta: InMemoryWebhookBackends, record: dict[str, Any]) -> Outcome:
    return handle_sns_record(record, meta.ports(), TOPICS, now=NOW)


def reason(outcome: Outcome) -> tuple[int, str]:
    assert isinstance(outcome.body, dict)
    return outcome.status, str(outcome.body.get("reason") or outcome.body.get("quarantined"))


def test_a_text_makes_a_contact_at_the_sns_timestamp_without_consent_on_record() -> None:
    meta = backends()
    outcome = deliver(meta, text("Is my order on its way?"))
    assert outcome.status == 200, outcome.body
    record = meta.contact("sms", NUMBER.account_id, CUSTOMER)
    assert record is not None
    assert from_ms(record.last_customer_action_ms) == SENT_AT
    assert not record.consent_on_record  # an inbound message is not consent (consent.direct)
    actions = [e for e in meta.published if e.detail_type == DetailType.CUSTOMER_ACTION]
    assert [e.detail["text"] for e in actions] == ["Is my order on its way?"]
    assert "MSG" in meta.item_kinds()


def test_start_is_consent_on_record_and_stop_opts_out_of_everything() -> None:
    meta = backends()
    assert deliver(meta, text("START", "m-1")).status == 200
    record = meta.contact("sms", NUMBER.account_id, CUSTOMER)
    assert record is not None and record.consent_on_record
    assert deliver(meta, text("stop", "m-2", at=SENT_AT + timedelta(minutes=1))).status == 200
    record = meta.contact("sms", NUMBER.account_id, CUSTOMER)
    assert record is not None and ConsentScope.ALL in record.scopes_opted_out()


def test_a_carrier_opt_out_word_counts_even_when_the_accounts_list_lacks_it() -> None:
    spanish_only = NUMBER.model_copy(update={"opt_out_keywords": ("BAJA",), "opt_in_keywords": ("ALTA",)})
    meta = backends(spanish_only)
    assert deliver(meta, text("CANCEL", "m-1")).status == 200
    record = meta.contact("sms", NUMBER.account_id, CUSTOMER)
    assert record is not None and ConsentScope.ALL in record.scopes_opted_out()
    sources = [e.detail["source"] for e in meta.published if e.detail_type == DetailType.CONSENT_CHANGED]
    assert sources == ["sms_carrier_keyword"]


def test_help_is_logged_and_changes_no_consent() -> None:
    meta = backends()
    assert deliver(meta, text("HELP")).status == 200
    record = meta.contact("sms", NUMBER.account_id, CUSTOMER)
    assert record is not None and not record.consent_on_record and not record.scopes_opted_out()
    assert not [e for e in meta.published if e.detail_type == DetailType.CONSENT_CHANGED]
    (action,) = [e for e in meta.published if e.detail_type == DetailType.CUSTOMER_ACTION]
    assert action.detail["help"] is True


def test_a_record_from_a_topic_not_configured_is_refused_and_nothing_is_stored() -> None:
    meta = backends()
    forged = text("START", topic_arn="arn:aws:sns:eu-west-1:999999999999:someone-elses-topic")
    outcome = deliver(meta, forged)
    assert reason(outcome) == (403, "unknown_topic")
    assert not meta.contacts and not meta.published and not meta.quarantined
    # Its own metric: SignatureRejected alarms on a wrong Meta app secret, which this is not.
    assert outcome.metrics == {"TopicRefused": 1}


def test_a_text_to_a_number_we_do_not_serve_is_quarantined() -> None:
    meta = backends()
    outcome = deliver(meta, text("hi", number="+14155550199"))
    assert outcome.status == 200
    assert [r for _, r, _ in meta.quarantined] == ["unknown_account"]
    assert not meta.contacts


def test_an_unreadable_message_is_kept_whole_and_files_nothing() -> None:
    meta = backends()
    not_json = sns_record(SMS_TOPIC_ARN, "originationNumber=+1425", at=SENT_AT, message_id="x")
    no_sender = sns_record(
        SMS_TOPIC_ARN,
        json.dumps({"destinationNumber": NUMBER.account_id, "messageBody": "hi", "inboundMessageId": "1"}),
        at=SENT_AT,
        message_id="y",
    )
    assert deliver(meta, not_json).status == 200
    assert deliver(meta, no_sender).status == 200
    assert deliver(meta, {"EventSource": "aws:sqs"}).status == 200
    assert [r for _, r, _ in meta.quarantined] == ["invalid_json", "schema_invalid", "schema_invalid"]
    assert not meta.contacts
    kept = json.loads(meta.quarantined[0][0])
    assert kept["Sns"]["Message"] == "originationNumber=+1425"  # the whole record, to replay


def test_a_storage_failure_answers_500_so_lambda_retries() -> None:
    meta = backends()
    meta.bus_down = True
    assert reason(deliver(meta, text("hello"))) == (500, "storage_unavailable")


ACTIONS = {"hello": "Hi, is the store open?", "stop": "STOP", "start": "START"}


@settings(max_examples=60, deadline=None)
@given(
    kinds=st.lists(st.sampled_from(sorted(ACTIONS)), min_size=1, max_size=5),
    seed=st.randoms(use_true_random=False),
    duplicates=st.integers(min_value=0, max_value=3),
)
def test_state_ends_the_same_whatever_the_order_and_duplication(
    kinds: list[str], seed: random.Random, duplicates: int
) -> None:
    records = [
        text(ACTIONS[kind], f"m-{i}", at=SENT_AT + timedelta(minutes=i)) for i, kind in enumerate(kinds)
    ]
    delivered = records + [seed.choice(records) for _ in range(duplicates)]
    seed.shuffle(delivered)
    in_order, shuffled = backends(), backends()
    for record in records:
        assert deliver(in_order, record).status == 200
    for record in delivered:
        assert deliver(shuffled, record).status == 200
    expected = in_order.contact("sms", NUMBER.account_id, CUSTOMER)
    got = shuffled.contact("sms", NUMBER.account_id, CUSTOMER)
    assert expected is not None and got is not None
    assert got.scopes_opted_out() == expected.scopes_opted_out()
    assert got.consent_on_record == expected.consent_on_record == ("start" in kinds)
    assert got.last_customer_action_ms == expected.last_customer_action_ms
    consent_kinds = [k for k in kinds if k in ("stop", "start")]
    if consent_kinds:
        assert (ConsentScope.ALL in got.scopes_opted_out()) == (consent_kinds[-1] == "stop")
