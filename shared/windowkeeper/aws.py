"""boto3 clients, created once per container and only when a code path first needs them.

Retries use botocore's standard mode (exponential backoff with jitter, throttling-aware) rather
than a hand-rolled loop. Locally and in tests ``AWS_ENDPOINT_URL`` (honoured by botocore itself)
points every client at moto.
"""

from __future__ import annotations

import os
from functools import cache
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

RETRY_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 4},
    connect_timeout=2,
    read_timeout=5,
)


def region() -> str:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "eu-west-1"


@cache
def client(service: str) -> Any:
    """A cached low-level client (``dynamodb``, ``events``, ``scheduler``, ``s3``...)."""
    return boto3.session.Session().client(service, region_name=region(), config=RETRY_CONFIG)  # type: ignore[call-overload]


@cache
def table(name: str) -> Table:
    resource = boto3.session.Session().resource("dynamodb", region_name=region(), config=RETRY_CONFIG)
    return resource.Table(name)


def reset_clients() -> None:
    """Forget cached clients (tests switch endpoints and credentials between runs)."""
    client.cache_clear()
    table.cache_clear()
