"""Viber's monthly free quota and WeChat's per-window cap on DynamoDB (moto) under racing sends.

Issue 15: "the Viber quota and WeChat cap run out and refuse exactly at their limits under
concurrent sends". As in ``test_one_shot_rules_under_concurrency``, every AWS call is serialised
(moto's conditional writes are not atomic under threads): what is tested is our protocol, the
conditional quota count and the contact claim, not moto.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from typing import Any

from tests.support.fakes.graph import ScriptedGraph
from tests.support.seed import contact_record, put_contact, seed_accounts
from windowkeeper import aws as wk_aws
from windowkeeper.accounts import AccountConfig
from windowkeeper.auth import Principal
from windowkeeper.errors import DomainError
from windowkeeper.policy.model import AutomationKind, Channel, ReasonCode
from windowkeeper.sending.api_models import SendRequest
from windowkeeper.sending.service import SendOutcome, SendService
from windowkeeper.store.account_table import AccountStore
from windowkeeper.store.quota_records import month_of
from windowkeeper.store.quota_table import QuotaTable
from windowkeeper.wiring import send as send_wiring
from windowkeeper_tools.aws_resources import Resources

NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
VIBER_BOT = AccountConfig(
    tenant_id="acme", channel=Channel.VIBER, account_id="acmeoutdoor", viber_bot_created_on=date(2023, 5, 2)
)
WECHAT_OA = AccountConfig(tenant_id="acme", channel=Channel.WECHAT, account_id="gh_acme0000001")
BOT = Principal.system("acme", AutomationKind.JOB, "reengage")


class LockedGraph(ScriptedGraph):
    """The platform, delivering everything; a lock keeps its record whole under threads."""

    def __init__(self) -> None:
        super().__init__()
        self.lock = threading.Lock()

    def send(self, *args: Any) -> Any:
        with self.lock:
            return super().send(*args)


def service(table_name: str, graph: LockedGraph) -> SendService:
    return SendService(
        stores=send_wiring.table_stores(table_name),
        accounts=AccountStore(table_name),
        graph=graph,
        publish=len,
    )


def request(account: AccountConfig, contact: str) -> SendRequest:
    return SendRequest.model_validate(
        {
            "channel": account.channel.value,
            "account_id": account.account_id,
            "contact_id": contact,
            "content": {"type": "text", "text": "New trails are open this weekend"},
        }
    )


def race(gate: SendService, requests: list[SendRequest]) -> list[SendOutcome | DomainError]:
    """Every request at once; a send that kept losing its claim answers 409 ``contact_busy``
    (nothing sent, retry later): kept as the error, so the figures add up."""
    clocks = [NOW + timedelta(milliseconds=n) for n in range(len(requests))]

    def send(job: tuple[SendRequest, datetime]) -> SendOutcome | DomainError:
        try:
            return gate.send(BOT, job[0], job[1])
        except DomainError as busy:
            return busy

    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(send, zip(requests, clocks, strict=True)))


def test_viber_bot_initiated_messages_stop_at_the_months_free_quota(
    aws: Resources, serialised_aws: None
) -> None:
    seed_accounts(aws.table_name, [VIBER_BOT])
    for n in range(10):
        put_contact(
            aws.table_name,
            contact_record(
                Channel.VIBER,
                VIBER_BOT.account_id,
                f"viber-{n}",
                tenant_id="acme",
                wrote_at=NOW - timedelta(days=4),
                subscribed=True,
            ),
        )
    quotas = QuotaTable(aws.table_name)
    month = month_of(NOW)
    # 4 free messages left this month (the count is one item: set it as 9,996 takes would).
    wk_aws.table(aws.table_name).put_item(
        Item={"pk": "A#viber#acmeoutdoor", "sk": f"QUOTA#bot_initiated#{month}", "used": 9_996}
    )
    graph = LockedGraph()
    answers = race(service(aws.table_name, graph), [request(VIBER_BOT, f"viber-{n}") for n in range(10)])
    outcomes = [a for a in answers if isinstance(a, SendOutcome)]
    assert len(outcomes) == 10  # one send per contact: no claim ever races
    assert sum(o.status == "sent" for o in outcomes) == 4 == len(graph.calls)
    refused = [o for o in outcomes if o.status == "refused"]
    assert len(refused) == 6 and all(ReasonCode.QUOTA_EXHAUSTED in o.decision.reasons for o in refused)
    assert quotas.used(Channel.VIBER, VIBER_BOT.account_id, "bot_initiated", month) == 10_000


def test_wechat_replies_stop_at_five_in_the_window(aws: Resources, serialised_aws: None) -> None:
    seed_accounts(aws.table_name, [WECHAT_OA])
    put_contact(
        aws.table_name,
        contact_record(
            Channel.WECHAT,
            WECHAT_OA.account_id,
            "oAcme01",
            tenant_id="acme",
            wrote_at=NOW - timedelta(hours=5),
        ),
    )
    graph = LockedGraph()
    answers = race(service(aws.table_name, graph), [request(WECHAT_OA, "oAcme01") for _ in range(9)])
    outcomes = [a for a in answers if isinstance(a, SendOutcome)]
    busy = [a for a in answers if isinstance(a, DomainError)]
    assert sum(o.status == "sent" for o in outcomes) == 5 == len(graph.calls)
    refused = [o for o in outcomes if o.status == "refused"]
    assert all(ReasonCode.MESSAGE_CAP_REACHED in o.decision.reasons for o in refused)
    assert all(b.reason == "contact_busy" for b in busy) and len(refused) + len(busy) == 4
