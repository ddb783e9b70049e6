"""Meta's template list (WhatsApp Business Management API) read into the registry, and its paging."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.support.accounts import GRAPH_WHATSAPP
from windowkeeper.graph.client import GraphClient, TemplateListError
from windowkeeper.graph.template_list import registry_from_meta, template_from_meta
from windowkeeper.policy.model import TemplateCategory, TemplateStatus

SHIPPED = {
    "name": "order_shipped",
    "language": "en_US",
    "status": "APPROVED",
    "category": "UTILITY",
    "id": "1230000000001",
    "components": [
        {"type": "HEADER", "format": "TEXT", "text": "Your order"},
        {"type": "BODY", "text": "Hi {{first_name}}, order {{order_id}} has shipped."},
    ],
    "quality_score": {"score": "GREEN"},
}


def test_a_listed_template_keeps_its_body_and_names_its_parameters() -> None:
    template = template_from_meta(SHIPPED)
    assert template is not None
    assert (template.category, template.status) == (TemplateCategory.UTILITY, TemplateStatus.APPROVED)
    assert template.body == "Hi {{first_name}}, order {{order_id}} has shipped."
    assert template.parameters == ("first_name", "order_id")


@pytest.mark.parametrize(
    "change", [{"category": "TRANSACTIONAL"}, {"status": "SOMETHING_NEW"}, {"language": ""}]
)
def test_what_the_engine_cannot_use_is_left_out_not_guessed(change: dict[str, Any]) -> None:
    assert template_from_meta({**SHIPPED, **change}) is None


def test_the_registry_and_its_facts_come_from_the_list_at_the_sync_instant() -> None:
    paused = {
        **SHIPPED,
        "name": "winter_sale",
        "category": "MARKETING",
        "status": "PAUSED",
        "quality_score": {"score": "RED"},
    }
    account, facts = registry_from_meta(GRAPH_WHATSAPP, [SHIPPED, paused], at_ms=1_795_000_000_000)
    assert [t.name for t in account.templates] == ["order_shipped", "winter_sale"]
    assert {(f.name, f.fact) for f in facts} == {
        (n, k) for n in ("order_shipped", "winter_sale") for k in ("status", "category", "quality")
    }
    assert {f.at_ms for f in facts} == {1_795_000_000_000}
    [red] = [f for f in facts if f.name == "winter_sale" and f.fact == "quality"]
    assert red.quality == "RED"


def test_the_client_follows_every_page_and_reports_metas_refusal() -> None:
    seen: list[str] = []

    def meta(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        assert request.headers["authorization"] == "Bearer EAAG-test"
        if "after=" not in str(request.url):
            next_page = (
                f"https://graph.facebook.com/v25.0/{GRAPH_WHATSAPP.waba_id}/message_templates?after=MjQZD"
            )
            return httpx.Response(200, json={"data": [SHIPPED], "paging": {"next": next_page}})
        return httpx.Response(200, json={"data": [{**SHIPPED, "name": "second"}]})

    client = GraphClient(
        "https://graph.facebook.com", "v25.0", lambda _a: "EAAG-test", transport=httpx.MockTransport(meta)
    )
    listed = client.message_templates(GRAPH_WHATSAPP)
    assert [t["name"] for t in listed] == ["order_shipped", "second"]
    assert "fields=name%2Clanguage%2Cstatus%2Ccategory%2Ccomponents%2Cquality_score" in seen[0]

    def refuses(_request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, json={"error": {"code": 200, "message": "(#200) Permissions error"}})

    refusing = GraphClient(
        "https://graph.facebook.com", "v25.0", lambda _a: "x", transport=httpx.MockTransport(refuses)
    )
    with pytest.raises(TemplateListError) as refused:
        refusing.message_templates(GRAPH_WHATSAPP)
    assert refused.value.error.code == 200
    assert json.dumps(refused.value.error.to_dict())  # reportable as it came
