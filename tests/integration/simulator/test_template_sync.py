"""``windowkeeper accounts sync-templates``: the registry read from Meta's Management API.

The simulator serves ``GET /{waba_id}/message_templates`` from its accounts (the statuses it has
played since included); the command, run against moto's table, makes Meta's list the account's
templates and Meta's word newer than any webhook verdict kept before.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.integration.simulator.conftest import LOOPBACK_ONLY, WHATSAPP
from tests.support.clock import freeze
from windowkeeper import aws as wk_aws
from windowkeeper.policy.model import Channel, TemplateCategory, TemplateStatus
from windowkeeper.store.account_table import AccountStore
from windowkeeper.store.template_records import TemplateChange
from windowkeeper.store.template_table import TemplateStateTable
from windowkeeper_tools.aws_resources import Resources
from windowkeeper_tools.cli import main
from windowkeeper_tools.simulator import SimulatorServer

pytestmark = LOOPBACK_ONLY

NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)

TOKEN = "EAAG-wa-token"


@pytest.fixture
def table(aws: Resources, server: SimulatorServer, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("GRAPH_API_BASE_URL", server.url)
    wk_aws.client("secretsmanager").create_secret(
        Name=str(WHATSAPP.access_token_secret_id), SecretString=TOKEN
    )
    # The operator's registry knows one template, by an old status.
    stale = WHATSAPP.model_copy(update={"templates": WHATSAPP.templates[:1]})
    AccountStore(aws.table_name).put_all([stale])
    return aws.table_name


def test_a_sync_makes_metas_list_the_registry(table: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["accounts", "sync-templates", "--table", table, "--account", WHATSAPP.account_id]) == 0
    print_out = capsys.readouterr().out
    assert "2 templates: order_shipped/en_US APPROVED, winter_sale/en_US PAUSED" in print_out

    synced = AccountStore(table).get(Channel.WHATSAPP, WHATSAPP.account_id)
    assert synced is not None
    assert [(t.name, t.category, t.status) for t in synced.templates] == [
        ("order_shipped", TemplateCategory.UTILITY, TemplateStatus.APPROVED),
        ("winter_sale", TemplateCategory.MARKETING, TemplateStatus.PAUSED),
    ]
    assert synced.templates[0].body == WHATSAPP.templates[0].body


def test_metas_list_overrides_an_older_webhook_verdict(table: str, server: SimulatorServer) -> None:
    states = TemplateStateTable(table)
    older = TemplateChange(
        name="order_shipped",
        language="en_US",
        fact="status",
        at_ms=1,
        status=TemplateStatus.PAUSED,
        event="PAUSED",
    )
    assert states.apply(Channel.WHATSAPP, WHATSAPP.account_id, older)

    assert main(["accounts", "sync-templates", "--table", table, "--account", WHATSAPP.account_id]) == 0
    state = states.get(Channel.WHATSAPP, WHATSAPP.account_id, "order_shipped", "en_US")
    assert state is not None and state.status is TemplateStatus.APPROVED and state.quality == "GREEN"

    server.simulator.template_status_update(WHATSAPP, "order_shipped", "DISABLED")  # Meta acts again
    with freeze(NOW + timedelta(hours=1)):  # the operator syncs again an hour later
        assert main(["accounts", "sync-templates", "--table", table, "--tenant", WHATSAPP.tenant_id]) == 0
    again = states.get(Channel.WHATSAPP, WHATSAPP.account_id, "order_shipped", "en_US")
    assert again is not None and again.status is TemplateStatus.DISABLED


def test_an_unknown_account_is_refused_without_calling_meta(table: str, server: SimulatorServer) -> None:
    assert main(["accounts", "sync-templates", "--table", table, "--account", "999999999999"]) == 2
    assert server.simulator.requests() == []
