"""One-shot and capped rules hold when sends to one contact race each other (issue 10, defect 7).

8 contacts x 6 simultaneous sends (threads) under each rule: one Messenger marketing message per
48 h, one tagged message per 24 h (the account's cap of 1), one private reply per comment on
Messenger and Instagram. Exactly one message per contact may reach Meta.

Every request reads its own clock on arrival, a few ms apart, as concurrent Lambda invocations
do. A request whose clock read earlier can claim later, so the claim it must not overtake is
stamped after its ``now``: the engine must still count it.

moto's conditional writes are not atomic under threads, so every AWS call is serialised by a
lock (``serialised_aws``): what is tested is our claim protocol, not moto. The threads also meet
at a barrier right after their first decision, so all six decide on the same item before any of
them claims: the race is certain, not left to the scheduler.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.support.accounts import (
    IG_ACCOUNT_ID,
    PAGE_ID,
    PAGE_TOKEN,
    TENANT,
    TOKEN_SECRET,
    instagram_account,
    messenger_page,
)
from tests.support.bus import recording_publish
from tests.support.meta import FakeMeta
from tests.support.seed import contact_record, put_contact, seed_accounts
from windowkeeper.auth import AGENTS_GROUP, Principal
from windowkeeper.errors import DomainError
from windowkeeper.events import BusEvent
from windowkeeper.graph.settings import secrets_token_provider
from windowkeeper.instants import to_ms
from windowkeeper.policy import engine
from windowkeeper.policy.model import AutomationKind, Channel, Decision, DecisionInput, Path, ReasonCode
from windowkeeper.sending.api_models import SendRequest
from windowkeeper.sending.service import SendOutcome, SendService
from windowkeeper.store.account_table import AccountStore
from windowkeeper.store.contact_item import StoredOptIn
from windowkeeper.wiring import send as send_wiring
from windowkeeper_tools.aws_resources import Resources

NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
CONTACTS = 8
SENDS = 6
AD_ACCOUNT = "act_570012345678901"
CAMPAIGN = "120210000000000001"

BOT = Principal.system(TENANT, AutomationKind.BOT, "bot-campaigns")


def agent(number: int) -> Principal:
    return Principal(subject=f"agent-{number}", tenant_id=TENANT, groups=frozenset({AGENTS_GROUP}))


class Race:
    """The wired send service, whose engine holds each thread's first decision at a barrier."""

    def __init__(self, table_name: str, meta: FakeMeta) -> None:
        self.table_name = table_name
        self.meta = meta
        self.graph = meta.graph_client(secrets_token_provider, max_attempts=1)
        self.published: list[BusEvent] = []
        self._first = threading.local()
        self._barriers: dict[str, threading.Barrier] = {}
        self.service = SendService(
            stores=send_wiring.table_stores(table_name),
            accounts=AccountStore(table_name),
            graph=self.graph,
            publish=recording_publish(self.published),
            decide=self._decide,
        )

    def _decide(self, inp: DecisionInput, at: datetime) -> Decision:
        decision = engine.decide(inp, at)
        if not getattr(self._first, "done", False):
            self._first.done = True
            self._barriers[inp.contact.contact_id].wait(timeout=30)
        return decision

    def run(self, requests: list[tuple[Principal, dict[str, Any]]]) -> list[SendOutcome]:
        """Every request at once, each with its own arrival clock (a few ms apart, shuffled)."""
        for _, body in requests:
            self._barriers.setdefault(body["contact_id"], threading.Barrier(SENDS))
        clocks = [NOW + timedelta(milliseconds=ms) for ms in range(len(requests))]
        random.Random(10).shuffle(clocks)

        def send(job: tuple[tuple[Principal, dict[str, Any]], datetime]) -> SendOutcome | DomainError:
            (principal, body), now = job
            self._first.done = False
            try:
                return self.service.send(principal, SendRequest.model_validate(body), now)
            except DomainError as error:  # 409 contact_busy: counted, so the figures stay comparable
                return error

        with ThreadPoolExecutor(max_workers=len(requests)) as pool:
            answers = list(pool.map(send, zip(requests, clocks, strict=True)))
        busy = [a.reason for a in answers if isinstance(a, DomainError)]
        print(f"\n{len(requests)} sends: {len(self.meta.requests)} reached Meta, {len(busy)} contact_busy")
        assert busy == []
        return [a for a in answers if isinstance(a, SendOutcome)]

    def delivered_to(self) -> dict[str, int]:
        """How many requests reached Meta per recipient (PSID, IGSID or comment id)."""
        counts: dict[str, int] = {}
        for _, body in self.meta.calls():
            recipient = body.get("recipient") or {}
            who = recipient.get("id") or recipient.get("comment_id") or str(recipient)
            counts[who] = counts.get(who, 0) + 1
        return counts


