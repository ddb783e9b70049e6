"""E-mail in (SES receiving, SNS action) through the inbound service: verdicts, MIME, opt-outs."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.aws_notifications import EMAIL_TOPIC_ARN, SMS_TOPIC_ARN, ses_received, sns_record
from tests.support.fakes.webhook import InMemoryWebhookBackends
from windowkeeper.accounts import AccountConfig
from windowkeeper.events import DetailType
from windowkeeper.ingest.aws_inbound import handle_sns_record
from windowkeeper.ingest.service import Outcome
from windowkeeper.instants import from_ms
from windowkeeper.policy.model import Channel, ConsentScope

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
RECEIVED_AT = datetime(2026, 11, 20, 11, 59, 1, tzinfo=UTC)
SUPPORT = AccountConfig(tenant_id="acme", channel=Channel.EMAIL, account_id="support@acme.example")
SALES = AccountConfig(tenant_id="acme", channel=Channel.EMAIL, account_id="sales@acme.example")
ANA = "ana.souza@example.com"
TOPICS = {SMS_TOPIC_ARN: Channel.SMS, EMAIL_TOPIC_ARN: Channel.EMAIL}


def backends() -> InMemoryWebhookBackends:
    return InMemoryWebhookBackends.of(SUPPORT, SALES, app_secret="unused")


MESSAGE_ID = "o3vrnil0e2ic28trm7dfhrc2v0clambda4nbp0g1"  # an SES message id


def mail(body: str, message_id: str = MESSAGE_ID, **kw: Any) -> dict[str, Any]:
    return ses_received(
        sender=kw.pop("sender", f"Ana Souza <{ANA.upper()}>"),
        recipients=kw.pop("recipients", ["Support@Acme.example"]),
        subject=kw.pop("subject", "Where is my order?"),
        body=body,
        message_id=message_id,
        at=kw.pop("at", RECEIVED_AT),
        **kw,
    )


def deliver(meta: InMemoryWebhookBackends, record: dict[str, Any]) -> Outcome:
    return handle_sns_record(record, meta.ports(), TOPICS, now=NOW)


def consent_sources(meta: InMemoryWebhookBackends) -> list[str]:
    return [e.detail["source"] for e in meta.published if e.detail_type == DetailType.CONSENT_CHANGED]


def test_a_mail_makes_the_lower_cased_sender_a_contact_of_the_address_it_was_sent_to() -> None:
    meta = backends()
    outcome = deliver(meta, mail("Hello,\nmy order 1234 has not arrived.\n\nAna"))
    assert outcome.status == 200, outcome.body
    record = meta.contact("email", SUPPORT.account_id, ANA)
    assert record is not None
    assert record.display_name == "Ana Souza"
    assert from_ms(record.last_customer_action_ms) == RECEIVED_AT
    assert not record.consent_on_record and not record.scopes_opted_out()
    (action,) = [e for e in meta.published if e.detail_type == DetailType.CUSTOMER_ACTION]
    assert action.detail["subject"] == "Where is my order?"
    assert action.detail["text"].startswith("Hello,\nmy order 1234")
    assert action.detail["message_kind"] == "email"


def test_a_base64_notification_reads_the_same() -> None:
    meta = backends()
    assert deliver(meta, mail("Olá, tudo bem?", encoding="BASE64")).status == 200
    (action,) = [e for e in meta.published if e.detail_type == DetailType.CUSTOMER_ACTION]
    assert action.detail["text"] == "Olá, tudo bem?"


def test_a_mail_to_two_of_our_addresses_files_a_contact_for_each() -> None:
    meta = backends()
    assert deliver(meta, mail("hi both", recipients=[SUPPORT.account_id, "sales@acme.example"])).status == 200
    assert meta.contact("email", SUPPORT.account_id, ANA) is not None
    assert meta.contact("email", SALES.account_id, ANA) is not None


@pytest.mark.parametrize(
    ("verdicts", "expected"),
    [
        ({"dkim": "FAIL"}, "email_not_authentic"),
        ({"spf": "FAIL", "dmarc": "FAIL"}, "email_not_authentic"),
        ({"virus": "FAIL"}, "email_spam_or_virus"),
        ({"spam": "FAIL"}, "email_spam_or_virus"),
    ],
)
def test_a_failed_ses_verdict_quarantines_the_mail_and_files_nothing(
    verdicts: dict[str, str], expected: str
) -> None:
    meta = backends()
    outcome = deliver(meta, mail("STOP", verdicts=verdicts))
    assert outcome.status == 200
    assert [r for _, r, _ in meta.quarantined] == [expected]
    assert not meta.contacts and not meta.published


def test_gray_verdicts_are_not_failures() -> None:
    meta = backends()
    assert deliver(meta, mail("hi", verdicts={"dkim": "GRAY", "dmarc": "GRAY", "spf": "GRAY"})).status == 200
    assert meta.contact("email", SUPPORT.account_id, ANA) is not None


@pytest.mark.parametrize(
    ("subject", "body"),
    [
        ("unsubscribe", "Please take me off your list."),
        ("Re: your order", "STOP\n\nOn Tue, Acme wrote:\n> Your order shipped"),
        ("Re: your order", "\n  Unsubscribe.\nThanks"),
    ],
)
def test_an_unsubscribe_subject_or_a_stop_first_line_opts_out_of_everything(subject: str, body: str) -> None:
    meta = backends()
    assert deliver(meta, mail(body, subject=subject)).status == 200
    record = meta.contact("email", SUPPORT.account_id, ANA)
    assert record is not None and ConsentScope.ALL in record.scopes_opted_out()
    assert len(consent_sources(meta)) == 1


def test_stop_inside_a_sentence_is_not_an_opt_out() -> None:
    meta = backends()
    assert deliver(meta, mail("Please don't stop the order, I still want it.")).status == 200
    record = meta.contact("email", SUPPORT.account_id, ANA)
    assert record is not None and not record.scopes_opted_out()
    assert consent_sources(meta) == []


def test_start_on_the_first_line_is_consent_on_record() -> None:
    meta = backends()
    assert deliver(meta, mail("START\n\nSent from my phone", subject="yes please")).status == 200
    record = meta.contact("email", SUPPORT.account_id, ANA)
    assert record is not None and record.consent_on_record


def test_an_automatic_reply_is_not_the_customer_acting() -> None:
    meta = backends()
    auto = "Auto-Submitted: auto-replied\r\n"
    out_of_office = mail("I am out of the office until Monday.", extra_headers=auto)
    assert deliver(meta, out_of_office).status == 200
    assert not meta.contacts and not meta.published


def test_ses_setup_notification_is_ignored_and_other_kinds_are_kept() -> None:
    meta = backends()
    setup = json.dumps({"notificationType": "AMAZON_SES_SETUP_NOTIFICATION", "receipt": {}})
    bounce = json.dumps({"notificationType": "Bounce", "bounce": {}})
    assert deliver(meta, sns_record(EMAIL_TOPIC_ARN, setup, at=RECEIVED_AT, message_id="s")).status == 200
    assert deliver(meta, sns_record(EMAIL_TOPIC_ARN, bounce, at=RECEIVED_AT, message_id="b")).status == 200
    assert [r for _, r, _ in meta.quarantined] == ["unknown_event_kind"]
    assert not meta.contacts


def test_a_mail_sent_to_the_sms_topic_is_not_read_as_email() -> None:
    meta = backends()
    record = mail("hi", topic_arn=SMS_TOPIC_ARN)
    assert deliver(meta, record).status == 200
    assert [r for _, r, _ in meta.quarantined] == ["schema_invalid"]
    assert not meta.contacts


KINDS = {
    "hello": ("Question", "Do you ship to Portugal?"),
    "unsubscribe": ("unsubscribe", ""),
    "stop": ("Re: news", "STOP"),
    "start": ("Re: news", "START"),
}


@settings(max_examples=60, deadline=None)
@given(
    kinds=st.lists(st.sampled_from(sorted(KINDS)), min_size=1, max_size=5),
    seed=st.randoms(use_true_random=False),
    duplicates=st.integers(min_value=0, max_value=3),
)
def test_state_ends_the_same_whatever_the_order_and_duplication(
    kinds: list[str], seed: random.Random, duplicates: int
) -> None:
    records = [
        mail(KINDS[kind][1], f"m-{i}", subject=KINDS[kind][0], at=RECEIVED_AT + timedelta(minutes=i))
        for i, kind in enumerate(kinds)
    ]
    delivered = records + [seed.choice(records) for _ in range(duplicates)]
    seed.shuffle(delivered)
    in_order, shuffled = backends(), backends()
    for record in records:
        assert deliver(in_order, record).status == 200
    for record in delivered:
        assert deliver(shuffled, record).status == 200
    expected = in_order.contact("email", SUPPORT.account_id, ANA)
    got = shuffled.contact("email", SUPPORT.account_id, ANA)
    assert expected is not None and got is not None
    assert got.scopes_opted_out() == expected.scopes_opted_out()
    assert got.consent_on_record == expected.consent_on_record == ("start" in kinds)
    said = [k for k in kinds if k != "hello"]
    if said:
        assert (ConsentScope.ALL in got.scopes_opted_out()) == (said[-1] != "start")
