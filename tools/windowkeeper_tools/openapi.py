"""The OpenAPI document's schemas that come from pydantic models, so the document cannot drift.

``docs/openapi.yaml`` is written by hand (paths, responses, prose) except the component schemas
listed in ``GENERATED_MODELS``: those are pydantic's JSON Schema of the request models and of the
engine's ``Decision``. ``python -m windowkeeper_tools.openapi docs/openapi.yaml`` rewrites them
in place; a unit test fails when the file and the models disagree.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from windowkeeper.policy.model import Decision
from windowkeeper.sending.requests import CheckRequest, SendRequest

REF_TEMPLATE = "#/components/schemas/{model}"

# Request bodies as the API validates them; the decision as the API serialises it.
GENERATED_MODELS: list[tuple[type[BaseModel], JsonSchemaMode]] = [
    (SendRequest, "validation"),
    (CheckRequest, "validation"),
    (Decision, "serialization"),
]


def generated_schemas() -> dict[str, Any]:
    """Component schemas (``#/components/schemas/<Model>``) for the models and what they reference."""
    _, definitions = models_json_schema(GENERATED_MODELS, ref_template=REF_TEMPLATE)
    schemas: dict[str, Any] = definitions.get("$defs", {})
    return schemas


def refresh(path: Path) -> None:
    """Rewrite the generated component schemas of the document at ``path``, keeping the rest."""
    # A dev-time tool: the Lambda never imports PyYAML (no type stubs are installed for it either).
    document: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas.update(generated_schemas())
    path.write_text(
        yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100), encoding="utf-8"
    )


if __name__ == "__main__":
    refresh(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/openapi.yaml"))
