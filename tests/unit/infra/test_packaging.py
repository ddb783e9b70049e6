"""The Lambda layer installs exactly the runtime dependencies the project is tested with."""

from __future__ import annotations

import tomllib
from pathlib import Path

from packaging.requirements import Requirement

REPO_ROOT = Path(__file__).resolve().parents[3]


def _by_name(lines: list[str]) -> dict[str, Requirement]:
    requirements = [Requirement(line) for line in lines]
    return {requirement.name.lower().replace("_", "-"): requirement for requirement in requirements}


def _layer_requirements() -> dict[str, Requirement]:
    text = (REPO_ROOT / "shared" / "requirements.txt").read_text(encoding="utf-8")
    lines = [line.split("#", 1)[0].strip() for line in text.splitlines()]
    return _by_name([line for line in lines if line])


def _project_requirements() -> dict[str, Requirement]:
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return _by_name(list(pyproject["project"]["dependencies"]))


def test_layer_and_project_name_the_same_packages() -> None:
    assert set(_layer_requirements()) == set(_project_requirements())


def test_layer_and_project_pin_the_same_versions() -> None:
    layer, project = _layer_requirements(), _project_requirements()
    for name, requirement in project.items():
        assert layer[name].specifier == requirement.specifier, name
        assert layer[name].extras == requirement.extras, name
        assert layer[name].marker == requirement.marker, name


def test_pydantic_matches_what_aws_sam_translator_pins() -> None:
    """The layer ships the pydantic range aws-sam-translator pins, so tested and deployed agree."""
    from importlib.metadata import requires

    from packaging.requirements import Requirement

    translator_pins = [Requirement(r) for r in requires("aws-sam-translator") or ()]
    translator_pydantic = next(r for r in translator_pins if r.name == "pydantic")
    assert _layer_requirements()["pydantic"].specifier == translator_pydantic.specifier
