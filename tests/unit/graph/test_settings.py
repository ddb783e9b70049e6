"""Settings from the environment and access tokens from Secrets Manager (moto, in-process)."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from tests.unit.graph.conftest import MESSENGER_PAGE
from windowkeeper import aws, secrets
from windowkeeper.graph.settings import (
    DEFAULT_BASE_URL,
    DEFAULT_VERSION,
    GraphSettings,
    MissingAccessTokenError,
    client_from_env,
    secrets_token_provider,
)


def test_defaults_when_the_environment_says_nothing(monkeypatch):
    monkeypatch.delenv("GRAPH_API_BASE_URL", raising=False)
    monkeypatch.delenv("GRAPH_API_VERSION", raising=False)
    assert GraphSettings.from_env() == GraphSettings(DEFAULT_BASE_URL, DEFAULT_VERSION)
    assert (DEFAULT_BASE_URL, DEFAULT_VERSION) == ("https://graph.facebook.com", "v25.0")


def test_the_local_stack_points_the_client_at_the_simulator(monkeypatch):
    monkeypatch.setenv("GRAPH_API_BASE_URL", "http://127.0.0.1:8765")
    monkeypatch.setenv("GRAPH_API_VERSION", "v24.0")
    client = client_from_env()
    assert client.version == "v24.0"
    assert str(client._http.base_url) == "http://127.0.0.1:8765"
    client.close()


@pytest.fixture
def secretsmanager():
    with mock_aws():
        aws.reset_clients()
        secrets.clear_cache()
        yield boto3.client("secretsmanager", region_name="eu-west-1")
        aws.reset_clients()
        secrets.clear_cache()


def test_token_comes_from_the_accounts_secret(secretsmanager):
    secretsmanager.create_secret(Name="windowkeeper/acme/messenger", SecretString="EAAG-page-token\n")
    assert secrets_token_provider(MESSENGER_PAGE) == "EAAG-page-token"


def test_an_account_without_a_token_secret_cannot_send():
    account = MESSENGER_PAGE.model_copy(update={"access_token_secret_id": None})
    with pytest.raises(MissingAccessTokenError, match="no access_token_secret_id"):
        secrets_token_provider(account)
