"""GET /v1/contacts/{channel}/{account_id}/{contact_id}: the window state at chosen instants."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.support.accounts import GLOBEX_PAGE_ID, IG_ACCOUNT_ID, PAGE_ID, TENANT, WA_PHONE_NUMBER_ID
from windowkeeper import aws as wk_aws
from windowkeeper.instants import to_ms
from windowkeeper.policy.model import Channel, ConsentScope
from windowkeeper.store.contact_item import StoredOptIn
from windowkeeper.store.followup_records import FollowupRecord
from windowkeeper.store.followup_table import FollowupStore
from windowkeeper.store.keys import violation_key

from .conftest import AGENT, BOT, GLOBEX_AGENT, NOW, ContactsStack, contact_path

PSID = "6543210987654321"
IG_USER = "17841455555555555"
WA_ID = "5511987654321"


def paths_by_name(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {p["path"]: p for p in body["paths"]}


def test_window_open_two_hours_after_the_customer_wrote(stack: ContactsStack) -> None:
    stack.seed_contact(
        Channel.MESSENGER, PAGE_ID, PSID, customer_wrote_ago=timedelta(hours=2), display_name="Lina"
    )
    status, body = stack.call("GET", contact_path(Channel.MESSENGER, PAGE_ID, PSID))
    assert status == 200, body
    wrote_at = NOW - timedelta(hours=2)
    assert body["as_of"] == "2026-11-21T10:00:00Z"
    assert body["contact"] == {
        "channel": "messenger",
        "account_id": PAGE_ID,
        "contact_id": PSID,
        "display_name": "Lina",
    }
    assert body["last_customer_action"]["at"] == "2026-11-21T08:00:00Z"
    assert body["last_customer_action"]["kind"] == "message"
    assert body["state"] == "open"
    assert body["windows"]["free_form_closes_at"] == (wrote_at + timedelta(hours=24)).isoformat().replace(
        "+00:00", "Z"
    )
    assert body["windows"]["human_agent_closes_at"] == (wrote_at + timedelta(days=7)).isoformat().replace(
        "+00:00", "Z"
    )
    paths = paths_by_name(body)
    assert paths["free_form"]["allowed_now"] is True
    assert paths["free_form"]["closes_at"] == "2026-11-22T08:00:00Z"
    assert paths["human_agent"]["allowed_now"] is True
    assert body["owner"]["owner"] == "bot"
    assert body["consent"]["opted_out"] == {"all": False, "marketing": False, "outside_window": False}
    assert body["unreachable"] is None
    assert body["pending_followups"] == []


def test_closing_soon_inside_the_accounts_lead_time(stack: ContactsStack) -> None:
    stack.seed_contact(Channel.MESSENGER, PAGE_ID, PSID, customer_wrote_ago=timedelta(hours=23, minutes=30))
    _, body = stack.call("GET", contact_path(Channel.MESSENGER, PAGE_ID, PSID))
    assert body["state"] == "closing_soon"


def test_as_of_two_days_later_only_a_person_may_write(stack: ContactsStack) -> None:
    stack.seed_contact(Channel.MESSENGER, PAGE_ID, PSID, customer_wrote_ago=timedelta(hours=2))
    query = {"at": "2026-11-23T10:00:00Z"}
    status, body = stack.call("GET", contact_path(Channel.MESSENGER, PAGE_ID, PSID), query=query)
    assert status == 200, body
    assert body["as_of"] == "2026-11-23T10:00:00Z"
    assert body["state"] == "human_agent_only"
    paths = paths_by_name(body)
    assert paths["free_form"]["allowed_now"] is False
    assert paths["free_form"]["reasons"] == ["window_closed"]
    assert paths["human_agent"]["allowed_now"] is True
    assert paths["human_agent"]["closes_at"] == "2026-11-28T08:00:00Z"


def test_an_automation_sees_human_agent_refused_for_itself_but_the_same_label(stack: ContactsStack) -> None:
    stack.seed_contact(Channel.MESSENGER, PAGE_ID, PSID, customer_wrote_ago=timedelta(hours=2))
    query = {"at": "2026-11-23T10:00:00Z"}
    status, body = stack.call("GET", contact_path(Channel.MESSENGER, PAGE_ID, PSID), claims=BOT, query=query)
    assert status == 200, body
    assert paths_by_name(body)["human_agent"]["allowed_now"] is False
    assert "human_only" in paths_by_name(body)["human_agent"]["reasons"]
    assert body["state"] == "human_agent_only"


def test_instagram_after_eight_days_has_expired(stack: ContactsStack) -> None:
    stack.seed_contact(Channel.INSTAGRAM, IG_ACCOUNT_ID, IG_USER, customer_wrote_ago=timedelta(hours=2))
    status, body = stack.call(
        "GET",
        contact_path(Channel.INSTAGRAM, IG_ACCOUNT_ID, IG_USER),
        query={"at": "2026-11-29T10:00:00+00:00"},
    )
    assert status == 200, body
    assert body["state"] == "expired"
    assert not any(p["allowed_now"] for p in body["paths"])


def test_whatsapp_after_the_window_is_template_only(stack: ContactsStack) -> None:
    stack.seed_contact(Channel.WHATSAPP, WA_PHONE_NUMBER_ID, WA_ID, customer_wrote_ago=timedelta(hours=30))
    _, body = stack.call("GET", contact_path(Channel.WHATSAPP, WA_PHONE_NUMBER_ID, WA_ID))
    assert body["state"] == "template_only"
    assert paths_by_name(body)["utility_template"]["allowed_now"] is True
    assert body["windows"]["human_agent_closes_at"] is None


def test_consent_unreachable_backoff_and_opt_ins_are_reported_without_tokens(stack: ContactsStack) -> None:
    stack.seed_contact(
        Channel.WHATSAPP,
        WA_PHONE_NUMBER_ID,
        WA_ID,
        customer_wrote_ago=timedelta(hours=1),
        opted_out=[ConsentScope.MARKETING],
        consent_changed_ms=to_ms(NOW - timedelta(days=3)),
        marketing_opt_ins=[
            StoredOptIn(token="secret-subscription-token", opted_in_ms=to_ms(NOW - timedelta(days=30)))
        ],
        marketing_backoff_until_ms=to_ms(NOW + timedelta(hours=5)),
        unreachable_since_ms=to_ms(NOW - timedelta(minutes=10)),
        unreachable_reason="meta:131026",
    )
    _, body = stack.call("GET", contact_path(Channel.WHATSAPP, WA_PHONE_NUMBER_ID, WA_ID))
    assert body["state"] == "unreachable"
    assert body["unreachable"] == {"since": "2026-11-21T09:50:00Z", "reason": "meta:131026"}
    assert body["consent"]["opted_out"]["marketing"] is True
    assert body["consent"]["changed_at"] == "2026-11-18T10:00:00Z"
    assert body["consent"]["marketing_opt_ins"] == [
        {"purpose": "marketing", "opted_in_at": "2026-10-22T10:00:00Z", "has_token": True}
    ]
    assert body["marketing_backoff_until"] == "2026-11-21T15:00:00Z"
    assert "secret-subscription-token" not in str(body)


def test_pending_followups_lists_only_scheduled_ones_soonest_first(stack: ContactsStack) -> None:
    record = stack.seed_contact(Channel.MESSENGER, PAGE_ID, PSID, customer_wrote_ago=timedelta(hours=2))
    followups = FollowupStore(stack.resources.table_name)
    for followup_id, due, status in [
        ("fup-late", NOW + timedelta(hours=20), "scheduled"),
        ("fup-soon", NOW + timedelta(hours=3), "scheduled"),
        ("fup-cancelled", NOW + timedelta(hours=1), "cancelled"),
    ]:
        followups.create(
            FollowupRecord(
                followup_id=followup_id,
                tenant_id=TENANT,
                channel=record.channel,
                account_id=record.account_id,
                contact_id=record.contact_id,
                send_at_ms=to_ms(due),
                created_at_ms=to_ms(NOW),
                created_by="agent-maria",
                schedule_name=f"wk-followup-{followup_id}",
                content={"type": "text", "text": "Did the replacement part fit?"},
                purpose="reminder",
                status=status,
            )
        )
    _, body = stack.call("GET", contact_path(Channel.MESSENGER, PAGE_ID, PSID))
    assert [(f["followup_id"], f["send_at"]) for f in body["pending_followups"]] == [
        ("fup-soon", "2026-11-21T13:00:00Z"),
        ("fup-late", "2026-11-22T06:00:00Z"),
    ]


def test_naive_instant_is_refused(stack: ContactsStack) -> None:
    stack.seed_contact(Channel.MESSENGER, PAGE_ID, PSID, customer_wrote_ago=timedelta(hours=2))
    status, body = stack.call(
        "GET", contact_path(Channel.MESSENGER, PAGE_ID, PSID), query={"at": "2026-11-23T10:00:00"}
    )
    assert status == 400
    assert body["status"] == "error"
    assert body["reason"] == "invalid_instant"


def test_unknown_contact_account_and_channel(stack: ContactsStack) -> None:
    status, body = stack.call("GET", contact_path(Channel.MESSENGER, PAGE_ID, "1111111111"))
    assert (status, body["reason"]) == (404, "unknown_contact")
    status, body = stack.call("GET", contact_path(Channel.MESSENGER, "999999999", PSID))
    assert (status, body["reason"]) == (404, "unknown_account")
    status, body = stack.call("GET", f"/v1/contacts/myspace/{PAGE_ID}/{PSID}")
    assert (status, body["reason"]) == (400, "invalid_request")


def test_another_tenants_contact_is_forbidden_and_the_attempt_audited(stack: ContactsStack) -> None:
    stack.seed_contact(
        Channel.MESSENGER, GLOBEX_PAGE_ID, PSID, customer_wrote_ago=timedelta(hours=2), tenant_id="globex"
    )
    status, body = stack.call("GET", contact_path(Channel.MESSENGER, GLOBEX_PAGE_ID, PSID), claims=AGENT)
    assert (status, body["reason"]) == (403, "forbidden_tenant")
    # Recorded under the caller's tenant (store.violations), never in the other tenant's contact.
    assert stack.items(Channel.MESSENGER, GLOBEX_PAGE_ID, PSID, "DEC#") == []
    violation = wk_aws.table(stack.table_name).get_item(
        Key=violation_key(TENANT, f"{NOW:%Y-%m-%d}", "messenger", GLOBEX_PAGE_ID, "agent-ana")
    )["Item"]
    assert violation["kind"] == "tenant_violation"
    assert (violation["principal_subject"], violation["tenant_id"]) == ("agent-ana", TENANT)
    assert violation["account_tenant_id"] == "globex"
    # The owner of the account still reads its own contact.
    status, _ = stack.call("GET", contact_path(Channel.MESSENGER, GLOBEX_PAGE_ID, PSID), claims=GLOBEX_AGENT)
    assert status == 200


def test_without_a_token_the_answer_is_401(stack: ContactsStack) -> None:
    status, body = stack.call("GET", contact_path(Channel.MESSENGER, PAGE_ID, PSID), claims=None)
    assert (status, body["reason"]) == (401, "unauthenticated")
