"""Meta's word on a template, from the signed webhook to the send gate, on one table.

The registry (``accounts load``) says ``order_update`` is an approved utility template. Meta then
pauses it for low quality, reinstates it, and moves it to MARKETING: each webhook goes through
the webhook handler, and the send core on the same table decides on Meta's newest word at once,
not when the account cache next expires.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from tests.support.fakes.graph import ScriptedGraph
from tests.unit.ingest.meta_fixtures import BASE_S, PHONE_NUMBER_ID, WHATSAPP, raw
from windowkeeper.accounts import AccountConfig
from windowkeeper.auth import Principal
from windowkeeper.instants import from_ms
from windowkeeper.policy.model import AutomationKind, Channel, ReasonCode, TemplateCategory, TemplateStatus
from windowkeeper.sending.api_models import SendRequest
from windowkeeper.sending.service import SendService
from windowkeeper.store.account_table import AccountStore
from windowkeeper.store.template_table import TemplateStateTable
from windowkeeper.wiring.send import table_stores

from .conftest import NOW, WebhookStack

ORDER_UPDATE = {
    "name": "order_update",
    "language": "en_US",
    "category": "UTILITY",
    "status": "APPROVED",
    "body": "Order {{1}} is on its way.",
}
WA_ID = "447700900123"
BOT = Principal.system("globex", AutomationKind.BOT, "bot-orders")


def template_webhook(field: str, at_s: int, **value: Any) -> bytes:
    payload = json.loads(raw("whatsapp_template_status_update.json"))
    payload["entry"][0]["time"] = at_s
    change = payload["entry"][0]["changes"][0]
    change["field"] = field
    change["value"] = {
        "message_template_id": 1230000000001,
        "message_template_name": "order_update",
        "message_template_language": "en_US",
        **value,
    }
    return json.dumps(payload).encode()


def send_order_update(stack: WebhookStack, minutes: int) -> Any:
    service = SendService(
        stores=table_stores(stack.resources.table_name),
        accounts=AccountStore(stack.resources.table_name),
        graph=ScriptedGraph(),
        publish=len,
    )
    request = SendRequest.model_validate(
        {
            "channel": "whatsapp",
            "account_id": PHONE_NUMBER_ID,
            "contact_id": WA_ID,
            "content": {
                "type": "template",
                "template": {"name": "order_update", "language": "en_US", "parameters": ["A-1042"]},
            },
        }
    )
    return service.send(BOT, request, NOW + timedelta(minutes=minutes))


def test_a_paused_template_is_refused_at_once_reinstated_allowed_and_recategorised_as_marketing(
    stack: WebhookStack,
) -> None:
    registered = AccountConfig.model_validate({**WHATSAPP.model_dump(), "templates": [ORDER_UPDATE]})
    AccountStore(stack.resources.table_name).put_all([registered])
    customer = json.loads(raw("whatsapp_text_with_bsuid.json"))
    assert (
        stack.post(json.dumps(customer).encode())["statusCode"] == 200
    )  # the customer wrote: a contact exists
    states = TemplateStateTable(stack.resources.table_name)

    assert (
        stack.post(
            template_webhook(
                "message_template_status_update", BASE_S + 600, event="PAUSED", reason="LOW_QUALITY"
            )
        )["statusCode"]
        == 200
    )
    paused = states.get(Channel.WHATSAPP, PHONE_NUMBER_ID, "order_update", "en_US")
    assert (
        paused is not None
        and paused.status is TemplateStatus.PAUSED
        and paused.status_reason == "LOW_QUALITY"
    )
    assert stack.quarantined() == []  # no longer an unknown kind
    refused = send_order_update(stack, 1)
    assert refused.status == "refused" and ReasonCode.TEMPLATE_NOT_APPROVED in refused.decision.reasons

    # A late, older webhook (the approval before the pause) changes nothing.
    stack.post(template_webhook("message_template_status_update", BASE_S + 300, event="APPROVED"))
    assert send_order_update(stack, 2).status == "refused"

    stack.post(template_webhook("message_template_status_update", BASE_S + 900, event="REINSTATED"))
    assert send_order_update(stack, 3).status == "sent"

    stack.post(
        template_webhook(
            "template_category_update", BASE_S + 1200, previous_category="UTILITY", new_category="MARKETING"
        )
    )
    moved = states.get(Channel.WHATSAPP, PHONE_NUMBER_ID, "order_update", "en_US")
    assert (
        moved is not None
        and moved.category is TemplateCategory.MARKETING
        and moved.status is TemplateStatus.APPROVED
    )
    assert from_ms(moved.category_ms) is not None
