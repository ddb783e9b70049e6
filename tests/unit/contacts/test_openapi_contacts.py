"""docs/openapi.yaml documents the contacts API's bodies exactly as the models validate them."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel

from windowkeeper.sending.contacts import ConsentRequest, HandoverRequest

DOCUMENT_PATH = Path(__file__).resolve().parents[3] / "docs" / "openapi.yaml"
CONTACT = "/v1/contacts/{channel}/{account_id}/{contact_id}"


def inlined_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON Schema with its ``$defs`` (enums) written in place, as the document has it."""
    schema = model.model_json_schema()
    definitions = schema.pop("$defs", {})

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return walk(copy.deepcopy(definitions[ref.rsplit("/", 1)[-1]]))
            return {key: walk(value) for key, value in node.items()}
        if isinstance(node, list):
            return [walk(value) for value in node]
        return node

    result: dict[str, Any] = walk(schema)
    return result


@pytest.fixture(scope="module")
def paths() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(DOCUMENT_PATH.read_text(encoding="utf-8"))
    return dict(document["paths"])


@pytest.mark.parametrize(("suffix", "model"), [("/handover", HandoverRequest), ("/consent", ConsentRequest)])
def test_request_body_is_the_models_schema(
    paths: dict[str, Any], suffix: str, model: type[BaseModel]
) -> None:
    body = paths[CONTACT + suffix]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body == inlined_schema(model)
    assert body["additionalProperties"] is False  # a body naming a sender or agent is refused


def test_consent_scopes_in_the_document_are_the_engines(paths: dict[str, Any]) -> None:
    body = paths[CONTACT + "/consent"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body["properties"]["scope"]["enum"] == ["all", "marketing", "outside_window"]
