"""The send path under concurrency and uncertain delivery, on moto with the real Graph client.

* A customer's STOP stored by the webhook while our send is at Meta survives Meta's marketing
  stop verdict (B2); a second block after the customer wrote again is recorded (B5).
* Two sends to one contact, interleaved between decide and claim, cannot both pass a one-shot
  rule (G3).
* A send Meta may have received is answered "unknown", kept in the idempotency table and
  replayed, never sent twice (B4).
* The failure path after a delivery logs no contact id (P5).
* A private reply is remembered on the comment, after 50 later sends too (issue 10).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.integration.send.conftest import AGENT, BOT, NOW, SendStack
from tests.support.accounts import PAGE_ID, TENANT, WA_PHONE_NUMBER_ID
from tests.support.bus import recording_publish
from tests.support.meta import graph_error_body
from windowkeeper import aws as wk_aws
from windowkeeper.auth import Principal
from windowkeeper.events import BusEvent
from windowkeeper.graph.settings import secrets_token_provider
from windowkeeper.instants import to_ms
from windowkeeper.policy import engine
from windowkeeper.policy.model import (
    AutomationKind,
    Channel,
    Decision,
    DecisionInput,
    Path,
)
from windowkeeper.sending.api_models import SendRequest
from windowkeeper.sending.service import SendService
from windowkeeper.store.account_table import AccountStore
from windowkeeper.store.contact_item import OUTBOUND_KEPT
from windowkeeper.store.keys import DECISION_SK_PREFIX, MESSAGE_SK_PREFIX, STATE_SK, contact_pk
from windowkeeper.wiring import send as send_wiring

PSID = "6789012345678901"
WA_ID = "447700900123"
COMMENT_ID = "178414000000_98765"


def text_message(
    channel: str, account_id: str, contact_id: str, text: str, **extra: object
) -> dict[str, Any]:
    return {
        "channel": channel,
        "account_id": account_id,
        "contact_id": contact_id,
        "content": {"type": "text", "text": text},
        **extra,
    }


def answer_while(stack: SendStack, side_effect: Callable[[], None], response: httpx.Response) -> None:
    """Meta's next answer is ``response``; ``side_effect`` runs while the request is at Meta."""

    def during_the_call(_request: httpx.Request) -> httpx.Response:
        side_effect()
        return response

    stack.meta.success = during_the_call


def webhook_stores_stop_all(table_name: str, pk: str, at: datetime) -> Callable[[], None]:
    """What the webhook writer does for a customer's STOP: its own consent fact, no version bump."""

    def write() -> None:
        wk_aws.table(table_name).update_item(
            Key={"pk": pk, "sk": STATE_SK},
            UpdateExpression="SET consent_all_out_ms = :at",
            ExpressionAttributeValues={":at": to_ms(at)},
        )

    return write


# --- B2: a concurrent STOP is never lost ---------------------------------------------------------
def test_a_stop_stored_while_meta_answers_marketing_stop_is_kept(stack: SendStack) -> None:
    stack.seed_contact(Channel.WHATSAPP, WA_PHONE_NUMBER_ID, WA_ID, customer_wrote_ago=timedelta(hours=2))
    pk = contact_pk(Channel.WHATSAPP, WA_PHONE_NUMBER_ID, WA_ID)
    answer_while(
        stack,
        webhook_stores_stop_all(stack.table_name, pk, NOW - timedelta(seconds=1)),
        httpx.Response(400, json=graph_error_body(131050)),
    )

    status, body = stack.send(
        text_message("whatsapp", WA_PHONE_NUMBER_ID, WA_ID, "Our sale starts now"), claims=BOT
    )

    assert (status, body["decision"]["reasons"]) == (409, ["opted_out"])
    contact = stack.contact(Channel.WHATSAPP, WA_PHONE_NUMBER_ID, WA_ID)
    assert {s.value for s in contact.scopes_opted_out()} == {"all", "marketing"}
    assert contact.consent_all_out_ms == to_ms(NOW - timedelta(seconds=1))


