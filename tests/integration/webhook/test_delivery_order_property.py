"""Done-when of issue 10 (inbound): any order, any duplication, the same state and decisions.

Hypothesis draws histories over the three webhook objects (messages, keywords, user_preferences,
marketing opt-ins and stops, ad referrals, comments, echoes, handovers, statuses with 131050,
131049 and 131047 errors, calls); ``tests/support/delivery_replay.py`` delivers each through the
real webhook service on moto once in timestamp order and once batched, duplicated and shuffled,
and every contact must end with the same stored state, consent ledger and engine answers.

``WINDOWKEEPER_REPLAY_EVENTS`` scales ``test_replay_at_scale`` (default 300 events; README:
"Delivery-order replay" runs it at 10,000).
"""

from __future__ import annotations

import os
import random

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.integration.webhook.conftest import WebhookStack
from tests.support import delivery_replay as replay_support
from tests.support.delivery_replay import KINDS, Event
from tests.unit.ingest.meta_fixtures import BASE_S
from windowkeeper.policy.model import Channel
from windowkeeper.wiring import webhook as webhook_wiring

_universe = iter(range(10**9))


@st.composite
def histories(draw: st.DrawFn) -> list[Event]:
    size = draw(st.integers(min_value=1, max_value=16))
    channels = draw(st.lists(st.sampled_from(list(KINDS)), min_size=size, max_size=size))
    kinds = [draw(st.sampled_from(KINDS[channel])) for channel in channels]
    contacts = draw(st.lists(st.integers(0, 1), min_size=size, max_size=size))
    slots = draw(st.permutations(range(size)))
    spread = draw(st.sampled_from([1, 600, 7 * 3600]))  # seconds apart: same minute .. days
    base = next(_universe) * 10  # fresh contacts per example (the table is shared by examples)
    return [
        Event(channel, base + contact, kind, BASE_S + slots[i] * spread, i)
        for i, (channel, kind, contact) in enumerate(zip(channels, kinds, contacts, strict=True))
    ]


@settings(
    max_examples=int(os.environ.get("WINDOWKEEPER_PROPERTY_EXAMPLES", "15")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(history=histories(), seed=st.integers(0, 2**32 - 1))
# Found by this test: a marketing stop (consent only) and a "sent" status (no write needed). Sent
# together, the status's country code rode along; sent apart, it was never stored.
@example(
    history=[
        Event(Channel.WHATSAPP, 10**7, "wa_user_stop", BASE_S, 0),
        Event(Channel.WHATSAPP, 10**7, "wa_sent", BASE_S + 1, 1),
    ],
    seed=7,
)
def test_any_order_and_duplication_ends_like_one_orderly_delivery(
    stack: WebhookStack, history: list[Event], seed: int
) -> None:
    result = replay_support.replay(
        history, webhook_wiring.WebhookSettings.from_env(), stack.app_secret, random.Random(seed)
    )
    assert result.differing == []


def test_replay_at_scale(stack: WebhookStack, capsys: pytest.CaptureFixture[str]) -> None:
    """A seeded random history (about 20 events a contact), every POST twice and shuffled."""
    events = int(os.environ.get("WINDOWKEEPER_REPLAY_EVENTS", "150"))
    contacts_per_channel = max(1, events // 60)  # x 3 channels: ~20 events a contact
    rng = random.Random(20261204)
    history = replay_support.random_history(rng, events, contacts_per_channel)
    history = [Event(e.channel, e.contact + 10**8, e.kind, e.at_s, e.serial) for e in history]
    batch = int(os.environ.get("WINDOWKEEPER_REPLAY_BATCH", "1"))  # events per orderly POST
    result = replay_support.replay(
        history, webhook_wiring.WebhookSettings.from_env(), stack.app_secret, rng, batch=batch
    )
    with capsys.disabled():
        print(
            f"\nreplay: {result.events} events over {result.contacts} contacts; "
            f"{result.posts_orderly} orderly POSTs, {result.posts_shuffled} shuffled POSTs (each twice); "
            f"{len(result.differing)} contacts differ"
        )
        for channel, contact, what in result.differing[:10]:
            print(f"  {channel.value} #{contact}: {'; '.join(what)[:400]}")
    assert result.differing == []


def test_the_history_generator_covers_every_kind() -> None:
    history = replay_support.random_history(random.Random(1), 2000, 5)
    assert {(e.channel, e.kind) for e in history} == {(c, k) for c, kinds in KINDS.items() for k in kinds}
    assert all(isinstance(e.channel, Channel) for e in history)