@pytest.fixture
def race(aws: Resources, serialised_aws: None) -> Iterator[Race]:
    page = messenger_page(
        marketing_ad_account_id=AD_ACCOUNT,
        marketing_campaign_id=CAMPAIGN,
        marketing_audience_region="US",
        tagged_messages_per_24h_cap=1,
    )
    seed_accounts(aws.table_name, [page, instagram_account()], {TOKEN_SECRET: PAGE_TOKEN})
    race = Race(aws.table_name, FakeMeta())
    try:
        yield race
    finally:
        race.graph.close()


def seed(race: Race, channel: Channel, account_id: str, contact_id: str, **attributes: Any) -> None:
    put_contact(
        race.table_name, contact_record(channel, account_id, contact_id, tenant_id=TENANT, **attributes)
    )


def text(channel: Channel, account_id: str, contact_id: str, words: str, **extra: Any) -> dict[str, Any]:
    return {
        "channel": channel.value,
        "account_id": account_id,
        "contact_id": contact_id,
        "content": {"type": "text", "text": words},
        **extra,
    }


def assert_exactly_one_each(race: Race, outcomes: list[SendOutcome], recipients: list[str]) -> None:
    delivered = race.delivered_to()
    sent = [o for o in outcomes if o.status == "sent"]
    assert delivered == dict.fromkeys(recipients, 1)
    assert len(sent) == len(recipients)
    assert {o.status for o in outcomes} == {"sent", "refused"}


def test_one_marketing_message_per_48h_cap_under_six_simultaneous_sends(race: Race) -> None:
    psids = [f"73000000000001{n:02d}" for n in range(CONTACTS)]
    for psid in psids:
        seed(
            race,
            Channel.MESSENGER,
            PAGE_ID,
            psid,
            wrote_at=NOW - timedelta(days=12),
            marketing_opt_ins=[StoredOptIn(token=f"sub-{psid}", opted_in_ms=to_ms(NOW - timedelta(days=12)))],
        )
    requests = [
        (
            BOT,
            text(Channel.MESSENGER, PAGE_ID, psid, f"Spring sale #{n}: 30% off tents.", purpose="marketing"),
        )
        for psid in psids
        for n in range(SENDS)
    ]

    outcomes = race.run(requests)

    # The Marketing Messages API names the recipient by its subscription token.
    tokens = [body["messenger_delivery_data"]["subscription_token"] for _, body in race.meta.calls()]
    assert sorted(tokens) == sorted(f"sub-{psid}" for psid in psids)
    assert [o.decision.path for o in outcomes if o.status == "sent"] == [Path.MARKETING_MESSAGE] * CONTACTS
    refused = [o.decision.reasons for o in outcomes if o.status == "refused"]
    assert all(ReasonCode.FREQUENCY_LIMITED in reasons for reasons in refused)


def test_one_tagged_message_under_a_cap_of_one_per_24h_under_six_simultaneous_sends(race: Race) -> None:
    psids = [f"73000000000002{n:02d}" for n in range(CONTACTS)]
    for psid in psids:
        seed(race, Channel.MESSENGER, PAGE_ID, psid, wrote_at=NOW - timedelta(days=2))
    requests = [
        (agent(n), text(Channel.MESSENGER, PAGE_ID, psid, f"Your replacement pole ships today ({n})."))
        for psid in psids
        for n in range(SENDS)
    ]

    outcomes = race.run(requests)

    assert_exactly_one_each(race, outcomes, psids)
    assert {o.decision.path for o in outcomes if o.status == "sent"} == {Path.HUMAN_AGENT}
    refused = [o.decision.reasons for o in outcomes if o.status == "refused"]
    assert all(ReasonCode.FREQUENCY_LIMITED in reasons for reasons in refused)


@pytest.mark.parametrize(
    ("channel", "account_id"), [(Channel.MESSENGER, PAGE_ID), (Channel.INSTAGRAM, IG_ACCOUNT_ID)]
)
def test_one_private_reply_per_comment_under_six_simultaneous_sends(
    race: Race, channel: Channel, account_id: str
) -> None:
    contacts = [f"{channel.value}-commenter-{n}" for n in range(CONTACTS)]
    comments = [f"178414000000_9{n:04d}" for n in range(CONTACTS)]
    for contact_id, comment_id in zip(contacts, comments, strict=True):
        seed(
            race,
            channel,
            account_id,
            contact_id,
            wrote_at=None,
            pending_comment_id=comment_id,
            pending_comment_ms=to_ms(NOW - timedelta(hours=3)),
        )
    requests = [
        (BOT, text(channel, account_id, contact_id, "Thanks! We sent you the details.", comment_id=comment))
        for contact_id, comment in zip(contacts, comments, strict=True)
        for _ in range(SENDS)
    ]

    outcomes = race.run(requests)

    assert_exactly_one_each(race, outcomes, comments)
    assert {o.decision.path for o in outcomes if o.status == "sent"} == {Path.PRIVATE_REPLY}
