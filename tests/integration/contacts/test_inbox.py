"""The inbox over HTTP (``GET /v1/conversations`` through the send function on moto): names,
previews, comment-only contacts, newest-activity and closing-soonest orders, search, cursor paging."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from tests.support.accounts import IG_ACCOUNT_ID, PAGE_ID, PAGE_TOKEN
from tests.support.events import agent_claims
from tests.support.meta import graph_error_body
from windowkeeper.instants import to_ms
from windowkeeper.policy.model import Channel
from windowkeeper.sending import contact_views
from windowkeeper.store.keys import ACCOUNT_SHARDS, account_shard_key, shard_of
from windowkeeper.wiring import send as send_wiring

from .conftest import NOW, ContactsStack

NAMES = ["Ana Souza", "Bruno Lima", "Carla Díaz", "Dmitri Ivanov", "Eve Martin", "Farid Haddad"]


def walk(stack: ContactsStack, query: dict[str, str]) -> list[list[str]]:
    """Every page of a listing, following ``next_cursor`` to the end (contact ids per page)."""
    pages: list[list[str]] = []
    cursor = None
    while True:
        status, body = stack.call(
            "GET", "/v1/conversations", query={**query, **({"cursor": cursor} if cursor else {})}
        )
        assert status == 200, body
        pages.append([row["contact_id"] for row in body["conversations"]])
        cursor = body["next_cursor"]
        if cursor is None:
            return pages
        assert len(pages) < 50, "the cursor must make progress"


def seed_many(stack: ContactsStack, count: int) -> list[str]:
    """``count`` Messenger contacts, one minute apart (the first the newest), named from NAMES."""
    ids = []
    for index in range(count):
        contact_id = f"72000000000{index:05d}"
        stack.seed_contact(
            Channel.MESSENGER,
            PAGE_ID,
            contact_id,
            customer_wrote_ago=timedelta(minutes=1 + index),
            display_name=f"{NAMES[index % len(NAMES)]} {index}",
        )
        ids.append(contact_id)
    assert len({shard_of(c, ACCOUNT_SHARDS) for c in ids}) >= min(count, 16) // 2  # pages merge shards
    return ids


def test_cursor_pages_through_every_conversation_once_newest_first(stack: ContactsStack) -> None:
    ids = seed_many(stack, 23)
    pages = walk(stack, {"channel": "messenger", "account_id": PAGE_ID, "limit": "5"})
    assert [len(p) for p in pages] == [5, 5, 5, 5, 3]
    assert [c for page in pages for c in page] == ids


def test_search_by_name_or_id_case_insensitive_and_paged(stack: ContactsStack) -> None:
    ids = seed_many(stack, 18)
    pages = walk(stack, {"q": "carla díaz", "limit": "2"})
    assert [c for page in pages for c in page] == [ids[i] for i in (2, 8, 14)]
    _, by_id = stack.call("GET", "/v1/conversations", query={"q": ids[5][-5:]})
    assert [r["contact_id"] for r in by_id["conversations"]] == [ids[5]]
    assert by_id["conversations"][0]["display_name"] == "Farid Haddad 5"
    _, nobody = stack.call("GET", "/v1/conversations", query={"q": "zz-nobody"})
    assert (nobody["conversations"], nobody["next_cursor"]) == ([], None)


def test_closing_sort_lists_open_windows_closing_soonest_first(stack: ContactsStack) -> None:
    wrote = {  # contact id: customer wrote ago (Messenger: 24 h window)
        "7300000000000001": timedelta(hours=2),
        "7300000000000002": timedelta(hours=23),  # closes in 1 h: first
        "7300000000000003": timedelta(hours=30),  # closed: left out
        "7300000000000004": timedelta(hours=12),
    }
    for contact_id, ago in wrote.items():
        stack.seed_contact(Channel.MESSENGER, PAGE_ID, contact_id, customer_wrote_ago=ago)
    pages = walk(stack, {"sort": "closing", "limit": "2"})
    assert pages == [["7300000000000002", "7300000000000004"], ["7300000000000001"]]
    _, first = stack.call("GET", "/v1/conversations", query={"sort": "closing", "limit": "1"})
    assert first["sort"] == "closing" and first["complete"] is True
    assert first["conversations"][0]["windows"]["free_form_closes_at"] == "2026-11-21T11:00:00Z"


def test_comment_only_contact_is_listed_with_its_name_and_preview(stack: ContactsStack) -> None:
    commented = to_ms(NOW - timedelta(minutes=3))
    stack.seed_contact(
        Channel.INSTAGRAM,
        IG_ACCOUNT_ID,
        "17841400000000077",
        customer_wrote_ago=None,
        account_shard=account_shard_key(Channel.INSTAGRAM, IG_ACCOUNT_ID, "17841400000000077"),
        last_activity_ms=commented,
        pending_comment_ms=commented,
        pending_comment_id="17900000000000001",
        display_name="Gabi Rocha",
        last_message_key=f"{commented:015d}#17900000000000001",
        last_message_ms=commented,
        last_message_direction="in",
        last_message_kind="comment",
        last_message_text="Do you ship the blue tent to Lisbon?",
    )
    stack.seed_contact(
        Channel.MESSENGER, PAGE_ID, "7400000000000001", customer_wrote_ago=timedelta(minutes=9)
    )
    status, body = stack.call("GET", "/v1/conversations")
    assert status == 200, body
    row: dict[str, Any] = body["conversations"][0]
    assert (row["contact_id"], row["display_name"]) == ("17841400000000077", "Gabi Rocha")
    assert row["last_message"] == {
        "at": "2026-11-21T09:57:00Z",
        "direction": "in",
        "kind": "comment",
        "text": "Do you ship the blue tent to Lisbon?",
    }
    assert row["last_activity_at"] == "2026-11-21T09:57:00Z"
    assert row["last_customer_action"]["at"] is None
    assert body["conversations"][1]["last_message"] is None


def test_bad_cursor_sort_and_search_are_refused_with_reasons(stack: ContactsStack) -> None:
    seed_many(stack, 8)
    _, first = stack.call("GET", "/v1/conversations", query={"limit": "2"})
    cursor = first["next_cursor"]
    assert cursor
    cases: list[tuple[dict[str, str], Any]] = [
        ({"cursor": "not-a-cursor"}, None),
        ({"cursor": cursor, "sort": "closing", "limit": "2"}, None),  # other filters
        ({"cursor": cursor, "q": "ana", "limit": "2"}, None),
        ({"cursor": cursor, "limit": "2"}, agent_claims("agent-mallory", "globex")),  # other tenant
    ]
    for query, claims in cases:
        status, body = stack.call(
            "GET", "/v1/conversations", query=query, **({"claims": claims} if claims else {})
        )
        assert (status, body["reason"]) == (400, "invalid_cursor"), query
        assert "cursor" in body["message"]
    status, body = stack.call("GET", "/v1/conversations", query={"sort": "oldest"})
    assert (status, body["reason"]) == (400, "invalid_request")
    status, body = stack.call("GET", "/v1/conversations", query={"q": "x" * 101})
    assert (status, body["reason"]) == (400, "invalid_request")
    status, same = stack.call("GET", "/v1/conversations", query={"cursor": cursor, "limit": "2"})
    assert status == 200 and len(same["conversations"]) == 2


def test_a_search_under_a_tiny_read_budget_still_finds_every_match(
    stack: ContactsStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each request reads little (at most limit + 1 items a shard), yet the pages miss nothing."""
    ids = seed_many(stack, 90)  # about 6 a shard
    monkeypatch.setattr(contact_views, "INBOX_READ_BUDGET", 16)  # each shard reads limit + 1 = 4
    pages = walk(stack, {"q": "bruno", "limit": "3"})
    assert [c for page in pages for c in page] == ids[1::6]


