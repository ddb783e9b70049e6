"""The CLI commands of the local tooling: ``accounts load`` writes the example accounts into a
table (here moto's, built from the template) and ``token`` mints what the gateway accepts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from windowkeeper.accounts import load_accounts_file
from windowkeeper.policy.model import Channel
from windowkeeper.store.account_table import AccountStore
from windowkeeper_tools.aws_resources import Resources
from windowkeeper_tools.cli import main
from windowkeeper_tools.local.settings import repo_root
from windowkeeper_tools.local.tokens import LocalKeys, verify

EXAMPLE = repo_root() / "config" / "accounts.example.json"


def test_accounts_load_writes_profiles_and_webhook_aliases(
    aws: Resources, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["accounts", "load", str(EXAMPLE), "--table", aws.table_name]) == 0
    assert f"{len(load_accounts_file(EXAMPLE))} accounts written" in capsys.readouterr().out
    store = AccountStore(aws.table_name)
    whatsapp = store.get(Channel.WHATSAPP, "3333")
    assert whatsapp is not None and whatsapp.tenant_id == "acme"
    assert {t.status.value for t in whatsapp.templates} == {"APPROVED", "PAUSED"}
    assert [a.account_id for a in store.get_for_webhook("whatsapp_business_account", "3300")] == ["3333"]
    assert {a.account_id for a in store.list_for_tenant("globex")} == {"9999"}


def test_accounts_load_refuses_an_invalid_file_and_writes_nothing(
    aws: Resources, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "accounts.json"
    broken.write_text(json.dumps({"accounts": [{"tenant_id": "acme", "channel": "fax", "account_id": "1"}]}))
    assert main(["accounts", "load", str(broken), "--table", aws.table_name]) == 2
    assert "is not valid" in capsys.readouterr().err
    assert AccountStore(aws.table_name).list_for_tenant("acme") == []


def test_token_command_mints_a_token_the_gateway_verifies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("WINDOWKEEPER_STATE_DIR", str(tmp_path))
    assert main(["token", "--automation", "job-7", "--kind", "job", "--tenant", "acme", "--ttl", "30m"]) == 0
    token = capsys.readouterr().out.strip()
    claims = verify(LocalKeys.load_or_create(tmp_path), token)
    assert claims["sub"] == "job-7"
    assert claims["cognito:groups"] == ["automation"]
    assert claims["custom:automation"] == "job"
    assert claims["exp"] - claims["iat"] == 1800
    assert main(["token", "--human", "agent-1", "--tenant", "acme", "--ttl", "soon"]) == 2


def test_token_command_defaults_to_the_development_principals_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("WINDOWKEEPER_STATE_DIR", str(tmp_path))
    monkeypatch.setenv("WINDOWKEEPER_DEV_AGENT", "maria")
    monkeypatch.setenv("WINDOWKEEPER_DEV_TENANT", "globex")
    assert main(["token", "--human"]) == 0
    claims = verify(LocalKeys.load_or_create(tmp_path), capsys.readouterr().out.strip())
    assert (claims["sub"], claims["custom:tenant_id"], claims["cognito:groups"]) == (
        "maria",
        "globex",
        ["agents"],
    )
