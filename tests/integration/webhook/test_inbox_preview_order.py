"""The inbox preview and sort instant end the same whatever order and duplication the webhook's
contact writes and the send path's preview writes land in: the newest message wins (ties by
message id), and ``last_activity_ms`` is the newest customer message."""

from __future__ import annotations

import itertools
import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.seed import contact_item
from windowkeeper.ingest.delta import ContactDelta, WindowChange
from windowkeeper.ingest.observations import ContactKey
from windowkeeper.policy.model import Channel, CustomerActionKind
from windowkeeper.store.contact_writer import ContactWriter
from windowkeeper.store.conversation_log import record_preview
from windowkeeper.store.message_preview import MessagePreview
from windowkeeper_tools.aws_resources import Resources

BASE_MS = 1_795_000_000_000
PAGE = "1111"
_contacts = itertools.count(1)


@st.composite
def message(draw: st.DrawFn) -> MessagePreview:
    """A message of its own id (ids are unique in a history: one id is one message)."""
    direction = draw(st.sampled_from(["in", "out"]))
    message_id = f"{direction}.{draw(st.sampled_from(['a', 'b', 'c']))}"
    return MessagePreview(
        at_ms=draw(st.integers(BASE_MS, BASE_MS + 3)),  # few instants: ties are common
        message_id=message_id,
        direction="in" if direction == "in" else "out",
        kind="text",
        text=draw(st.text(max_size=150)),
    )


def deliver(table: str, contact_id: str, preview: MessagePreview) -> None:
    if preview.direction == "out":  # the send path, after a delivered send
        record_preview(table, Channel.MESSENGER, PAGE, contact_id, preview)
        return
    key = ContactKey(Channel.MESSENGER, PAGE, contact_id)
    window = WindowChange(at_ms=preview.at_ms, kind=CustomerActionKind.MESSAGE, event_id=preview.message_id)
    delta = ContactDelta(
        key=key,
        tenant_id="acme",
        customer_event=True,
        window=window,
        preview=preview,
        activity_ms=preview.at_ms,
    )
    ContactWriter(table, due_for=lambda _record: None).write(delta)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    messages=st.lists(message(), min_size=1, max_size=8, unique_by=lambda m: m.message_id),
    seed=st.integers(0, 2**32 - 1),
)
def test_any_order_and_duplication_keeps_the_newest_preview(
    aws: Resources, messages: list[MessagePreview], seed: int
) -> None:
    first_in = MessagePreview(at_ms=BASE_MS - 1, message_id="m.0", direction="in", kind="text", text="hi")
    messages = [first_in, *messages]  # the customer writes first: an outbound preview never creates
    finals = []
    for shuffled in range(2):
        contact_id = str(next(_contacts))
        rest = messages[1:] if shuffled == 0 else messages[1:] * 2
        if shuffled:
            random.Random(seed).shuffle(rest)
        order = [first_in, *rest]
        for preview in order:
            deliver(aws.table_name, contact_id, preview)
        item = contact_item(aws.table_name, Channel.MESSENGER, PAGE, contact_id)
        finals.append(
            {k: v for k, v in item.items() if k.startswith("last_message") or k == "last_activity_ms"}
        )
    newest = max(messages, key=lambda m: m.key)
    assert finals[0] == finals[1]
    assert finals[0]["last_message_key"] == newest.key
    assert finals[0]["last_message_direction"] == newest.direction
    assert finals[0].get("last_message_text") == newest.attributes().get("last_message_text")
    assert finals[0]["last_activity_ms"] == max(m.at_ms for m in messages if m.direction == "in")
