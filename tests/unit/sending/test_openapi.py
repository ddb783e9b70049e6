"""docs/openapi.yaml is the generated document: every served route, bodies and errors from the code."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator
from pydantic import BaseModel, ValidationError

from windowkeeper.http import ApiError
from windowkeeper.scheduling.job_service import ReengagementIn
from windowkeeper.sending.api_models import HandoverRequest, SendRequest
from windowkeeper_tools.openapi import REQUEST_MODELS, build_document, render, served_routes

DOCUMENT_PATH = Path(__file__).resolve().parents[3] / "docs" / "openapi.yaml"
HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options"}


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(DOCUMENT_PATH.read_text(encoding="utf-8"))
    return loaded


def operations(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        f"{method.upper()} {path}": operation
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in HTTP_METHODS
    }


def test_the_committed_document_is_the_generated_one() -> None:
    assert DOCUMENT_PATH.read_text(encoding="utf-8") == render(build_document()), (
        "run: python -m windowkeeper_tools.openapi docs/openapi.yaml"
    )


def test_all_seventeen_authenticated_operations_are_documented(document: dict[str, Any]) -> None:
    served = set(served_routes())
    assert len(served) == 17
    assert {
        "POST /v1/followups",
        "DELETE /v1/followups/{followup_id}",
        "GET /v1/reengagements/{job_id}",
    } <= served
    assert set(operations(document)) == served


def test_every_body_is_the_models_schema(document: dict[str, Any]) -> None:
    for key, operation in operations(document).items():
        body = operation.get("requestBody")
        model = REQUEST_MODELS.get(key)
        if model is None:
            assert body is None, key
            continue
        assert body is not None, key
        assert body["content"]["application/json"]["schema"] == {
            "$ref": f"#/components/schemas/{model.__name__}"
        }
        component = document["components"]["schemas"][model.__name__]
        assert component["additionalProperties"] is False  # a body naming a sender is refused
        assert set(component["properties"]) == set(model.model_fields)


def test_every_error_answer_has_the_apis_error_shape(document: dict[str, Any]) -> None:
    error = document["components"]["schemas"]["ErrorBody"]
    assert error["required"] == ["reason", "message"]
    assert error["properties"]["status"]["const"] == "error"
    assert ApiError(404, "unknown_account", "No such account.").body() == {
        "status": "error",
        "reason": "unknown_account",
        "message": "No such account.",
    }
    for key, operation in operations(document).items():
        for status in ("400", "403", "404", "500"):
            schema = operation["responses"][status]["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/ErrorBody"}, (key, status)
        # API Gateway's JWT authorizer answers 401 itself, in its own shape.
        schema = operation["responses"]["401"]["content"]["application/json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/GatewayError"}, key


def _resolved_validator(document: dict[str, Any], model: type[BaseModel]) -> Draft202012Validator:
    schema = {"$ref": f"#/components/schemas/{model.__name__}", "components": document["components"]}
    return Draft202012Validator(schema)


@pytest.mark.parametrize(
    ("model", "body"),
    [
        pytest.param(SendRequest, {"type": "text"}, id="text-without-text"),
        pytest.param(SendRequest, {"type": "text", "text": None}, id="text-null"),
        pytest.param(
            SendRequest, {"type": "media", "media_url": "https://x.example/a.png"}, id="media-no-type"
        ),
        pytest.param(SendRequest, {"type": "template"}, id="template-without-template"),
        pytest.param(SendRequest, {"type": "text", "text": "hi"}, id="text-ok"),
        pytest.param(SendRequest, {"type": "feedback_template"}, id="feedback-ok"),
    ],
)
def test_the_document_refuses_the_content_the_api_refuses(
    document: dict[str, Any], model: type[BaseModel], body: dict[str, Any]
) -> None:
    request = {"channel": "messenger", "account_id": "1111", "contact_id": "psid-1", "content": body}
    try:
        model.model_validate(request)
        api_accepts = True
    except ValidationError:
        api_accepts = False
    assert _resolved_validator(document, model).is_valid(request) == api_accepts


@pytest.mark.parametrize(
    ("model", "body"),
    [
        (HandoverRequest, {"to": "bot", "inbox": "meta"}),
        (HandoverRequest, {"to": "bot"}),
        (HandoverRequest, {"to": "human", "inbox": "meta"}),
        (ReengagementIn, {"silent_for_hours": 24, "contact_ids": ["a"]}),
        (ReengagementIn, {}),
        (ReengagementIn, {"silent_for_hours": 24, "contact_ids": None}),
        (ReengagementIn, {"contact_ids": ["a"]}),
    ],
)
def test_the_document_refuses_the_combinations_the_api_refuses(
    document: dict[str, Any], model: type[BaseModel], body: dict[str, Any]
) -> None:
    if model is ReengagementIn:
        body = {
            "channel": "messenger",
            "account_id": "1111",
            "purpose": "marketing",
            "content_by_path": {"free_form": {"type": "text", "text": "hi"}},
            **body,
        }
    try:
        model.model_validate(body)
        api_accepts = True
    except ValidationError:
        api_accepts = False
    assert _resolved_validator(document, model).is_valid(body) == api_accepts


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
