"""docs/openapi.yaml, generated from the code so it cannot drift from what the API serves.

- Operations: the route tables of the two HTTP functions (``send_app``, ``scheduler_app``); a route
  without prose in ``openapi_operations.yaml``, or prose for a route nobody serves, is an error.
- Request bodies: pydantic's JSON Schema of the very models the handlers validate with (their
  cross-field rules are in the models' ``json_schema_extra``, next to the validators).
- Errors: ``windowkeeper.http.ErrorBody`` (what every handler error is built from) for 400, 403,
  404 and 500 on every operation, and API Gateway's own ``{"message": "Unauthorized"}`` for 401.
- Prose, the success bodies and operation-specific answers: ``openapi_operations.yaml``.

``python -m windowkeeper_tools.openapi [docs/openapi.yaml]`` writes the document; ``--check``
exits 1 when the file differs. A unit test fails when the committed document is not the generated one.
"""

from __future__ import annotations

import argparse
import copy
import re
import sys
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, Field
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from windowkeeper.http import ErrorBody
from windowkeeper.ingest.channels.events_api import CustomerEventsRequest
from windowkeeper.policy.model import Decision
from windowkeeper.scheduling.followup_service import FollowupIn
from windowkeeper.scheduling.job_service import ReengagementIn
from windowkeeper.sending.api_models import CheckRequest, ConsentRequest, HandoverRequest, SendRequest

REPO_ROOT = Path(__file__).resolve().parents[2]
DOCUMENT_PATH = REPO_ROOT / "docs" / "openapi.yaml"
OPERATIONS_PATH = Path(__file__).with_name("openapi_operations.yaml")
# The functions behind the authenticated HTTP API (the webhook function's: only /v1/events).
FUNCTIONS = ("send", "scheduler", "webhook")
REF_TEMPLATE = "#/components/schemas/{model}"
HTTP_METHODS = ("get", "put", "post", "delete", "patch")


class GatewayError(BaseModel):
    """API Gateway's own answer (JWT authorizer refusal, no such route): no reason code of ours."""

    message: str = Field(examples=["Unauthorized"])


# The body each operation validates, by the model the handler calls ``model_validate`` on.
REQUEST_MODELS: dict[str, type[BaseModel]] = {
    "POST /v1/messages": SendRequest,
    "POST /v1/messages/check": CheckRequest,
    "POST /v1/contacts/{channel}/{account_id}/{contact_id}/handover": HandoverRequest,
    "POST /v1/contacts/{channel}/{account_id}/{contact_id}/consent": ConsentRequest,
    "POST /v1/followups": FollowupIn,
    "POST /v1/reengagements": ReengagementIn,
    "POST /v1/events": CustomerEventsRequest,
}

# Request bodies as the API validates them; answers as the API serialises them.
GENERATED_MODELS: list[tuple[type[BaseModel], JsonSchemaMode]] = [
    *((model, "validation") for model in REQUEST_MODELS.values()),
    (Decision, "serialization"),
    (ErrorBody, "serialization"),
    (GatewayError, "serialization"),
]


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": _json({"$ref": REF_TEMPLATE.format(model="ErrorBody")})}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


ERROR_RESPONSES: dict[str, dict[str, Any]] = {
    "400": _error(
        "The request is not valid: `invalid_request` (with `problems[]`), `invalid_json`, `invalid_instant`, "
        "`unknown_template`, `invalid_idempotency_key`, `missing_parameter`, `invalid_channel`, "
        "`invalid_limit`..."
    ),
    "401": {
        "description": "No token, or one the JWT authorizer refuses: API Gateway answers itself, before any "
        'function runs, with `{"message": "Unauthorized"}`.',
        "content": _json({"$ref": REF_TEMPLATE.format(model="GatewayError")}),
    },
    "403": _error(
        "`forbidden_tenant` (the account belongs to another tenant; the attempt is audited), "
        "`principal_incomplete`, `principal_not_authorised`, `human_agent_not_allowed`."
    ),
    "404": _error("`unknown_account`, `unknown_contact`, `followup_not_found`, `job_not_found`..."),
    "500": _error("`internal_error`: a fault of ours, logged and counted (RequestsFailed); retry later."),
}