def test_a_webhook_moving_the_backoff_further_is_not_pulled_back(stack: SendStack) -> None:
    stack.seed_contact(Channel.WHATSAPP, WA_PHONE_NUMBER_ID, WA_ID, customer_wrote_ago=timedelta(hours=2))
    pk = contact_pk(Channel.WHATSAPP, WA_PHONE_NUMBER_ID, WA_ID)
    later = to_ms(NOW + timedelta(days=3))

    def webhook_backoff() -> None:
        wk_aws.table(stack.table_name).update_item(
            Key={"pk": pk, "sk": STATE_SK},
            UpdateExpression="SET marketing_backoff_until_ms = :b",
            ExpressionAttributeValues={":b": later},
        )

    answer_while(stack, webhook_backoff, httpx.Response(400, json=graph_error_body(131049)))

    stack.send(text_message("whatsapp", WA_PHONE_NUMBER_ID, WA_ID, "New arrivals"), claims=BOT)

    assert stack.contact(Channel.WHATSAPP, WA_PHONE_NUMBER_ID, WA_ID).marketing_backoff_until_ms == later


# --- B5: a second block after the customer wrote again is recorded -------------------------------
def test_a_new_block_after_the_customer_wrote_again_moves_unreachable_since(stack: SendStack) -> None:
    first_block = NOW - timedelta(days=3)
    stack.seed_contact(
        Channel.MESSENGER,
        PAGE_ID,
        PSID,
        customer_wrote_ago=timedelta(hours=2),  # wrote after the first block: reachable again
        unreachable_since_ms=to_ms(first_block),
        unreachable_reason="meta:551/1545041",
    )
    stack.meta.answer_error(551, 1545041)

    status, _ = stack.send(text_message("messenger", PAGE_ID, PSID, "Are you still there?"), claims=BOT)
    assert status == 409
    contact = stack.contact(Channel.MESSENGER, PAGE_ID, PSID)
    assert contact.unreachable_since_ms == to_ms(NOW)

    # The engine now knows: the next send is refused without asking Meta again.
    status, body = stack.send(text_message("messenger", PAGE_ID, PSID, "Hello?"), claims=BOT)
    assert (status, body["decision"]["reasons"]) == (409, ["unreachable"])
    assert len(stack.meta.requests) == 1


def test_an_ongoing_unreachability_keeps_its_first_instant(stack: SendStack) -> None:
    first_block = NOW - timedelta(hours=1)
    stack.seed_contact(
        Channel.MESSENGER,
        PAGE_ID,
        PSID,
        customer_wrote_ago=timedelta(hours=2),  # wrote before the block: still unreachable
        unreachable_since_ms=to_ms(first_block),
    )
    pk = contact_pk(Channel.MESSENGER, PAGE_ID, PSID)
    from windowkeeper.store.claim_records import MetaVerdicts
    from windowkeeper.store.send_claims import record_send

    record_send(stack.table_name, pk, at=NOW, verdicts=MetaVerdicts(unreachable_reason="meta:551"))

    contact = stack.contact(Channel.MESSENGER, PAGE_ID, PSID)
    assert (contact.unreachable_since_ms, contact.unreachable_reason) == (to_ms(first_block), "meta:551")


# --- G3: two interleaved sends cannot both pass a one-shot rule ------------------------------------
def interleaving_service(stack: SendStack, meanwhile: list[Callable[[], object]]) -> SendService:
    """The wired service, whose engine runs ``meanwhile[0]`` (once) right after deciding."""

    def decide(inp: DecisionInput, at: datetime) -> Decision:
        decision = engine.decide(inp, at)
        if meanwhile:
            meanwhile.pop(0)()  # between this decision and its claim
        return decision

    published: list[BusEvent] = []
    return SendService(
        stores=send_wiring.table_stores(stack.table_name),
        accounts=AccountStore(stack.table_name),
        graph=stack.meta.graph_client(secrets_token_provider, max_attempts=1),
        publish=recording_publish(published),
        decide=decide,
    )


def test_two_interleaved_private_replies_send_only_one(stack: SendStack) -> None:
    commented = NOW - timedelta(hours=3)
    stack.seed_contact(
        Channel.MESSENGER,
        PAGE_ID,
        PSID,
        customer_wrote_ago=None,  # only commented: a private reply, no messaging window
        pending_comment_id=COMMENT_ID,
        pending_comment_ms=to_ms(commented),
    )
    request = SendRequest.model_validate(
        text_message("messenger", PAGE_ID, PSID, "Thanks for your comment! DM sent.", comment_id=COMMENT_ID)
    )
    bot = Principal.system(TENANT, AutomationKind.BOT, "bot-client")
    meanwhile: list[Callable[[], object]] = []
    service = interleaving_service(stack, meanwhile)
    second: list[Any] = []
    meanwhile.append(lambda: second.append(service.send(bot, request, NOW)))

    first = service.send(bot, request, NOW)

    [other] = second
    assert other.status == "sent" and other.decision.path is Path.PRIVATE_REPLY
    assert first.status == "refused"
    assert [r.value for r in first.decision.reasons] == ["window_closed"]
    assert "private reply" in first.decision.explanation
    assert len(stack.meta.requests) == 1
    contact = stack.contact(Channel.MESSENGER, PAGE_ID, PSID)
    assert [o.path for o in contact.outbound] == [Path.PRIVATE_REPLY]