def profile_answers(request: httpx.Request) -> httpx.Response:
    """Meta's User Profile API for two Messenger people; anything else is an unknown object."""
    known = {"7500000000000001": ("Lucía", "Fernández"), "7500000000000002": ("Kemal", "Yilmaz")}
    contact_id = request.url.path.rsplit("/", 1)[-1]
    if request.method == "GET" and contact_id in known:
        first, last = known[contact_id]
        return httpx.Response(200, json={"id": contact_id, "first_name": first, "last_name": last})
    return httpx.Response(400, json=graph_error_body(100, None))


def test_names_the_webhooks_did_not_carry_come_from_the_user_profile_api_once(
    stack: ContactsStack,
) -> None:
    for index in range(1, 6):  # 5 unnamed Messenger people, the newest first
        stack.seed_contact(
            Channel.MESSENGER, PAGE_ID, f"750000000000000{index}", customer_wrote_ago=timedelta(minutes=index)
        )
    stack.seed_contact(
        Channel.MESSENGER,
        PAGE_ID,
        "7500000000000009",
        customer_wrote_ago=timedelta(seconds=1),
        display_name="Ana",
    )
    stack.meta.success = profile_answers
    graph = stack.meta.graph_client(lambda _account: PAGE_TOKEN, max_attempts=1)
    send_wiring.contacts_service().profiles = lambda: graph

    _, first = stack.call("GET", "/v1/conversations", query={"channel": "messenger"})
    names = {r["contact_id"]: r["display_name"] for r in first["conversations"]}
    assert names["7500000000000001"] == "Lucía Fernández"
    assert names["7500000000000002"] == "Kemal Yilmaz"
    assert names["7500000000000009"] == "Ana"  # a name the webhook carried is never looked up
    asked = [r.url.path.rsplit("/", 1)[-1] for r in stack.meta.requests]
    assert asked == ["7500000000000001", "7500000000000002", "7500000000000003"]  # 3 a page at most
    assert all(r.headers["authorization"] == f"Bearer {PAGE_TOKEN}" for r in stack.meta.requests)
    assert stack.contact(Channel.MESSENGER, PAGE_ID, "7500000000000001").display_name == "Lucía Fernández"

    stack.meta.requests.clear()
    _, second = stack.call("GET", "/v1/conversations", query={"channel": "messenger"})
    asked = [r.url.path.rsplit("/", 1)[-1] for r in stack.meta.requests]
    assert asked == ["7500000000000004", "7500000000000005"]  # named ones and 3 (refused) wait
    assert stack.contact(Channel.MESSENGER, PAGE_ID, "7500000000000003").profile_retry_after_ms == to_ms(
        NOW + timedelta(days=1)
    )
    assert {r["contact_id"]: r["display_name"] for r in second["conversations"]}["7500000000000003"] is None
    graph.close()
