"""Authentic (signed) webhook bodies built to break the parser or the store: never a bare 500.

Meta retries anything but a 2xx for days, so an authentic body we cannot use is quarantined with
its reason and acknowledged; one we can use in part is applied whole (never half a batch) and a
retry of it changes nothing.
"""

from __future__ import annotations

import json
from typing import Any

import webhook_app
from tests.integration.webhook.conftest import WebhookStack, http_event
from tests.support.events import LambdaContext
from tests.unit.ingest.meta_fixtures import BASE_MS, PAGE_ID, PSID_A, raw
from windowkeeper.ingest.signature import sign
from windowkeeper.policy.model import ConsentScope
from windowkeeper.store.contact_item import ContactRecord
from windowkeeper.store.keys import contact_pk

PK_A = contact_pk("messenger", PAGE_ID, PSID_A)


def body_of(response: dict[str, Any]) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(response["body"])
    return parsed


def test_a_signed_body_nested_10000_deep_is_quarantined_and_acknowledged(stack: WebhookStack) -> None:
    body = b'{"object": "page", "entry": ' + b"[" * 10_000 + b"]" * 10_000 + b"}"
    response = stack.post(body)
    assert response["statusCode"] == 200, response["body"]
    assert body_of(response) == {"status": "ok", "events": 0, "quarantined": "json_too_deep"}
    (kept,) = stack.quarantined()
    assert kept["body"] == body and kept["metadata"]["reason"] == "json_too_deep"


def test_deep_nesting_inside_one_event_does_not_cost_the_batch(stack: WebhookStack) -> None:
    data = json.loads(raw("messenger_text_batched_two_entries.json"))
    deep: Any = "leaf"
    for _ in range(900):  # parses, but deeper than anything downstream should recurse on
        deep = [deep]
    data["entry"][0]["messaging"][0]["message"]["attachments_extra"] = deep
    response = stack.post(json.dumps(data).encode())
    assert response["statusCode"] == 200, response["body"]


def _stop_with_lone_surrogate() -> bytes:
    data = json.loads(raw("messenger_text_stop_keyword.json"))
    data["entry"][0]["messaging"][0]["message"]["text"] = "\ud800 STOP"
    return json.dumps(data).encode()  # ensure_ascii: the surrogate travels as the escape \ud800


def test_a_lone_surrogate_in_signed_text_is_stored_replaced_and_the_body_quarantined(
    stack: WebhookStack,
) -> None:
    body = _stop_with_lone_surrogate()
    assert b"\\ud800 STOP" in body

    response = stack.post(body)
    assert response["statusCode"] == 200, response["body"]
    contact = stack.contact(PK_A)
    assert contact is not None  # the STOP counts
    assert ContactRecord.from_item(contact).scopes_opted_out() == {ConsentScope.ALL}
    (logged,) = stack.messages(PK_A)
    assert logged["text"] == "\ufffd STOP"  # stored, with the unstorable part replaced
    published = stack.published()
    assert {e["detail-type"] for e in published} >= {"customer.action", "contact.consent_changed"}
    (kept,) = stack.quarantined()
    assert kept["body"] == body  # the exact bytes, to see what the customer really sent
    assert kept["metadata"]["reason"] == "unencodable_text"
    assert stack.metrics()["UnencodableText"] == 1

    # Meta's retry of the same bytes converges: same answer, state and log unchanged.
    retry = stack.post(body)
    assert retry["statusCode"] == 200
    assert stack.contact(PK_A) == contact
    assert stack.messages(PK_A) == [logged]
    # the same stable ids again (consumers de-duplicate on them), nothing new
    assert sorted(e["detail"]["event_id"] for e in stack.published()) == sorted(
        e["detail"]["event_id"] for e in published
    )
    assert len(stack.quarantined()) == 1


def test_a_lone_surrogate_sent_as_raw_bytes_is_replaced_too(stack: WebhookStack) -> None:
    # json.loads of bytes lets the CESU-style sequence ED A0 80 through as '\ud800'.
    body = raw("messenger_text_stop_keyword.json").replace(b'"  Stop "', b'"\xed\xa0\x80 STOP"')
    response = stack.post(body, base64_encoded=True)  # not UTF-8: API Gateway sends it base64
    assert response["statusCode"] == 200, response["body"]
    (logged,) = stack.messages(PK_A)
    assert logged["text"] == "\ufffd STOP"


def test_an_absurd_event_timestamp_is_quarantined_not_a_500(stack: WebhookStack) -> None:
    data = json.loads(raw("messenger_text_batched_two_entries.json"))
    data["entry"][1]["messaging"][0]["timestamp"] = 10**20
    response = stack.post(json.dumps(data).encode())
    assert response["statusCode"] == 200, response["body"]
    contact = stack.contact(PK_A)
    assert contact is not None and contact["last_customer_action_ms"] == BASE_MS + 1000
    (kept,) = stack.quarantined()
    assert kept["metadata"]["reason"] == "schema_invalid"


def _messages_from(contacts: int) -> bytes:
    """One signed-able Messenger body: a text from each of ``contacts`` customers of one Page."""
    data = json.loads(raw("messenger_text_stop_keyword.json"))
    template = data["entry"][0]["messaging"][0]
    events = []
    for n in range(contacts):
        event = json.loads(json.dumps(template))
        event["sender"]["id"] = f"73000000001{n:05d}"
        event["message"] = {"mid": f"m_bulk-{n}", "text": f"Question {n}"}
        events.append(event)
    data["entry"][0]["messaging"] = events
    return json.dumps(data).encode()


def _post_with(stack: WebhookStack, body: bytes, remaining_millis: int) -> dict[str, Any]:
    stack.capsys.readouterr()
    headers = {"x-hub-signature-256": sign(body, stack.app_secret)}
    context = LambdaContext("windowkeeper-webhook", remaining_millis=remaining_millis)
    response: dict[str, Any] = webhook_app.handler(http_event("POST", body=body, headers=headers), context)
    return response


def test_a_body_too_big_for_the_time_left_is_deferred_whole_not_timed_out(stack: WebhookStack) -> None:
    body = _messages_from(60)  # three chunks of 25 contacts
    response = _post_with(stack, body, remaining_millis=2_000)  # under the reserve: one chunk only

    assert response["statusCode"] == 200  # Meta must not retry into the same timeout
    answer = body_of(response)
    assert answer["deferred_contacts"] == 35
    written = [n for n in range(60) if stack.contact(_pk(n)) is not None]
    assert written == list(range(25))  # whole chunks, in the body's order
    published = stack.published()
    assert {e["detail"]["event_id"] for e in published} == {f"m_bulk-{n}" for n in range(25)}
    (kept,) = stack.quarantined()
    assert kept["body"] == body and kept["metadata"]["reason"] == "deferred_over_time"
    assert "35 of 60 contacts" in kept["metadata"]["detail"]
    metrics = stack.metrics()
    assert (metrics["WebhookDeferred"], metrics["DeferredContacts"]) == (1, 35)

    # Replaying the kept body with time enough applies the rest; what was applied stays as it was.
    first = stack.contact(_pk(0))
    replay = _post_with(stack, body, remaining_millis=25_000)
    assert body_of(replay) == {"status": "ok", "events": 60}
    assert all(stack.contact(_pk(n)) is not None for n in range(60))
    assert stack.contact(_pk(0)) == first


def _pk(n: int) -> str:
    return contact_pk("messenger", PAGE_ID, f"73000000001{n:05d}")
