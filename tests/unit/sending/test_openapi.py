"""docs/openapi.yaml matches the handler: same routes both ways, request schemas from the models."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

import send_app
from windowkeeper.sending.requests import SendRequest
from windowkeeper_tools.openapi import generated_schemas

DOCUMENT_PATH = Path(__file__).resolve().parents[3] / "docs" / "openapi.yaml"
HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options"}


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(DOCUMENT_PATH.read_text(encoding="utf-8"))
    return loaded


def served_routes() -> set[tuple[str, str]]:
    """(METHOD, /path/{param}) for every route the resolver serves, read from its route table."""
    routes = send_app.app._static_routes + send_app.app._dynamic_routes
    return {(route.method.upper(), re.sub(r"<(\w+)>", r"{\1}", route.path)) for route in routes}


def documented_routes(document: dict[str, Any]) -> set[tuple[str, str]]:
    return {
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
        if method in HTTP_METHODS
    }


def test_the_send_routes_are_served() -> None:
    assert {("POST", "/v1/messages"), ("POST", "/v1/messages/check")} <= served_routes()


def test_every_served_route_is_documented_and_vice_versa(document: dict[str, Any]) -> None:
    served, documented = served_routes(), documented_routes(document)
    assert served - documented == set(), "served but not in docs/openapi.yaml"
    assert documented - served == set(), "documented but not served by send_app"


def test_the_send_request_schema_is_the_models_schema(document: dict[str, Any]) -> None:
    request_schema = document["paths"]["/v1/messages"]["post"]["requestBody"]["content"]["application/json"][
        "schema"
    ]
    assert request_schema == {"$ref": "#/components/schemas/SendRequest"}
    generated = generated_schemas()
    assert document["components"]["schemas"]["SendRequest"] == generated["SendRequest"]
    assert generated["SendRequest"]["additionalProperties"] is False
    assert set(generated["SendRequest"]["properties"]) == set(SendRequest.model_fields)


def test_every_generated_component_is_current(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    stale = [name for name, schema in generated_schemas().items() if schemas.get(name) != schema]
    assert stale == [], f"run: python -m windowkeeper_tools.openapi docs/openapi.yaml ({stale})"


def test_every_reference_resolves(document: dict[str, Any]) -> None:
    refs: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("$ref"), str):
                refs.append(node["$ref"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(document)
    missing = []
    for ref in refs:
        target: Any = document
        for part in ref.removeprefix("#/").split("/"):
            target = target.get(part) if isinstance(target, dict) else None
        if target is None:
            missing.append(ref)
    assert refs and missing == []


def test_bearer_jwt_security_applies_to_every_operation(document: dict[str, Any]) -> None:
    assert document["components"]["securitySchemes"]["bearerAuth"] == {
        **document["components"]["securitySchemes"]["bearerAuth"],
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
    }
    assert document["security"] == [{"bearerAuth": []}]


def test_the_document_is_valid_openapi_3_1(document: dict[str, Any]) -> None:
    from openapi_spec_validator import validate

    validate(document)  # raises with the offending path if the document breaks the 3.1 schema
