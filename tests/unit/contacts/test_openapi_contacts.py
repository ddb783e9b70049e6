"""docs/openapi.yaml documents the contacts API's bodies exactly as the models validate them."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel

from windowkeeper.sending.api_models import ConsentRequest, HandoverRequest

DOCUMENT_PATH = Path(__file__).resolve().parents[3] / "docs" / "openapi.yaml"
CONTACT = "/v1/contacts/{channel}/{account_id}/{contact_id}"


def inlined_schema(root: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with every reference into ``root`` (the document's components, or the model's own
    ``$defs``) written in place, so the document's and the model's schemas compare as written."""
    definitions = {**root.get("components", {}).get("schemas", {}), **root.get("$defs", {})}
    definitions.update(schema.get("$defs", {}))

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str):
                return walk(copy.deepcopy(definitions[ref.rsplit("/", 1)[-1]]))
            return {key: walk(value) for key, value in node.items() if key != "$defs"}
        if isinstance(node, list):
            return [walk(value) for value in node]
        return node

    result: dict[str, Any] = walk(schema)
    return result


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(DOCUMENT_PATH.read_text(encoding="utf-8"))
    return loaded


@pytest.mark.parametrize(("suffix", "model"), [("/handover", HandoverRequest), ("/consent", ConsentRequest)])
def test_request_body_is_the_models_schema(
    document: dict[str, Any], suffix: str, model: type[BaseModel]
) -> None:
    body = document["paths"][CONTACT + suffix]["post"]["requestBody"]["content"]["application/json"]["schema"]
    component = inlined_schema(document, body)
    assert component == inlined_schema({"$defs": {}}, model.model_json_schema())
    assert component["additionalProperties"] is False  # a body naming a sender or agent is refused


def test_consent_scopes_in_the_document_are_the_engines(document: dict[str, Any]) -> None:
    ref = document["paths"][CONTACT + "/consent"]["post"]["requestBody"]["content"]["application/json"][
        "schema"
    ]
    body = inlined_schema(document, ref)
    assert body["properties"]["scope"]["enum"] == ["all", "marketing", "outside_window"]
