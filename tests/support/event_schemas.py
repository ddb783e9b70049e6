"""Every bus event a test sees is checked against its published schema (docs/events/)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

EVENTS_DIR = Path(__file__).resolve().parents[2] / "docs" / "events"


@cache
def validator(detail_type: str) -> Draft202012Validator:
    path = EVENTS_DIR / f"{detail_type}.schema.json"
    assert path.exists(), f"no schema for detail-type {detail_type!r}: expected {path}"
    schema = json.loads(path.read_text(encoding="utf-8"))
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def schema_problems(detail_type: str, detail: dict[str, Any]) -> list[str]:
    """What in ``detail`` breaks the schema of ``detail_type`` (empty when it conforms)."""
    errors = sorted(validator(detail_type).iter_errors(detail), key=lambda e: list(e.absolute_path))
    return [f"{'/'.join(map(str, e.absolute_path)) or '(detail)'}: {e.message}" for e in errors]


def assert_conforms(detail_type: str, detail: dict[str, Any]) -> None:
    problems = schema_problems(detail_type, detail)
    assert not problems, f"{detail_type} detail does not match docs/events: {problems}\n{detail}"
