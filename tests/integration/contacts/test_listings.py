"""Listings: a contact's audit trail, the tenant's conversations, a conversation's messages, accounts."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.support.accounts import (
    GLOBEX_PAGE_ID,
    IG_ACCOUNT_ID,
    PAGE_ID,
    TENANT,
    TOKEN_SECRET,
    WA_PHONE_NUMBER_ID,
)
from tests.support.seed import decision_entry
from windowkeeper import aws as wk_aws
from windowkeeper.instants import to_ms
from windowkeeper.policy.model import Channel, ConsentScope
from windowkeeper.store.audit_table import append_audit
from windowkeeper.store.keys import ACCOUNT_SHARDS, contact_pk, shard_of
from windowkeeper.store.message_records import message_item

from .conftest import ACCOUNTS, AGENT, GLOBEX_AGENT, NOW, ContactsStack, contact_path

PSID = "6543210987654321"


# --- GET .../decisions ---------------------------------------------------------------------------
def seed_decisions(stack: ContactsStack, count: int) -> list[str]:
    pk = contact_pk(Channel.MESSENGER, PAGE_ID, PSID)
    ids = []
    for minute in range(count):
        at = NOW - timedelta(minutes=count - minute)
        entry = decision_entry(
            f"dec-{minute}",
            at,
            tenant_id=TENANT,
            account_id=PAGE_ID,
            contact_id=PSID,
            outcome="sent",
            allowed=True,
            path="free_form",
            text_sha256="0" * 64,
        )
        append_audit(stack.table_name, pk, at, entry)
        ids.append(entry.audit_id)
    return ids


def test_decisions_newest_first_page_by_page(stack: ContactsStack) -> None:
    stack.seed_contact(Channel.MESSENGER, PAGE_ID, PSID, customer_wrote_ago=timedelta(hours=1))
    ids = seed_decisions(stack, 5)
    path = contact_path(Channel.MESSENGER, PAGE_ID, PSID, "/decisions")
    seen: list[str] = []
    pages = 0
    query = {"limit": "2"}
    while True:
        status, body = stack.call("GET", path, query=query)
        assert status == 200, body
        pages += 1
        seen.extend(d["audit_id"] for d in body["decisions"])
        if body["next_cursor"] is None:
            break
        query = {"limit": "2", "cursor": body["next_cursor"]}
    assert seen == list(reversed(ids))
    assert pages == 3
    assert body["decisions"][0]["at"] == "2026-11-21T09:55:00Z"


def test_decisions_refuse_a_forged_cursor_and_a_bad_limit(stack: ContactsStack) -> None:
    stack.seed_contact(Channel.MESSENGER, PAGE_ID, PSID, customer_wrote_ago=timedelta(hours=1))
    path = contact_path(Channel.MESSENGER, PAGE_ID, PSID, "/decisions")
    status, body = stack.call("GET", path, query={"cursor": "bm90LWEtY3Vyc29y"})
    assert (status, body["reason"]) == (400, "invalid_cursor")
    for limit in ("0", "101", "ten"):
        status, body = stack.call("GET", path, query={"limit": limit})
        assert (status, body["reason"]) == (400, "invalid_request"), limit


# --- GET /v1/conversations -----------------------------------------------------------------------
def test_conversations_across_shards_newest_first_with_labels(stack: ContactsStack) -> None:
    seeds: dict[str, tuple[timedelta, dict[str, Any], str]] = {
        # contact id: (customer wrote ago, extra attributes, expected label)
        "7000000000000001": (timedelta(minutes=5), {}, "open"),
        "7000000000000002": (timedelta(hours=23, minutes=20), {}, "closing_soon"),
        "7000000000000003": (timedelta(days=2), {}, "human_agent_only"),
        "7000000000000004": (timedelta(days=9), {}, "template_only"),  # utility templates on this Page
        "7000000000000005": (timedelta(hours=3), {"opted_out": [ConsentScope.ALL]}, "opted_out"),
        "7000000000000006": (
            timedelta(hours=4),
            {"unreachable_since_ms": to_ms(NOW - timedelta(hours=1)), "unreachable_reason": "meta:551"},
            "unreachable",
        ),
        "7000000000000007": (
            timedelta(hours=1),
            {
                "owner": "human",
                "owner_agent_id": "agent-ana",
                "owner_since_ms": to_ms(NOW - timedelta(minutes=30)),
            },
            "open",
        ),
    }
    for contact_id, (ago, attributes, _) in seeds.items():
        stack.seed_contact(Channel.MESSENGER, PAGE_ID, contact_id, customer_wrote_ago=ago, **attributes)
    assert len({shard_of(c, ACCOUNT_SHARDS) for c in seeds}) >= 3  # the listing really spans shards
    # Noise the listing must leave out: another account of the tenant, another tenant, a non-contact.
    stack.seed_contact(
        Channel.INSTAGRAM, IG_ACCOUNT_ID, "17841455555555555", customer_wrote_ago=timedelta(minutes=1)
    )
    stack.seed_contact(
        Channel.MESSENGER, GLOBEX_PAGE_ID, "7999", customer_wrote_ago=timedelta(minutes=1), tenant_id="globex"
    )

    status, body = stack.call(
        "GET", "/v1/conversations", query={"channel": "messenger", "account_id": PAGE_ID}
    )
    assert status == 200, body
    rows = body["conversations"]
    expected_order = sorted(seeds, key=lambda c: seeds[c][0])
    assert [r["contact_id"] for r in rows] == expected_order
    assert {r["contact_id"]: r["state"] for r in rows} == {c: s[2] for c, s in seeds.items()}
    held = next(r for r in rows if r["contact_id"] == "7000000000000007")
    assert held["owner"]["owner"] == "human"
    assert held["owner"]["returns_to_bot_at"] == "2026-11-21T13:30:00Z"
    closing = next(r for r in rows if r["contact_id"] == "7000000000000002")
    assert closing["windows"]["free_form_closes_at"] == "2026-11-21T10:40:00Z"
    assert closing["last_customer_action"]["at"] == "2026-11-20T10:40:00Z"


def test_conversations_limit_and_all_accounts_of_the_tenant(stack: ContactsStack) -> None:
    for index in range(4):
        stack.seed_contact(
            Channel.MESSENGER,
            PAGE_ID,
            f"710000000000000{index}",
            customer_wrote_ago=timedelta(minutes=10 + index),
        )
    stack.seed_contact(
        Channel.INSTAGRAM, IG_ACCOUNT_ID, "17841455555555555", customer_wrote_ago=timedelta(minutes=1)
    )
    stack.seed_contact(
        Channel.WHATSAPP, WA_PHONE_NUMBER_ID, "5511987654321", customer_wrote_ago=timedelta(minutes=12)
    )
    stack.seed_contact(
        Channel.MESSENGER, GLOBEX_PAGE_ID, "7999", customer_wrote_ago=timedelta(minutes=2), tenant_id="globex"
    )

    status, body = stack.call("GET", "/v1/conversations", query={"limit": "3"})
    assert status == 200, body
    assert [(r["channel"], r["contact_id"]) for r in body["conversations"]] == [
        ("instagram", "17841455555555555"),
        ("messenger", "7100000000000000"),
        ("messenger", "7100000000000001"),
    ]
    _, everything = stack.call("GET", "/v1/conversations")
    assert len(everything["conversations"]) == 6
    assert all(r["account_id"] != GLOBEX_PAGE_ID for r in everything["conversations"])
    _, whatsapp = stack.call("GET", "/v1/conversations", query={"channel": "whatsapp"})
    assert [r["contact_id"] for r in whatsapp["conversations"]] == ["5511987654321"]


def test_conversations_of_another_tenants_account_are_forbidden(stack: ContactsStack) -> None:
    status, body = stack.call(
        "GET", "/v1/conversations", query={"channel": "messenger", "account_id": GLOBEX_PAGE_ID}, claims=AGENT
    )
    assert (status, body["reason"]) == (403, "forbidden_tenant")
    status, body = stack.call("GET", "/v1/conversations", query={"account_id": PAGE_ID})
    assert (status, body["reason"]) == (400, "invalid_request")


# --- GET .../messages ----------------------------------------------------------------------------
def test_messages_oldest_first_within_the_limit(stack: ContactsStack) -> None:
    stack.seed_contact(Channel.MESSENGER, PAGE_ID, PSID, customer_wrote_ago=timedelta(minutes=1))
    table = wk_aws.table(stack.table_name)
    conversation = [
        ("m_in_1", "in", NOW - timedelta(minutes=30), "Hola, ¿dónde está mi pedido?", "customer"),
        ("m_out_1", "out", NOW - timedelta(minutes=25), "Te lo miro ahora mismo.", "human:agent-ana"),
        ("m_in_2", "in", NOW - timedelta(minutes=1), "¡Gracias!", "customer"),
    ]
    for message_id, direction, at, text, sender in conversation:
        table.put_item(
            Item=message_item(
                channel=Channel.MESSENGER,
                account_id=PAGE_ID,
                contact_id=PSID,
                message_id=message_id,
                direction=direction,  # type: ignore[arg-type]
                at=at,
                kind="text",
                text=text,
                sender=sender,
                retention_days=90,
            )
        )
    path = contact_path(Channel.MESSENGER, PAGE_ID, PSID, "/messages")
    status, body = stack.call("GET", path)
    assert status == 200, body
    assert [(m["message_id"], m["direction"], m["text"]) for m in body["messages"]] == [
        (c[0], c[1], c[3]) for c in conversation
    ]
    assert body["messages"][0]["at"] == "2026-11-21T09:30:00Z"
    _, newest_two = stack.call("GET", path, query={"limit": "2"})
    assert [m["message_id"] for m in newest_two["messages"]] == ["m_out_1", "m_in_2"]


# --- GET /v1/accounts ----------------------------------------------------------------------------
def test_accounts_of_the_tenant_with_templates_and_no_secret_ids(stack: ContactsStack) -> None:
    status, body = stack.call("GET", "/v1/accounts")
    assert status == 200, body
    listed = {(a["channel"], a["account_id"]) for a in body["accounts"]}
    assert listed == {(a.channel.value, a.account_id) for a in ACCOUNTS if a.tenant_id == TENANT}
    whatsapp = next(a for a in body["accounts"] if a["channel"] == "whatsapp")
    assert whatsapp["templates"] == [
        {
            "name": "order_shipped",
            "language": "en_US",
            "category": "UTILITY",
            "status": "APPROVED",
            "parameters": ["name", "order"],
            "body": "Hi {{1}}, order {{2}} has shipped.",
        },
        {
            "name": "winter_sale",
            "language": "en_US",
            "category": "MARKETING",
            "status": "APPROVED",
            "parameters": [],
            "body": "Our winter sale starts today.",
        },
        {
            "name": "old_promo",
            "language": "es_ES",
            "category": "MARKETING",
            "status": "PAUSED",
            "parameters": [],
            "body": "",
        },
    ]
    assert TOKEN_SECRET not in str(body)
    assert "access_token_secret_id" not in str(body)
    _, globex = stack.call("GET", "/v1/accounts", claims=GLOBEX_AGENT)
    assert [a["account_id"] for a in globex["accounts"]] == [GLOBEX_PAGE_ID]
