"""Secrets from Secrets Manager, cached per container by powertools' parameters utility.

Values are never logged; callers get them as plain strings and keep them out of log records.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from aws_lambda_powertools.utilities import parameters

from windowkeeper import aws

CACHE_SECONDS = 300  # a rotated secret is picked up within five minutes


@cache
def _provider() -> parameters.SecretsProvider:
    # parameters.get_secret() passes extra keywords to GetSecretValue, so the shared client
    # (retries, AWS_ENDPOINT_URL) has to be given to a provider of our own.
    return parameters.SecretsProvider(boto3_client=aws.client("secretsmanager"))


def get_secret(secret_id: str) -> str:
    value = _provider().get(secret_id, max_age=CACHE_SECONDS)
    if isinstance(value, bytes):
        return value.decode()
    if not isinstance(value, str):
        raise LookupError(f"secret {secret_id} has no string value")
    return value


def get_json_secret(secret_id: str) -> dict[str, Any]:
    parsed: Any = json.loads(get_secret(secret_id))
    if not isinstance(parsed, dict):
        raise ValueError(f"secret {secret_id} is not a JSON object")
    return parsed


def clear_cache() -> None:
    _provider.cache_clear()
    parameters.clear_caches()  # type: ignore[no-untyped-call]
