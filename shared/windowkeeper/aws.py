"""boto3 clients, created once per container and only when a code path first needs them.

Retries use botocore's standard mode (exponential backoff with jitter, throttling-aware) rather
than a hand-rolled loop. Locally and in tests ``AWS_ENDPOINT_URL`` (honoured by botocore itself)
points every client at moto.

One boto3 Session serves every client: a Session loads botocore's endpoint and service data, and
building one per client tripled the CPU and memory of the webhook's first clients.
"""

from __future__ import annotations

import os
import threading
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


# A Session is not safe to build clients from in two threads at once (the local stack serves
# requests on threads); the lock costs nothing on Lambda, which runs one request at a time.
_BUILDING = threading.Lock()


@cache
def session() -> boto3.session.Session:
    """The process's one Session."""
    return boto3.session.Session()


@cache
def client(service: str) -> Any:
    """A cached low-level client (``dynamodb``, ``events``, ``scheduler``, ``s3``...)."""
    with _BUILDING:
        return session().client(service, region_name=region(), config=RETRY_CONFIG)  # type: ignore[call-overload]


@cache
def table(name: str) -> Table:
    with _BUILDING:
        resource = session().resource("dynamodb", region_name=region(), config=RETRY_CONFIG)
    return resource.Table(name)


def reset_clients() -> None:
    """Forget cached clients and the Session (tests switch endpoints and credentials between runs)."""
    client.cache_clear()
    table.cache_clear()
    session.cache_clear()
