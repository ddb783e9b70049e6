"""Secrets from Secrets Manager, cached per container by powertools' parameters utility.

Values are never logged; callers get them as plain strings and keep them out of log records.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities import parameters

from windowkeeper import aws

CACHE_SECONDS = 300  # a rotated secret is picked up within five minutes


def get_secret(secret_id: str) -> str:
    value = parameters.get_secret(secret_id, max_age=CACHE_SECONDS, boto3_client=aws.client("secretsmanager"))
    return value if isinstance(value, str) else value.decode()


def get_json_secret(secret_id: str) -> dict[str, Any]:
    parsed: Any = json.loads(get_secret(secret_id))
    if not isinstance(parsed, dict):
        raise ValueError(f"secret {secret_id} is not a JSON object")
    return parsed


def clear_cache() -> None:
    parameters.clear_caches()  # type: ignore[no-untyped-call]
