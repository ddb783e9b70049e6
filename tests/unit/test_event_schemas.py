"""docs/events holds a valid draft 2020-12 schema for every detail-type, as generated from the models."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from windowkeeper.event_details import DETAIL_MODELS, all_detail_types
from windowkeeper.events import DetailType
from windowkeeper_tools import event_schemas
from windowkeeper_tools.event_schemas import DEFAULT_DIR, render, schema_file


def test_every_detail_type_has_a_model_and_nothing_else_does() -> None:
    assert sorted(DETAIL_MODELS) == sorted(all_detail_types())
    assert len(all_detail_types()) == 18


@pytest.mark.parametrize("detail_type", all_detail_types())
def test_the_committed_schema_is_valid_and_is_the_generated_one(detail_type: str) -> None:
    path = schema_file(DEFAULT_DIR, detail_type)
    committed = path.read_text(encoding="utf-8")
    schema = json.loads(committed)
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    # Every event names its account; all but the account-wide ones name a contact too.
    about_a_contact = detail_type != DetailType.ACCOUNT_HEALTH_CHANGED
    assert {"event_id", "channel", "account_id"} | ({"contact_id"} if about_a_contact else set()) <= set(
        schema["required"]
    )
    assert committed == render(detail_type), "run: python -m windowkeeper_tools.event_schemas"


def test_no_stray_schema_files() -> None:
    names = {p.name for p in DEFAULT_DIR.glob("*.schema.json")}
    assert names == {f"{t}.schema.json" for t in all_detail_types()}


def test_the_follow_up_schemas_pin_their_own_status() -> None:
    refused = json.loads(schema_file(DEFAULT_DIR, "followup.refused").read_text(encoding="utf-8"))
    validator = Draft202012Validator(refused)
    assert not validator.is_valid({"status": "sent"}) and "const" in refused["properties"]["status"]


def test_the_generator_answers_help_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``--help`` once wrote a folder named ``--help`` full of schemas: it is an option, not a folder."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exited:
        event_schemas.main(["--help"])
    assert exited.value.code == 0
    assert list(tmp_path.iterdir()) == []
