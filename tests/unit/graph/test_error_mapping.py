"""Meta's refusals read into our reason codes and contact effects (meta-policy.md §5, §6)."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from tests.unit.graph.conftest import (
    IGSID,
    INSTAGRAM_ACCOUNT,
    MESSENGER_PAGE,
    PSID,
    WA_ID,
    WHATSAPP_NUMBER,
    contact,
    decision,
    graph_error,
)
from windowkeeper.graph import ERROR_TABLE
from windowkeeper.policy.model import Channel, Content, ContentKind, Path, ReasonCode

TEXT = Content(kind=ContentKind.TEXT, text="Following up on your question about the refund.")
ACCOUNTS = {
    Channel.MESSENGER: MESSENGER_PAGE,
    Channel.INSTAGRAM: INSTAGRAM_ACCOUNT,
    Channel.WHATSAPP: WHATSAPP_NUMBER,
}
CONTACTS = {Channel.MESSENGER: PSID, Channel.INSTAGRAM: IGSID, Channel.WHATSAPP: WA_ID}


def send(make_client, channel: Channel, answer: httpx.Response, **fields):
    client, _ = make_client([answer])
    fields = fields or ({"type": "text"} if channel is Channel.WHATSAPP else {"messaging_type": "RESPONSE"})
    return client.send(
        ACCOUNTS[channel], contact(channel, CONTACTS[channel]), decision(Path.FREE_FORM, **fields), TEXT
    )


M, IG, WA = Channel.MESSENGER, Channel.INSTAGRAM, Channel.WHATSAPP


@pytest.mark.parametrize(
    ("channel", "code", "subcode", "reason", "effect"),
    [
        (M, 10, 2018278, ReasonCode.WINDOW_CLOSED, "window_closed_early"),
        (IG, 10, 2534022, ReasonCode.WINDOW_CLOSED, "window_closed_early"),
        (M, 551, None, ReasonCode.UNREACHABLE, "unreachable"),
        (M, 551, 1545041, ReasonCode.UNREACHABLE, "unreachable"),
        (M, 200, 1545041, ReasonCode.UNREACHABLE, "unreachable"),
        (M, 10, 2018108, ReasonCode.UNREACHABLE, "unreachable"),
        (M, 10, 1893015, ReasonCode.OPTED_OUT, "marketing_opted_out"),
        (M, 613, 2018338, ReasonCode.FREQUENCY_LIMITED, "tagged_sends_throttled"),
        (M, 10, 2018300, ReasonCode.PERMISSION_MISSING, "thread_controlled_elsewhere"),
        (IG, 100, 2534037, ReasonCode.PERMISSION_MISSING, "thread_controlled_elsewhere"),
        (M, 10, 1893063, ReasonCode.PERMISSION_MISSING, "account_restricted"),
        (M, 100, 2534025, ReasonCode.CONTENT_INVALID, None),
        (M, 10, 2018065, ReasonCode.PERMISSION_MISSING, None),
        (WA, 131047, None, ReasonCode.WINDOW_CLOSED, "window_closed_early"),
        (WA, 131026, None, ReasonCode.UNREACHABLE, "unreachable"),
        (WA, 131049, None, ReasonCode.BACKOFF, "marketing_backoff_code"),
        (WA, 131050, None, ReasonCode.OPTED_OUT, "marketing_opted_out"),
        (WA, 132015, None, ReasonCode.TEMPLATE_NOT_APPROVED, "template_unavailable"),
        (WA, 132016, None, ReasonCode.TEMPLATE_NOT_APPROVED, "template_unavailable"),
        (WA, 132000, None, ReasonCode.CONTENT_INVALID, None),
        (WA, 132001, None, ReasonCode.CONTENT_INVALID, None),
        (WA, 132012, None, ReasonCode.CONTENT_INVALID, None),
        (WA, 131064, None, ReasonCode.QUOTA_EXHAUSTED, "business_initiated_limited"),
        (WA, 131063, None, ReasonCode.CHANNEL_UNSUPPORTED, "marketing_api_required"),
        (WA, 368, None, ReasonCode.PERMISSION_MISSING, "account_restricted"),
        (WA, 131031, None, ReasonCode.PERMISSION_MISSING, "account_restricted"),
        (WA, 130497, None, ReasonCode.REGION_BLOCKED, None),
        (WA, 131048, None, ReasonCode.FREQUENCY_LIMITED, "business_initiated_limited"),
        (WA, 130472, None, ReasonCode.BACKOFF, None),
        (WA, 131062, None, ReasonCode.CONTENT_INVALID, None),
    ],
)
def test_meta_refusals_map_to_reason_and_effect(make_client, channel, code, subcode, reason, effect):
    answer = graph_error(code, subcode, message=f"(#{code}) Meta's own words")
    result = send(make_client, channel, answer)
    assert not result.ok and result.known_error and not result.transient
    assert result.reason is reason
    assert result.error is not None and result.error.code == code and result.error.subcode == subcode
    assert result.error.message == f"(#{code}) Meta's own words"
    set_effects = set(result.effects.to_dict()) - {"unreachable_reason"}
    assert set_effects == ({effect} if effect else set())
    assert result.sources, "every mapped error names its fact-sheet sources"


def test_window_closed_on_messenger_names_meta_sentence_and_source(make_client):
    result = send(
        make_client,
        M,
        graph_error(10, 2018278, message="(#10) This message is sent outside of allowed window."),
    )
    assert result.refused_on_policy
    assert result.effects.window_closed_early
    assert result.sources == ("M4",)
    assert result.summary()["error"]["fbtrace_id"] == "AbCdEf"


def test_unreachable_records_which_code_said_so(make_client):
    result = send(make_client, M, graph_error(551, 1545041))
    assert result.effects.unreachable_reason == "meta:551/1545041"


def test_whatsapp_131049_asks_for_a_marketing_back_off_without_stamping_it(make_client):
    result = send(
        make_client,
        WA,
        graph_error(
            131049,
            message="(#131049) This message was not delivered to maintain healthy ecosystem engagement.",
        ),
    )
    # The client has no clock: the send service stamps the back-off from its request's now.
    assert result.effects.marketing_backoff_code == 131049


def test_whatsapp_error_details_are_kept(make_client):
    answer = graph_error(
        131047,
        message="(#131047) Re-engagement message",
        error_data={
            "messaging_product": "whatsapp",
            "details": "Message failed to send because more than 24 hours have passed",
        },
    )
    result = send(make_client, WA, answer)
    assert result.error is not None and result.error.details.startswith("Message failed to send")


def test_invalid_token_is_known_but_not_a_policy_refusal(make_client):
    result = send(
        make_client,
        M,
        graph_error(190, 463, status=401, message="Error validating access token: Session has expired"),
    )
    assert result.known_error and result.reason is None and not result.refused_on_policy
    assert result.effects.token_invalid


def test_error_100_is_tag_retired_only_when_we_sent_a_retired_tag(make_client):
    client, _ = make_client([graph_error(100, message="(#100) Invalid parameter")])
    late = decision(
        Path.MESSAGE_TAG, datetime(2026, 6, 1, tzinfo=UTC), messaging_type="MESSAGE_TAG", tag="ACCOUNT_UPDATE"
    )
    result = client.send(MESSENGER_PAGE, contact(M, PSID), late, TEXT)
    assert result.reason is ReasonCode.TAG_RETIRED and result.known_error

    untagged = send(make_client, M, graph_error(100, message="(#100) Invalid parameter"))
    assert untagged.reason is None and not untagged.known_error


def test_error_100_on_a_marketing_message_means_the_opt_in_token_is_gone(make_client):
    result = send(
        make_client,
        M,
        graph_error(100, message="(#100) Invalid notification_messages_token"),
        api="marketing_messages",
        subscription_token="7733112200",
    )
    assert result.reason is ReasonCode.OPT_IN_REQUIRED


def test_a_code_we_do_not_know_is_surfaced_verbatim_and_marked_unknown(make_client):
    result = send(make_client, M, graph_error(1234567, 42, message="(#1234567) Something brand new"))
    assert not result.ok and not result.known_error and not result.transient
    assert result.reason is None and not result.effects.any
    assert result.error is not None and (result.error.code, result.error.subcode) == (1234567, 42)
    assert result.error.message == "(#1234567) Something brand new"


def test_whatsapp_code_on_messenger_is_not_misread(make_client):
    result = send(make_client, M, graph_error(131047))
    assert not result.known_error and result.reason is None


def test_a_4xx_without_a_graph_body_is_unknown(make_client):
    result = send(make_client, M, httpx.Response(404, text="Not Found"))
    assert not result.known_error and result.error is not None and result.error.code is None


def test_every_row_of_the_table_names_its_sources_and_a_meaning():
    for rule in ERROR_TABLE:
        assert rule.sources and rule.meaning, rule
        assert rule.channels
