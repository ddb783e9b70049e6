"""The send function's routes against bodies, paths and instants built to break them: a 400 with a
reason and a sentence, never a 500; and a refused cross-tenant request writes nothing in the other
tenant's space."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

import send_app
from tests.integration.contacts.conftest import AGENT, GLOBEX_AGENT, NOW, ContactsStack, contact_path
from tests.support.accounts import GLOBEX_PAGE_ID, OTHER_TENANT, PAGE_ID, TENANT
from tests.support.events import LambdaContext, http_api_event
from windowkeeper import aws as wk_aws
from windowkeeper.policy.model import Channel
from windowkeeper.store.contact_item import plain

PSID = "7300000000000101"
CONTACT = contact_path(Channel.MESSENGER, PAGE_ID, PSID)
POST_ROUTES = ["/v1/messages", "/v1/messages/check", CONTACT + "/handover", CONTACT + "/consent"]

EXTREME_INSTANTS = ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "1970-01-01T00:00:00Z"]


def call_raw(path: str, raw: bytes, *, claims: dict[str, str] = AGENT) -> tuple[int, dict[str, Any]]:
    """POST bytes that are not UTF-8: API Gateway hands those over base64-encoded."""
    event = http_api_event("POST", path, received_at=NOW, claims=claims, raw_body=raw, base64_encoded=True)
    response = send_app.handler(event, LambdaContext("windowkeeper-send"))
    return response["statusCode"], json.loads(response["body"])


def assert_clear_400(status: int, body: dict[str, Any], reason: str) -> None:
    assert (status, body["status"], body["reason"]) == (400, "error", reason), body
    assert body["message"].endswith(".") and len(body["message"]) > 20  # a sentence, not a code


def send_body(**overrides: Any) -> dict[str, Any]:
    return {
        "channel": "messenger",
        "account_id": PAGE_ID,
        "contact_id": PSID,
        "content": {"type": "text", "text": "Your order shipped."},
        **overrides,
    }


@pytest.mark.parametrize("path", POST_ROUTES)
def test_a_body_that_is_not_utf8_is_400_on_every_post_route(stack: ContactsStack, path: str) -> None:
    status, body = call_raw(path, b'{"to": "human", "note": "\xff\xfe caf\xe9"}')
    assert_clear_400(status, body, "invalid_encoding")


@pytest.mark.parametrize("path", POST_ROUTES)
def test_json_nested_10000_deep_is_400_on_every_post_route(stack: ContactsStack, path: str) -> None:
    status, body = stack.call("POST", path, raw_body="[" * 10_000 + "]" * 10_000)
    assert_clear_400(status, body, "json_too_deep")


def test_json_nested_deeper_than_any_request_needs_is_400(stack: ContactsStack) -> None:
    deep: Any = "x"
    for _ in range(100):
        deep = {"a": deep}
    status, body = stack.call("POST", "/v1/messages/check", send_body(content=deep))
    assert_clear_400(status, body, "json_too_deep")


@pytest.mark.parametrize("path", ["/v1/messages", "/v1/messages/check"])
def test_text_with_a_lone_surrogate_is_400_before_anything_is_decided(
    stack: ContactsStack, path: str
) -> None:
    raw = json.dumps(send_body(content={"type": "text", "text": "\ud800 STOP"}))
    assert "\\ud800" in raw
    status, body = stack.call("POST", path, raw_body=raw)
    assert_clear_400(status, body, "invalid_text")


@pytest.mark.parametrize("at", EXTREME_INSTANTS)
def test_an_extreme_at_in_a_check_is_400_with_a_reason(stack: ContactsStack, at: str) -> None:
    status, body = stack.call("POST", "/v1/messages/check", send_body(at=at))
    assert_clear_400(status, body, "invalid_request")
    assert body["problems"][0]["field"] == "at"
    assert "2000-01-01" in body["message"]


@pytest.mark.parametrize("at", EXTREME_INSTANTS)
def test_an_extreme_at_query_on_a_contact_is_400_with_a_reason(stack: ContactsStack, at: str) -> None:
    stack.seed_contact(Channel.MESSENGER, PAGE_ID, PSID, customer_wrote_ago=timedelta(hours=2))
    status, body = stack.call("GET", CONTACT, query={"at": at})
    assert_clear_400(status, body, "invalid_instant")


@pytest.mark.parametrize(
    ("account_id", "contact_id", "field"),
    [
        (PAGE_ID, "9" * 3000, "contact_id"),
        ("1" * 129, PSID, "account_id"),
        (PAGE_ID, "psid;STATE", "contact_id"),
        (PAGE_ID, "ps%20id", "contact_id"),
        (PAGE_ID, "ps\u00efd", "contact_id"),
    ],
)
def test_path_ids_of_the_wrong_length_or_shape_are_400(
    stack: ContactsStack, account_id: str, contact_id: str, field: str
) -> None:
    path = contact_path(Channel.MESSENGER, account_id, contact_id)
    for method, suffix, payload in [
        ("GET", "", None),
        ("GET", "/decisions", None),
        ("GET", "/messages", None),
        ("POST", "/consent", {"scope": "marketing", "action": "opt_out"}),
    ]:
        status, body = stack.call(method, path + suffix, payload)
        assert_clear_400(status, body, "invalid_id")
        assert body["field"] == field


@pytest.mark.parametrize("path", ["/v1/messages", "/v1/messages/check"])
def test_body_ids_of_the_wrong_length_or_shape_are_400(stack: ContactsStack, path: str) -> None:
    for overrides in ({"contact_id": "9" * 3000}, {"contact_id": "a#b"}, {"account_id": "x y"}):
        status, body = stack.call("POST", path, send_body(**overrides))
        assert_clear_400(status, body, "invalid_request")


def test_the_conversation_list_refuses_a_malformed_account_id(stack: ContactsStack) -> None:
    status, body = stack.call("GET", "/v1/conversations", query={"account_id": "a" * 500})
    assert_clear_400(status, body, "invalid_id")


def _all_items(table_name: str) -> list[dict[str, Any]]:
    return [plain(i) for i in wk_aws.table(table_name).scan()["Items"]]


def test_refused_cross_tenant_requests_create_nothing_in_the_victims_space(stack: ContactsStack) -> None:
    before = {(i["pk"], i["sk"]) for i in _all_items(stack.table_name)}

    for n in range(10):  # ten contact ids the caller made up
        status, body = stack.call(
            "GET", contact_path(Channel.MESSENGER, GLOBEX_PAGE_ID, f"made-up-{n}"), claims=AGENT
        )
        assert (status, body["reason"]) == (403, "forbidden_tenant")

    new = [i for i in _all_items(stack.table_name) if (i["pk"], i["sk"]) not in before]
    assert not [i for i in new if i["pk"].startswith("C#")]  # nothing under any contact
    (record,) = new  # one counter, under the caller's own tenant
    assert record["pk"] == f"V#{TENANT}"
    assert record["sk"] == f"{NOW:%Y-%m-%d}#messenger#{GLOBEX_PAGE_ID}#agent-ana"
    assert record["attempts"] == 10
    assert (record["principal_subject"], record["tenant_id"], record["account_tenant_id"]) == (
        "agent-ana",
        TENANT,
        OTHER_TENANT,
    )
    assert record["last_contact_id"] == "made-up-9"

    # The account's owner is unaffected and reads its own contacts as before.
    stack.seed_contact(
        Channel.MESSENGER, GLOBEX_PAGE_ID, PSID, customer_wrote_ago=timedelta(hours=2), tenant_id=OTHER_TENANT
    )
    status, _ = stack.call("GET", contact_path(Channel.MESSENGER, GLOBEX_PAGE_ID, PSID), claims=GLOBEX_AGENT)
    assert status == 200
