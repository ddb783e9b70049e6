"""Random webhook histories, delivered orderly or shuffled with duplicates, and what they leave.

Used by the property test (``tests/integration/webhook/test_delivery_order_property.py``, histories
drawn by hypothesis) and by the replay measurement (``test_replay_at_scale``: a seeded history of
``WINDOWKEEPER_REPLAY_EVENTS`` events). Both go through the real webhook service
(``ingest.webhook_wiring.handle_post``: signature, parsing, normaliser, collapse, the conditional
``UpdateItem`` writer, the conversation log and consent ledger, the bus) on moto.

Every history is played twice, in two "universes" that differ only in the contact ids: once in
timestamp order, each event in its own POST, once batched at random (1-3 events a POST), every
POST delivered twice and the whole shuffled. What each contact ends with (the ``STATE`` item,
its consent ledger, and the engine's answers for every path, bot and person, at three instants)
must be the same in both.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.unit.ingest.meta_fixtures import (
    ALL_ACCOUNTS,
    BASE_S,
    IG_ID,
    OUR_APP_ID,
    PAGE_ID,
    PHONE_NUMBER_ID,
    WABA_ID,
)
from windowkeeper import aws as wk_aws
from windowkeeper.ingest.models import INSTAGRAM_INBOX_APP_ID, PAGE_INBOX_APP_ID
from windowkeeper.ingest.signature import sign
from windowkeeper.policy import engine
from windowkeeper.policy.model import AutomationKind, Channel, Sender, SenderKind
from windowkeeper.store.contact_item import ContactRecord, plain
from windowkeeper.store.keys import STATE_SK, contact_pk
from windowkeeper.wiring import webhook as webhook_wiring

Entry = tuple[str, dict[str, Any]]  # (webhook object, one entry)

MESSENGER_KINDS = (
    "m_text",
    "m_stop",
    "m_start",
    "m_baja",
    "m_ad_message",
    "m_bare_ad",
    "m_link",
    "m_reaction",
    "m_postback",
    "m_optin",
    "m_stop_notifications",
    "m_resume_notifications",
    "m_inbox_echo",
    "m_own_echo",
    "m_delivery",
    "m_feed_comment",
    "m_take_thread",
    "m_release_thread",
)
INSTAGRAM_KINDS = (
    "ig_text",
    "ig_stop",
    "ig_start",
    "ig_comment",
    "ig_inbox_echo",
    "ig_reaction",
    "ig_ad_message",
)
WHATSAPP_KINDS = (
    "wa_text",
    "wa_stop",
    "wa_start",
    "wa_baja",
    "wa_ctwa",
    "wa_user_stop",
    "wa_user_resume",
    "wa_sent",
    "wa_read",
    "wa_failed_131050",
    "wa_failed_131049",
    "wa_failed_131047",
    "wa_call",
)
KINDS = {
    Channel.MESSENGER: MESSENGER_KINDS,
    Channel.INSTAGRAM: INSTAGRAM_KINDS,
    Channel.WHATSAPP: WHATSAPP_KINDS,
}
# The contact's own key and what is derived from it (the due-index shard), not state.
STATE_IGNORED = frozenset({"pk", "sk", "contact_id", "account_shard", "due_bucket", "version"})

BOT = Sender(kind=SenderKind.AUTOMATION, principal_id="bot-1", automation=AutomationKind.BOT)
PERSON = Sender(kind=SenderKind.HUMAN, principal_id="agent-1")
ACCOUNTS = {a.channel: a for a in ALL_ACCOUNTS}


@dataclass(frozen=True)
class Event:
    """One thing that happened: ``kind`` to contact number ``contact`` of ``channel`` at ``at_s``."""

    channel: Channel
    contact: int
    kind: str
    at_s: int
    serial: int  # unique per history: message ids


def contact_id(channel: Channel, contact: int, universe: int) -> str:
    base = {Channel.MESSENGER: 7300000000000000, Channel.INSTAGRAM: 5600000000000000}
    if channel is Channel.WHATSAPP:
        return str(447700000000 + contact * 10 + universe)  # +44 numbers: marketing is allowed
    return str(base[channel] + contact * 10 + universe)


def random_history(rng: random.Random, events: int, contacts: int) -> list[Event]:
    """``events`` events over ``contacts`` contacts per channel; distinct seconds per contact."""
    out = []
    used: set[tuple[Channel, int, int]] = set()
    span = max(events * 4, 600)
    for serial in range(events):
        channel = rng.choice((Channel.MESSENGER, Channel.INSTAGRAM, Channel.WHATSAPP))
        contact = rng.randrange(contacts)
        at_s = BASE_S + rng.randrange(span)
        while (channel, contact, at_s) in used:
            at_s += 1
        used.add((channel, contact, at_s))
        out.append(Event(channel, contact, rng.choice(KINDS[channel]), at_s, serial))
    return out


# ---------------------------------------------------------------- payloads


def _messaging(account_id: str, customer: str, at_ms: int, **event: Any) -> dict[str, Any]:
    base = {"sender": {"id": customer}, "recipient": {"id": account_id}, "timestamp": at_ms}
    return {"id": account_id, "time": at_ms, "messaging": [{**base, **event}]}


def _echo(account_id: str, customer: str, at_ms: int, app_id: str, mid: str) -> dict[str, Any]:
    event = {
        "sender": {"id": account_id},
        "recipient": {"id": customer},
        "timestamp": at_ms,
        "message": {"mid": mid, "is_echo": True, "app_id": int(app_id), "text": "Hi, a person here."},
    }
    return {"id": account_id, "time": at_ms, "messaging": [event]}


def _wa(field: str, **value: Any) -> dict[str, Any]:
    meta = {"display_phone_number": "442079460000", "phone_number_id": PHONE_NUMBER_ID}
    return {
        "id": WABA_ID,
        "changes": [{"field": field, "value": {"messaging_product": "whatsapp", "metadata": meta, **value}}],
    }


def _wa_contacts(wa_id: str) -> list[dict[str, Any]]:
    return [{"profile": {"name": "Alex Doe"}, "wa_id": wa_id}]


def _wa_status(wa_id: str, at_s: int, serial: int, status: str, code: int | None = None) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": f"wamid.out-{serial}",
        "status": status,
        "timestamp": str(at_s),
        "recipient_id": wa_id,
    }
    if code is not None:
        entry["errors"] = [{"code": code, "title": f"error {code}"}]
    return _wa("messages", statuses=[entry])


def entry_for(event: Event, universe: int) -> Entry:
    who = contact_id(event.channel, event.contact, universe)
    at_ms, at_s, n, kind = event.at_s * 1000, event.at_s, event.serial, event.kind
    mid = f"m_{n}"
    ad = {"source": "ADS", "type": "OPEN_THREAD", "ref": "winter", "ad_id": "2385000000000001"}

    def text(account: str, body: str, **extra: Any) -> dict[str, Any]:
        return _messaging(account, who, at_ms, message={"mid": mid, "text": body, **extra})

    def optin(status: str | None, token: str | None) -> dict[str, Any]:
        fields: dict[str, Any] = {"type": "notification_messages", "payload": "DEALS"}
        if token:
            fields["notification_messages_token"] = token
        if status:
            fields["notification_messages_status"] = status
        return _messaging(PAGE_ID, who, at_ms, optin=fields)

    messenger: dict[str, Callable[[], dict[str, Any]]] = {
        "m_text": lambda: text(PAGE_ID, "Where is my order?"),
        "m_stop": lambda: text(PAGE_ID, "STOP"),
        "m_start": lambda: text(PAGE_ID, "start"),
        "m_baja": lambda: text(PAGE_ID, "¡Baja!"),
        "m_ad_message": lambda: text(PAGE_ID, "Is it waterproof?", referral=ad),
        "m_bare_ad": lambda: _messaging(PAGE_ID, who, at_ms, referral=ad),
        "m_link": lambda: _messaging(PAGE_ID, who, at_ms, referral={"source": "SHORTLINK", "ref": "spring"}),
        "m_reaction": lambda: _messaging(
            PAGE_ID, who, at_ms, reaction={"mid": "m_out", "action": "react", "reaction": "love"}
        ),
        "m_postback": lambda: _messaging(
            PAGE_ID, who, at_ms, postback={"mid": mid, "title": "Track", "payload": "TRACK"}
        ),
        "m_optin": lambda: optin(None, f"tok-{n}"),
        "m_stop_notifications": lambda: optin("STOP NOTIFICATIONS", f"tok-{n}"),
        "m_resume_notifications": lambda: optin("RESUME NOTIFICATIONS", f"tok-{n}"),
        "m_inbox_echo": lambda: _echo(PAGE_ID, who, at_ms, PAGE_INBOX_APP_ID, mid),
        "m_own_echo": lambda: _echo(PAGE_ID, who, at_ms, OUR_APP_ID, mid),
        "m_delivery": lambda: _messaging(
            PAGE_ID, who, at_ms, delivery={"mids": ["m_out"], "watermark": at_ms}
        ),
        "m_feed_comment": lambda: {
            "id": PAGE_ID,
            "time": at_s,
            "changes": [
                {
                    "field": "feed",
                    "value": {
                        "from": {"id": who, "name": "Sam"},
                        "item": "comment",
                        "verb": "add",
                        "comment_id": f"99_{n}",
                        "post_id": f"{PAGE_ID}_99",
                        "parent_id": f"{PAGE_ID}_99",
                        "message": "Price?",
                        "created_time": at_s,
                    },
                }
            ],
        },
        "m_take_thread": lambda: _messaging(
            PAGE_ID,
            who,
            at_ms,
            take_thread_control={"previous_owner_app_id": OUR_APP_ID, "new_owner_app_id": PAGE_INBOX_APP_ID},
        ),
        "m_release_thread": lambda: _messaging(
            PAGE_ID, who, at_ms, release_thread_control={"previous_owner_app_id": PAGE_INBOX_APP_ID}
        ),
    }
    instagram: dict[str, Callable[[], dict[str, Any]]] = {
        "ig_text": lambda: text(IG_ID, "Do you have it in green?"),
        "ig_stop": lambda: text(IG_ID, "Stop."),
        "ig_start": lambda: text(IG_ID, "START"),
        "ig_ad_message": lambda: text(IG_ID, "Price?", referral=ad),
        "ig_comment": lambda: {
            "id": IG_ID,
            "time": at_s,
            "changes": [
                {
                    "field": "comments",
                    "value": {
                        "from": {"id": who, "username": "alex"},
                        "media": {"id": "1795", "media_product_type": "FEED"},
                        "id": f"1786{n}",
                        "text": "How much?",
                        "timestamp": at_s,
                    },
                }
            ],
        },
        "ig_inbox_echo": lambda: _echo(IG_ID, who, at_ms, INSTAGRAM_INBOX_APP_ID, mid),
        "ig_reaction": lambda: _messaging(
            IG_ID, who, at_ms, reaction={"mid": "m_out", "action": "react", "reaction": "love"}
        ),
    }

    def wa_text(body: str, **extra: Any) -> dict[str, Any]:
        message = {"from": who, "id": f"wamid.in-{n}", "timestamp": str(at_s), "type": "text"}
        return _wa(
            "messages", contacts=_wa_contacts(who), messages=[{**message, "text": {"body": body}, **extra}]
        )

    def preference(value: str) -> dict[str, Any]:
        pref = {"wa_id": who, "category": "marketing_messages", "value": value, "timestamp": at_s}
        return _wa("user_preferences", contacts=_wa_contacts(who), user_preferences=[pref])

    whatsapp: dict[str, Callable[[], dict[str, Any]]] = {
        "wa_text": lambda: wa_text("Hello, I need help with my booking"),
        "wa_stop": lambda: wa_text("stop"),
        "wa_start": lambda: wa_text("Start"),
        "wa_baja": lambda: wa_text("BAJA"),
        "wa_ctwa": lambda: wa_text(
            "Is this still available?",
            referral={"source_type": "ad", "source_id": "1202", "ctwa_clid": f"clid-{n}"},
        ),
        "wa_user_stop": lambda: preference("stop"),
        "wa_user_resume": lambda: preference("resume"),
        "wa_sent": lambda: _wa_status(who, at_s, n, "sent"),
        "wa_read": lambda: _wa_status(who, at_s, n, "read"),
        "wa_failed_131050": lambda: _wa_status(who, at_s, n, "failed", 131050),
        "wa_failed_131049": lambda: _wa_status(who, at_s, n, "failed", 131049),
        "wa_failed_131047": lambda: _wa_status(who, at_s, n, "failed", 131047),
        "wa_call": lambda: _wa(
            "calls",
            contacts=_wa_contacts(who),
            calls=[
                {
                    "id": f"wacid.{n}",
                    "to": "442079460000",
                    "from": who,
                    "event": "connect",
                    "timestamp": str(at_s),
                    "direction": "USER_INITIATED",
                }
            ],
        ),
    }
    builders = {Channel.MESSENGER: messenger, Channel.INSTAGRAM: instagram, Channel.WHATSAPP: whatsapp}
    webhook_object = {
        Channel.MESSENGER: "page",
        Channel.INSTAGRAM: "instagram",
        Channel.WHATSAPP: "whatsapp_business_account",
    }[event.channel]
    return webhook_object, builders[event.channel][kind]()


def batched(events: Sequence[Event], universe: int, sizes: Callable[[], int]) -> list[bytes]:
    """Consecutive events of one object in POSTs of ``sizes()`` entries (Meta batches that way)."""
    posts: list[bytes] = []
    index = 0
    while index < len(events):
        size = sizes()
        batch = [events[index]]
        index += 1
        while len(batch) < size and index < len(events) and events[index].channel is batch[0].channel:
            batch.append(events[index])
            index += 1
        entries = [entry_for(e, universe) for e in batch]
        body = {"object": entries[0][0], "entry": [e for _, e in entries]}
        posts.append(json.dumps(body, ensure_ascii=True).encode())
    return posts


def orderly(history: Sequence[Event], universe: int, batch: int = 1) -> list[bytes]:
    """Each event once, in timestamp order (``batch`` > 1: consecutive events share a POST)."""
    ordered = sorted(history, key=lambda e: (e.at_s, e.serial))
    return batched(ordered, universe, lambda: batch)


def shuffled(history: Sequence[Event], universe: int, rng: random.Random, batch: int = 3) -> list[bytes]:
    """Random batches of 1..``batch`` same-object events, each POST twice, all shuffled."""
    posts: list[bytes] = []
    for channel in KINDS:
        events = [e for e in history if e.channel is channel]
        rng.shuffle(events)
        posts += batched(events, universe, lambda: rng.randint(1, batch))
    delivered = posts + posts
    rng.shuffle(delivered)
    return delivered


def deliver(
    posts: Iterable[bytes], settings: webhook_wiring.WebhookSettings, app_secret: str, now: datetime
) -> int:
    count = 0
    for body in posts:
        outcome = webhook_wiring.handle_post(
            body, {"x-hub-signature-256": sign(body, app_secret)}, settings, now=now
        )
        assert outcome.status == 200, outcome.body
        assert not (isinstance(outcome.body, dict) and outcome.body.get("quarantined")), outcome.body
        count += 1
    return count


# ---------------------------------------------------------------- what a contact ends with


def _item(table_name: str, pk: str, sk: str = STATE_SK) -> dict[str, Any] | None:
    item = wk_aws.table(table_name).get_item(Key={"pk": pk, "sk": sk}).get("Item")
    return plain(item) if item else None


def _ledger(table_name: str, pk: str) -> list[tuple[Any, ...]]:
    items = wk_aws.table(table_name).query(
        KeyConditionExpression="pk = :pk AND begins_with(sk, :dec)",
        ExpressionAttributeValues={":pk": pk, ":dec": "DEC#"},
    )["Items"]
    return sorted((i["at_ms"], i["source"], tuple(i["reasons"])) for i in (plain(x) for x in items))


def outcome_of(
    table_name: str, channel: Channel, contact: int, universe: int, probes: Sequence[datetime]
) -> Any:
    """The stored state (without the contact's own ids), consent ledger and engine answers."""
    account = ACCOUNTS[channel]
    pk = contact_pk(channel, account.account_id, contact_id(channel, contact, universe))
    item = _item(table_name, pk)
    if item is None:
        return None
    state = {k: v for k, v in item.items() if k not in STATE_IGNORED}
    if "marketing_opt_in_set" in state:
        state["marketing_opt_in_set"] = sorted(state["marketing_opt_in_set"])
    event_id = str(state.get("last_inbound_event_id", ""))
    if ":" in event_id:  # ids Meta does not give are hashes of the event, contact id included
        state["last_inbound_event_id"] = event_id.split(":", 1)[0]
    contact_state = ContactRecord.from_item(item).to_state()
    answers = []
    for at in probes:
        for sender in (BOT, PERSON):
            options = engine.evaluate_paths(contact_state, account.profile(), sender, at)
            answers.append([o.model_dump(mode="json") for o in options])
    return {"state": state, "ledger": _ledger(table_name, pk), "answers": answers}


def probes(history: Sequence[Event]) -> list[datetime]:
    last = max((e.at_s for e in history), default=BASE_S)
    at = datetime.fromtimestamp(last, tz=UTC)
    return [at + timedelta(hours=1), at + timedelta(days=3), at + timedelta(days=8)]


@dataclass(frozen=True)
class Replay:
    events: int
    contacts: int
    posts_orderly: int
    posts_shuffled: int
    differing: list[tuple[Channel, int, list[str]]]  # (channel, contact, what differs)


def replay(
    history: Sequence[Event],
    settings: webhook_wiring.WebhookSettings,
    app_secret: str,
    rng: random.Random,
    *,
    batch: int = 1,
) -> Replay:
    """Deliver ``history`` both ways and list the contacts that end differently."""
    now = datetime.fromtimestamp(max(e.at_s for e in history) + 60, tz=UTC)
    posts_orderly = deliver(orderly(history, 0, batch), settings, app_secret, now)
    posts_shuffled = deliver(shuffled(history, 1, rng, max(3, batch)), settings, app_secret, now)
    at = probes(history)
    differing = []
    contacts = sorted({(e.channel, e.contact) for e in history})
    for channel, contact in contacts:
        first = outcome_of(settings.table_name, channel, contact, 0, at)
        second = outcome_of(settings.table_name, channel, contact, 1, at)
        if first != second:
            differing.append((channel, contact, _what_differs(first, second)))
    return Replay(len(history), len(contacts), posts_orderly, posts_shuffled, differing)


def _what_differs(first: Any, second: Any) -> list[str]:
    if first is None or second is None:
        return ["stored in one delivery only"]
    out = [
        f"state.{k}: {first['state'].get(k)!r} != {second['state'].get(k)!r}"
        for k in sorted(set(first["state"]) | set(second["state"]))
        if first["state"].get(k) != second["state"].get(k)
    ]
    if first["ledger"] != second["ledger"]:
        out.append(f"ledger: {first['ledger']} != {second['ledger']}")
    if first["answers"] != second["answers"]:
        out.append("engine answers")
    return out
