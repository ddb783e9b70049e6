"""The SAM template, parsed and transformed offline (no credentials, no network)."""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

import pytest
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

REPO_ROOT = Path(__file__).resolve().parents[3]
TEMPLATE_PATH = REPO_ROOT / "infra" / "template.yaml"


class _NoManagedPolicies:
    """SAM asks IAM for AWS managed policy ARNs only when a policy is named, not given as a
    template or statement; this template names none, so nothing needs looking up."""

    def load(self) -> dict[str, str]:
        return {}


@pytest.fixture(scope="session")
def template_path() -> Path:
    return TEMPLATE_PATH


@pytest.fixture(scope="session")
def sam_template() -> dict[str, Any]:
    parsed: dict[str, Any] = yaml_parse(TEMPLATE_PATH.read_text(encoding="utf-8"))
    return parsed


@pytest.fixture(scope="session")
def cfn_template(sam_template: dict[str, Any]) -> dict[str, Any]:
    """The template after the SAM transform, as CloudFormation would receive it."""
    document = copy.deepcopy(sam_template)
    # samtranslator refuses local paths (sam build/package replace them with S3 URIs).
    for logical_id, resource in document["Resources"].items():
        properties = resource.get("Properties") or {}
        for key in ("CodeUri", "ContentUri"):
            if isinstance(properties.get(key), str):
                properties[key] = f"s3://windowkeeper-artifacts/{logical_id}.zip"
    os.environ.setdefault("AWS_DEFAULT_REGION", "eu-west-1")  # samtranslator wants a region, no credentials
    transformed: dict[str, Any] = transform(document, {}, _NoManagedPolicies())
    return transformed