def test_interleaved_sends_that_may_both_go_are_both_kept(stack: SendStack) -> None:
    stack.seed_contact(Channel.MESSENGER, PAGE_ID, PSID, customer_wrote_ago=timedelta(hours=1))
    bot = Principal.system(TENANT, AutomationKind.BOT, "bot-client")
    meanwhile: list[Callable[[], object]] = []
    service = interleaving_service(stack, meanwhile)
    first_request = SendRequest.model_validate(
        text_message("messenger", PAGE_ID, PSID, "Your order shipped.")
    )
    second_request = SendRequest.model_validate(text_message("messenger", PAGE_ID, PSID, "Tracking: ZX-1"))
    meanwhile.append(lambda: service.send(bot, second_request, NOW + timedelta(seconds=1)))

    assert service.send(bot, first_request, NOW).status == "sent"

    contact = stack.contact(Channel.MESSENGER, PAGE_ID, PSID)
    assert sorted(o.at_ms for o in contact.outbound) == [to_ms(NOW), to_ms(NOW + timedelta(seconds=1))]
    assert len(stack.meta.requests) == 2


def test_a_claim_meta_refused_is_released(stack: SendStack) -> None:
    stack.seed_contact(Channel.MESSENGER, PAGE_ID, PSID, customer_wrote_ago=timedelta(hours=1))
    stack.meta.answer_error(987654, 1)  # an unknown, definite error: nothing was sent

    status, body = stack.send(text_message("messenger", PAGE_ID, PSID, "Hello"), claims=BOT)

    assert (status, body["reason"]) == (502, "graph_error")
    contact = stack.contact(Channel.MESSENGER, PAGE_ID, PSID)
    assert contact.outbound == [] and contact.version == 2  # claimed, then released