def generated_schemas() -> dict[str, Any]:
    """Component schemas (``#/components/schemas/<Model>``) for the models and what they reference."""
    _, definitions = models_json_schema(GENERATED_MODELS, ref_template=REF_TEMPLATE)
    schemas: dict[str, Any] = definitions.get("$defs", {})
    return schemas


def served_routes() -> dict[str, list[str]]:
    """``"METHOD /path/{param}"`` → path parameter names, for every route the HTTP functions serve."""
    for function in FUNCTIONS:
        folder = str(REPO_ROOT / "functions" / function)
        if folder not in sys.path:
            sys.path.append(folder)  # as the Lambda runtime puts the function's code root on the path
    import scheduler_app
    import send_app
    import webhook_app

    routes: dict[str, list[str]] = {}
    for app in (send_app.app, scheduler_app.app, webhook_app.app):
        for route in app._static_routes + app._dynamic_routes:
            if route.path.startswith("/webhook"):
                continue  # the platforms' webhooks: their shapes are the platforms', not this API's
            path = re.sub(r"<(\w+)>", r"{\1}", route.path)
            routes[f"{route.method.upper()} {path}"] = re.findall(r"<(\w+)>", route.path)
    return routes


def _operation(
    key: str, prose: dict[str, Any], path_params: list[str], source: dict[str, Any]
) -> dict[str, Any]:
    operation = {name: value for name, value in prose.items() if name not in ("parameters", "responses")}
    parameters = [
        {"name": name, "in": "path", "required": True, **source["pathParameters"][name]}
        for name in path_params
    ]
    operation["parameters"] = parameters + list(prose.get("parameters", []))
    if not operation["parameters"]:
        del operation["parameters"]
    model = REQUEST_MODELS.get(key)
    if model is not None:
        operation["requestBody"] = {
            "required": True,
            "content": _json({"$ref": REF_TEMPLATE.format(model=model.__name__)}),
        }
    responses = {**ERROR_RESPONSES, **prose["responses"]}
    operation["responses"] = dict(sorted(responses.items()))
    return operation


def build_document() -> dict[str, Any]:
    """The whole OpenAPI 3.1 document."""
    source: dict[str, Any] = yaml.safe_load(OPERATIONS_PATH.read_text(encoding="utf-8"))
    served = served_routes()
    described: dict[str, Any] = source["operations"]
    undescribed = sorted(set(served) - set(described))
    unserved = sorted(set(described) - set(served))
    if undescribed or unserved:
        raise ValueError(f"openapi_operations.yaml: no prose for {undescribed}; no route for {unserved}")
    paths: dict[str, dict[str, Any]] = {}
    for key, prose in described.items():  # the file's order: grouped as a reader looks for them
        method, path = key.split(" ", 1)
        paths.setdefault(path, {})[method.lower()] = _operation(key, prose, served[key], source)
    schemas = {**copy.deepcopy(source["schemas"]), **generated_schemas()}
    return {
        "openapi": "3.1.0",
        "info": source["info"],
        "servers": source["servers"],
        "security": [{"bearerAuth": []}],
        "paths": paths,
        "components": {
            "securitySchemes": source["securitySchemes"],
            "parameters": source["parameters"],
            "schemas": dict(sorted(schemas.items())),
        },
    }


def render(document: dict[str, Any]) -> str:
    class _NoAliases(yaml.SafeDumper):
        def ignore_aliases(self, data: Any) -> bool:
            return True

    header = "# Generated by `python -m windowkeeper_tools.openapi docs/openapi.yaml`: do not edit by hand.\n"
    body: str = yaml.dump(document, Dumper=_NoAliases, sort_keys=False, allow_unicode=True, width=100)
    return header + body


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m windowkeeper_tools.openapi",
        description="Write the OpenAPI document generated from the routes and models, or check it.",
    )
    parser.add_argument("target", nargs="?", type=Path, default=DOCUMENT_PATH, help="the document's path")
    parser.add_argument("--check", action="store_true", help="fail if the committed document is stale")
    arguments = parser.parse_args(argv)  # an unknown flag exits 2 instead of becoming a file name
    target: Path = arguments.target
    check: bool = arguments.check
    text = render(build_document())
    if check:
        current = target.read_text(encoding="utf-8") if target.exists() else ""
        if current != text:
            print(f"{target} is stale: run python -m windowkeeper_tools.openapi {target}", file=sys.stderr)
            return 1
        return 0
    target.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
