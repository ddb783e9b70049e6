"""409 ``contact_busy``: the send path gives up after ``MAX_CLAIM_ATTEMPTS`` lost claims.

Every allowed decision is claimed on the contact under the ``version`` it was decided on; a lost
claim re-reads the contact and decides again. Here every decision is followed by another writer
bumping the contact's ``version`` (what a concurrent send's claim does), so every claim loses:
the answer must be 409 ``contact_busy``, Meta is never called and nothing is claimed. A retry
with the same Idempotency-Key once the contact is quiet sends (the busy answer is not replayed).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from tests.integration.send.conftest import BOT, SendStack
from tests.support.accounts import PAGE_ID
from tests.support.bus import recording_publish
from windowkeeper import aws as wk_aws
from windowkeeper import observability
from windowkeeper.events import BusEvent
from windowkeeper.graph.settings import secrets_token_provider
from windowkeeper.policy import engine
from windowkeeper.policy.model import Channel, Decision, DecisionInput
from windowkeeper.sending.service import CONTACT_BUSY_MESSAGE, MAX_CLAIM_ATTEMPTS, SendService
from windowkeeper.store.account_table import AccountStore
from windowkeeper.store.keys import DECISION_SK_PREFIX, MESSAGE_SK_PREFIX, STATE_SK, contact_pk
from windowkeeper.wiring import send as send_wiring

PSID = "6789012345678901"
SHIPPED = {
    "channel": "messenger",
    "account_id": PAGE_ID,
    "contact_id": PSID,
    "content": {"type": "text", "text": "Your order shipped today."},
}


class BusyContact:
    """An engine whose every decision is followed by another writer's change to the contact."""

    def __init__(self, table_name: str, pk: str) -> None:
        self.table_name = table_name
        self.pk = pk
        self.busy = True
        self.decisions = 0

    def decide(self, inp: DecisionInput, at: datetime) -> Decision:
        decision = engine.decide(inp, at)
        self.decisions += 1
        if self.busy:
            # Between this decision and its claim: the version the claim is conditional on moves.
            wk_aws.table(self.table_name).update_item(
                Key={"pk": self.pk, "sk": STATE_SK},
                UpdateExpression="SET version = if_not_exists(version, :zero) + :one",
                ExpressionAttributeValues={":zero": 0, ":one": 1},
            )
        return decision


@pytest.fixture
def busy(stack: SendStack) -> Iterator[BusyContact]:
    contact = BusyContact(stack.table_name, contact_pk(Channel.MESSENGER, PAGE_ID, PSID))
    published: list[BusEvent] = []
    graph = stack.meta.graph_client(secrets_token_provider, max_attempts=3)
    send_wiring.use_send_service(
        SendService(
            stores=send_wiring.table_stores(stack.table_name),
            accounts=AccountStore(stack.table_name),
            graph=graph,
            publish=recording_publish(published),
            decide=contact.decide,
            metrics=observability.metrics,
        )
    )
    stack.published = published
    try:
        yield contact
    finally:
        graph.close()  # the stack fixture puts its own service back to None afterwards


def emitted_metrics(out: str) -> dict[str, Any]:
    """The EMF line powertools printed for the request (metric name -> values)."""
    [line] = [json.loads(text) for text in out.splitlines() if '"_aws"' in text]
    metrics: dict[str, Any] = line
    return metrics


def test_every_claim_lost_answers_contact_busy_without_calling_meta(
    stack: SendStack, busy: BusyContact, capsys: pytest.CaptureFixture[str]
) -> None:
    stack.seed_contact(Channel.MESSENGER, PAGE_ID, PSID, customer_wrote_ago=timedelta(hours=1))
    capsys.readouterr()

    status, body = stack.send(SHIPPED, claims=BOT)

    assert (status, body) == (
        409,
        {"status": "error", "reason": "contact_busy", "message": CONTACT_BUSY_MESSAGE},
    )
    assert busy.decisions == MAX_CLAIM_ATTEMPTS  # decided again after each lost claim, then gave up
    assert stack.meta.requests == []
    contact = stack.contact(Channel.MESSENGER, PAGE_ID, PSID)
    assert contact.outbound == []  # no claim was ever written
    assert contact.version == MAX_CLAIM_ATTEMPTS  # only the other writer's bumps
    # Nothing was decided for good, so there is no decision audit, no conversation entry, no event:
    # the 409 and the metrics below are the whole record of it.
    assert stack.items(Channel.MESSENGER, PAGE_ID, PSID, DECISION_SK_PREFIX) == []
    assert stack.items(Channel.MESSENGER, PAGE_ID, PSID, MESSAGE_SK_PREFIX) == []
    assert stack.published == []
    metrics = emitted_metrics(capsys.readouterr().out)
    assert metrics["SendClaimConflicts"] == [1.0] * MAX_CLAIM_ATTEMPTS


def test_a_retry_with_the_same_key_sends_once_the_contact_is_quiet(
    stack: SendStack, busy: BusyContact
) -> None:
    stack.seed_contact(Channel.MESSENGER, PAGE_ID, PSID, customer_wrote_ago=timedelta(hours=1))
    key = {"Idempotency-Key": "order-shipped-7"}

    first_status, first = stack.send(SHIPPED, claims=BOT, headers=key)
    busy.busy = False
    second_status, second = stack.send(SHIPPED, claims=BOT, headers=key)

    assert (first_status, first["reason"]) == (409, "contact_busy")
    assert (second_status, second["status"]) == (200, "sent")  # the busy answer was not remembered
    assert len(stack.meta.requests) == 1
    [audit] = stack.items(Channel.MESSENGER, PAGE_ID, PSID, DECISION_SK_PREFIX)
    assert (audit["outcome"], audit["path"]) == ("sent", "free_form")
