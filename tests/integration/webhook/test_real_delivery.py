"""Issue 10 (the gate holds under real delivery), inbound side: late, shuffled and repeated webhooks.

Each test names the defect it pins; each failed before its fix.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from tests.integration.webhook.conftest import WebhookStack
from tests.unit.ingest.meta_fixtures import (
    BASE_MS,
    BASE_S,
    MESSENGER,
    PAGE_ID,
    PHONE_NUMBER_ID,
    PSID_A,
    WA_ID,
    raw,
)
from windowkeeper import aws as wk_aws
from windowkeeper.accounts import load_accounts_file
from windowkeeper.ingest.keywords import KeywordIntent, keyword_intent
from windowkeeper.policy import engine
from windowkeeper.policy.model import (
    AutomationKind,
    ConsentScope,
    Content,
    ContentKind,
    DecisionInput,
    OutboundRequest,
    Path,
    ReasonCode,
    Sender,
    SenderKind,
)
from windowkeeper.store.audit_table import list_decisions
from windowkeeper.store.contact_item import ContactRecord
from windowkeeper.store.keys import contact_pk

PK_A = contact_pk("messenger", PAGE_ID, PSID_A)
PK_WA = contact_pk("whatsapp", PHONE_NUMBER_ID, WA_ID)
BOT = Sender(kind=SenderKind.AUTOMATION, principal_id="bot-1", automation=AutomationKind.BOT)
TEXT = Content(kind=ContentKind.TEXT, text="Thanks for asking! Yes, we ship there.")


def record(stack: WebhookStack, pk: str) -> ContactRecord:
    item = stack.contact(pk)
    assert item is not None
    return ContactRecord.from_item(item)


def wa_text(body: str, at_s: int) -> bytes:
    """A WhatsApp text message from the customer, saying ``body`` at ``at_s``."""
    data = json.loads(raw("whatsapp_text_with_bsuid.json"))
    message = data["entry"][0]["changes"][0]["value"]["messages"][0]
    message["timestamp"], message["text"]["body"] = str(at_s), body
    message["id"] = f"wamid.text-{at_s}"
    return json.dumps(data).encode()


# ---------------------------------------------------------------- defect 1: consent per fact


def test_an_older_stop_delivered_after_a_newer_marketing_opt_in_still_opts_out(stack: WebhookStack) -> None:
    stack.post(raw("messenger_marketing_optin_token.json"))  # T+9000: marketing opt-in with a token
    stack.post(raw("messenger_text_stop_keyword.json"))  # T+8000: "STOP", delivered late
    contact = record(stack, PK_A)
    assert ConsentScope.ALL in contact.scopes_opted_out()
    assert [o.token for o in contact.all_marketing_opt_ins()] == ["7720000000000000001"]


def test_an_older_opt_in_token_delivered_after_a_newer_start_is_kept(stack: WebhookStack) -> None:
    stack.post(raw("messenger_text_start_keyword.json"))  # T+9500
    stack.post(raw("messenger_marketing_optin_token.json"))  # T+9000, late
    contact = record(stack, PK_A)
    assert [o.token for o in contact.all_marketing_opt_ins()] == ["7720000000000000001"]
    assert contact.scopes_opted_out() == frozenset()


def test_an_older_user_preferences_stop_after_a_newer_start_keeps_marketing_stopped(
    stack: WebhookStack,
) -> None:
    stack.post(wa_text("START", BASE_S + 250))  # S+250: START (all, outside_window)
    stack.post(raw("whatsapp_user_preferences_marketing_stop.json"))  # S+200: marketing stop, late
    assert record(stack, PK_WA).scopes_opted_out() == {ConsentScope.MARKETING}


def test_131050_delivered_late_after_a_resume_of_another_scope_still_stops_marketing(
    stack: WebhookStack,
) -> None:
    stack.post(wa_text("START", BASE_S + 500))  # S+500: START
    stack.post(raw("whatsapp_status_failed_131050.json"))  # S+120, late
    assert record(stack, PK_WA).scopes_opted_out() == {ConsentScope.MARKETING}


# ---------------------------------------------------------------- defect 3: "STOP NOTIFICATIONS"


def test_messenger_stop_notifications_with_a_space_stops_marketing(stack: WebhookStack) -> None:
    stack.post(raw("messenger_marketing_optin_token.json"))  # T+9000 opt-in with a token
    stack.post(raw("messenger_marketing_stop_notifications.json"))  # T+9800 "STOP NOTIFICATIONS"
    contact = record(stack, PK_A)
    assert contact.scopes_opted_out() == {ConsentScope.MARKETING}
    assert len(contact.all_marketing_opt_ins()) == 1  # the stop filed no second opt-in
    (ledger,) = [e for e in consent_ledger(stack, PK_A) if e.source == "marketing_stop"]
    assert ledger.reasons == ["opt_out:marketing"]


# ---------------------------------------------------------------- defect 4: Page post comments


def test_a_comment_on_a_page_post_can_get_one_private_reply(stack: WebhookStack) -> None:
    response = stack.post(raw("messenger_page_post_comment_feed.json"))
    assert response["statusCode"] == 200
    assert stack.quarantined() == []
    pk = contact_pk("messenger", PAGE_ID, "7300000000000103")
    contact = record(stack, pk)
    assert (contact.pending_comment_id, contact.pending_comment_ms) == (
        "99_4400000000000001",
        (BASE_S + 20) * 1000,
    )
    assert contact.last_customer_action_ms is None  # a comment opens no window
    at = datetime.fromtimestamp(BASE_S + 3600, tz=UTC)
    decision = engine.decide(
        DecisionInput(
            contact=contact.to_state(),
            account=MESSENGER.profile(),
            sender=BOT,
            content=TEXT,
            request=OutboundRequest(comment_id="99_4400000000000001"),
        ),
        at,
    )
    assert decision.allowed and decision.path is Path.PRIVATE_REPLY
    assert decision.send_fields["recipient"] == {"comment_id": "99_4400000000000001"}
    (logged,) = stack.messages(pk)
    assert logged["kind"] == "comment"


def test_the_pages_own_comments_and_other_feed_items_are_ignored(stack: WebhookStack) -> None:
    data = json.loads(raw("messenger_page_post_comment_feed.json"))
    value = data["entry"][0]["changes"][0]["value"]
    value["from"]["id"] = PAGE_ID
    reaction = {**value, "item": "reaction", "verb": "add", "from": {"id": "7300000000000104"}}
    data["entry"][0]["changes"].append({"field": "feed", "value": reaction})
    assert stack.post(json.dumps(data).encode())["statusCode"] == 200
    assert stack.quarantined() == []
    assert stack.contact(contact_pk("messenger", PAGE_ID, "7300000000000104")) is None


# ---------------------------------------------------------------- defect 5: a bare ad referral


def test_a_bare_click_to_messenger_ad_referral_records_the_ad_but_opens_no_window(
    stack: WebhookStack,
) -> None:
    stack.post(raw("messenger_ad_referral_bare.json"))  # T+500: clicked the ad, wrote nothing
    contact = record(stack, PK_A)
    assert contact.entry_point is not None and contact.entry_point.value == "click_to_messenger_ad"
    assert contact.last_customer_action_ms is None
    at = datetime.fromtimestamp((BASE_MS + 60_000) / 1000, tz=UTC)
    refused = engine.decide(
        DecisionInput(contact=contact.to_state(), account=MESSENGER.profile(), sender=BOT, content=TEXT), at
    )
    assert not refused.allowed and ReasonCode.NEVER_CONTACTED in refused.reasons

    stack.post(raw("messenger_text_stop_keyword.json").replace(b'"  Stop "', b'"Is it waterproof?"'))
    contact = record(stack, PK_A)
    assert contact.last_customer_action_ms == BASE_MS + 8000  # the message opened it
    allowed = engine.decide(
        DecisionInput(contact=contact.to_state(), account=MESSENGER.profile(), sender=BOT, content=TEXT),
        datetime.fromtimestamp((BASE_MS + 60_000) / 1000, tz=UTC),
    )
    assert allowed.allowed and allowed.path is Path.FREE_FORM


def test_an_mme_link_into_an_existing_thread_opens_the_window(stack: WebhookStack) -> None:
    stack.post(raw("messenger_referral_mme_link.json"))  # SHORTLINK: fact sheet 1.2 says it opens
    contact = record(stack, PK_A)
    assert contact.last_customer_action_ms == BASE_MS + 5000
    assert contact.entry_point is not None and contact.entry_point.value == "link"


# ---------------------------------------------------------------- defect 9: the consent ledger


def consent_ledger(stack: WebhookStack, pk: str) -> list[Any]:
    entries, _ = list_decisions(stack.resources.table_name, pk, 100)
    return [e for e in entries if e.kind == "consent"]


def test_every_webhook_consent_change_is_in_the_audit_trail_once(stack: WebhookStack) -> None:
    stack.post(raw("messenger_text_stop_keyword.json"))
    stack.post(raw("messenger_text_stop_keyword.json"))  # Meta's retry
    stack.post(raw("messenger_marketing_optin_token.json"))
    ledger = consent_ledger(stack, PK_A)
    assert [(e.source, e.at_ms, e.principal_kind, e.reasons) for e in ledger] == [
        ("marketing_optin", BASE_MS + 9000, "customer", ["opt_in:marketing", "marketing_opt_in:token"]),
        ("keyword", BASE_MS + 8000, "customer", ["opt_out:all"]),
    ]


def test_meta_errors_and_user_preferences_are_in_the_ledger_with_their_source(stack: WebhookStack) -> None:
    stack.post(raw("whatsapp_status_failed_131050.json"))
    stack.post(raw("whatsapp_user_preferences_marketing_resume.json"))
    ledger = consent_ledger(stack, PK_WA)
    assert [(e.source, e.principal_kind) for e in ledger] == [
        ("user_preferences", "customer"),
        ("error_131050", "meta"),
    ]
    items = wk_aws.table(stack.resources.table_name).query(
        KeyConditionExpression="pk = :pk", ExpressionAttributeValues={":pk": PK_WA}
    )["Items"]
    assert all("text" not in i for i in items if str(i["sk"]).startswith("DEC#"))


def test_the_example_accounts_keep_spanish_and_portuguese_stop_and_start_words() -> None:
    accounts = [a for a in load_accounts_file("config/accounts.example.json") if a.tenant_id == "acme"]
    assert accounts
    for account in accounts:
        assert keyword_intent("¡Baja!", account) is KeywordIntent.OPT_OUT, account.account_id
        assert keyword_intent("Sair", account) is KeywordIntent.OPT_OUT
        assert keyword_intent("STOP", account) is KeywordIntent.OPT_OUT
        assert keyword_intent("alta", account) is KeywordIntent.OPT_IN
        assert keyword_intent("Voltar", account) is KeywordIntent.OPT_IN
