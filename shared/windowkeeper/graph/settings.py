"""Graph API settings from the environment and the Secrets Manager token provider.

``GRAPH_API_BASE_URL`` (default ``https://graph.facebook.com``; the local stack points it at the
simulator) and ``GRAPH_API_VERSION`` (default ``v25.0``). Page / phone-number access tokens live in
the Secrets Manager secret named by ``AccountConfig.access_token_secret_id`` (secret string = the
token), read through ``windowkeeper.secrets`` (cached per container, never logged).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from windowkeeper import secrets
from windowkeeper.accounts import AccountConfig
from windowkeeper.graph.client import GraphClient

DEFAULT_BASE_URL = "https://graph.facebook.com"
DEFAULT_VERSION = "v25.0"


class MissingAccessTokenError(LookupError):
    """The account names no access-token secret: it cannot send through the Graph API."""


@dataclass(frozen=True)
class GraphSettings:
    base_url: str = DEFAULT_BASE_URL
    version: str = DEFAULT_VERSION

    @classmethod
    def from_env(cls) -> GraphSettings:
        return cls(
            base_url=os.environ.get("GRAPH_API_BASE_URL") or DEFAULT_BASE_URL,
            version=os.environ.get("GRAPH_API_VERSION") or DEFAULT_VERSION,
        )


def secrets_token_provider(account: AccountConfig) -> str:
    if not account.access_token_secret_id:
        raise MissingAccessTokenError(
            f"account {account.channel.value}/{account.account_id} has no access_token_secret_id"
        )
    return secrets.get_secret(account.access_token_secret_id).strip()


def secrets_token_fingerprint(account: AccountConfig) -> str | None:
    """Which token the account uses now, as a short hash (``health_records.token_fingerprint``);
    None when it cannot be read (the send then says why)."""
    from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError  # noqa: PLC0415

    from windowkeeper.store.health_records import token_fingerprint  # noqa: PLC0415

    try:
        return token_fingerprint(secrets_token_provider(account))
    except (LookupError, GetParameterError):  # no secret named, or it cannot be read: the send says why
        return None


def client_from_env(**options: Any) -> GraphClient:
    """A client configured from the environment, reading tokens from Secrets Manager."""
    settings = GraphSettings.from_env()
    return GraphClient(settings.base_url, settings.version, secrets_token_provider, **options)