# --- B4: "may have been sent" is answered, audited and remembered -----------------------------------
def test_a_read_timeout_is_unknown_remembered_and_replayed_not_resent(stack: SendStack) -> None:
    stack.seed_contact(Channel.MESSENGER, PAGE_ID, PSID, customer_wrote_ago=timedelta(hours=2))

    def times_out(_request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("The read operation timed out")

    stack.meta.success = times_out
    message = text_message("messenger", PAGE_ID, PSID, "Your table is ready.")
    key = {"Idempotency-Key": "table-ready-43"}

    status, body = stack.send(message, claims=BOT, headers=key)

    assert (status, body["status"], body["reason"]) == (502, "unknown", "delivery_unknown")
    assert "may or may not have been delivered" in body["message"]
    assert len(stack.meta.requests) == 1  # not retried inside the client either
    [audit] = stack.items(Channel.MESSENGER, PAGE_ID, PSID, DECISION_SK_PREFIX)
    assert audit["outcome"] == "unknown"
    [logged] = stack.items(Channel.MESSENGER, PAGE_ID, PSID, MESSAGE_SK_PREFIX)
    assert logged["status"] == "unknown"
    # It may have gone: it still counts for the contact's caps and one-shot rules.
    assert [o.path for o in stack.contact(Channel.MESSENGER, PAGE_ID, PSID).outbound] == [Path.FREE_FORM]

    replay_status, replay = stack.send(message, claims=BOT, headers=key)

    assert (replay_status, replay) == (status, body)
    assert len(stack.meta.requests) == 1


def test_meta_unreachable_is_still_a_retryable_503(stack: SendStack) -> None:
    stack.seed_contact(Channel.MESSENGER, PAGE_ID, PSID, customer_wrote_ago=timedelta(hours=2))
    calls: list[int] = []

    def refused_then_ok(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        if len(calls) <= 3:  # every attempt of the first request: nothing reaches Meta
            raise httpx.ConnectError("connection refused")
        return httpx.Response(200, json={"recipient_id": PSID, "message_id": "m_second_try"})

    stack.meta.success = refused_then_ok
    message = text_message("messenger", PAGE_ID, PSID, "Table ready.")
    key = {"Idempotency-Key": "table-ready-44"}

    status, body = stack.send(message, claims=BOT, headers=key)
    assert (status, body["status"], body["reason"]) == (503, "failed", "graph_unavailable")
    assert stack.contact(Channel.MESSENGER, PAGE_ID, PSID).outbound == []  # claim released

    status, body = stack.send(message, claims=BOT, headers=key)
    assert (status, body["status"]) == (200, "sent")


# --- P5: no contact id in the logs of a post-delivery failure ------------------------------------------
def test_a_vanished_contact_after_delivery_is_logged_without_its_phone_number(
    stack: SendStack, capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    stack.seed_contact(Channel.WHATSAPP, WA_PHONE_NUMBER_ID, WA_ID, customer_wrote_ago=timedelta(hours=2))
    pk = contact_pk(Channel.WHATSAPP, WA_PHONE_NUMBER_ID, WA_ID)

    def contact_deleted() -> None:
        wk_aws.table(stack.table_name).delete_item(Key={"pk": pk, "sk": STATE_SK})

    answer_while(
        stack,
        contact_deleted,
        httpx.Response(200, json={"messaging_product": "whatsapp", "messages": [{"id": "wamid.HBgLNDQ3"}]}),
    )
    caplog.set_level(logging.INFO)  # the deployed level (POWERTOOLS_LOG_LEVEL); DEBUG dumps boto I/O

    status, body = stack.send(
        text_message("whatsapp", WA_PHONE_NUMBER_ID, WA_ID, "Your appointment is confirmed."), claims=AGENT
    )

    assert (status, body["status"]) == (200, "sent")  # the delivery stands
    out, err = capfd.readouterr()
    logged = out + err + caplog.text + json.dumps([r.__dict__ for r in caplog.records], default=str)
    assert "ContactMissingError" in logged  # the failure was logged (with its traceback)...
    assert WA_ID not in logged  # ...without the customer's phone number


def test_a_second_private_reply_is_refused_even_after_fifty_later_sends(stack: SendStack) -> None:
    # The outbound list keeps the newest 50 sends: the reply's own entry is trimmed away by then.
    stack.seed_contact(
        Channel.MESSENGER,
        PAGE_ID,
        PSID,
        customer_wrote_ago=timedelta(hours=1),
        pending_comment_id=COMMENT_ID,
        pending_comment_ms=to_ms(NOW - timedelta(hours=3)),
    )
    reply = text_message(
        "messenger", PAGE_ID, PSID, "Thanks for your comment! DM sent.", comment_id=COMMENT_ID
    )

    assert stack.send(reply, claims=BOT)[0] == 200
    assert stack.contact(Channel.MESSENGER, PAGE_ID, PSID).pending_comment_replied is True
    for n in range(OUTBOUND_KEPT):
        assert stack.send(text_message("messenger", PAGE_ID, PSID, f"Update {n}"), claims=BOT)[0] == 200
    assert Path.PRIVATE_REPLY not in {
        o.path for o in stack.contact(Channel.MESSENGER, PAGE_ID, PSID).outbound
    }

    status, body = stack.send(reply, claims=BOT)

    assert (status, body["decision"]["reasons"]) == (409, ["window_closed"])
    assert "private reply to this comment was sent" in body["decision"]["explanation"]
    assert len(stack.meta.requests) == 1 + OUTBOUND_KEPT


def test_a_private_reply_meta_refused_leaves_the_comment_open(stack: SendStack) -> None:
    stack.seed_contact(
        Channel.MESSENGER,
        PAGE_ID,
        PSID,
        customer_wrote_ago=None,
        pending_comment_id=COMMENT_ID,
        pending_comment_ms=to_ms(NOW - timedelta(hours=3)),
    )
    stack.meta.answer_error(987654, 1)  # an unknown, definite error: nothing was sent
    reply = text_message(
        "messenger", PAGE_ID, PSID, "Thanks for your comment! DM sent.", comment_id=COMMENT_ID
    )

    assert stack.send(reply, claims=BOT)[0] == 502

    assert stack.contact(Channel.MESSENGER, PAGE_ID, PSID).pending_comment_replied is False
    assert stack.send(reply, claims=BOT)[0] == 200
