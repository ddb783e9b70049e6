"""WeChat's customer-service caps under concurrent sends (fact sheet O2): 5 messages in the 48 h
after a user's message, 3 in the minute after a follow or menu click. Each send claims its place
on the contact before the platform is called, so racing sends cannot both take the last one."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from tests.support.fakes.accounts import InMemoryAccounts
from tests.support.fakes.graph import ScriptedGraph
from tests.support.fakes.sending import InMemorySendStores
from tests.support.seed import contact_record
from windowkeeper.accounts import AccountConfig
from windowkeeper.auth import Principal
from windowkeeper.errors import DomainError
from windowkeeper.policy.model import AutomationKind, Channel, CustomerActionKind, Path, ReasonCode
from windowkeeper.sending.api_models import SendRequest
from windowkeeper.sending.service import SendOutcome, SendService

NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
ACCOUNT = AccountConfig(tenant_id="acme", channel=Channel.WECHAT, account_id="gh_acme0000001")
BOT = Principal.system("acme", AutomationKind.BOT, "wechat-bot")
OPENID = "oAcmeUser0001"


def race(
    sends: int, wrote_ago: timedelta, kind: CustomerActionKind
) -> tuple[list[SendOutcome], ScriptedGraph]:
    """``sends`` concurrent bot replies to a follower whose last action was ``kind``, ``wrote_ago``."""
    stores = InMemorySendStores()
    record = contact_record(
        Channel.WECHAT, ACCOUNT.account_id, OPENID, tenant_id="acme", wrote_at=NOW - wrote_ago
    )
    stores.contacts.put(record.model_copy(update={"last_customer_action_kind": kind, "subscribed": True}))
    graph = ScriptedGraph()
    service = SendService(
        stores=stores.ports(), accounts=InMemoryAccounts.of(ACCOUNT), graph=graph, publish=len
    )
    request = SendRequest.model_validate(
        {
            "channel": "wechat",
            "account_id": ACCOUNT.account_id,
            "contact_id": OPENID,
            "content": {"type": "text", "text": "Hi"},
        }
    )

    def send(_: int) -> SendOutcome | None:
        try:
            return service.send(BOT, request, NOW)
        except DomainError:  # 409 contact_busy: it kept losing its claim; nothing was sent
            return None

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = [o for o in pool.map(send, range(sends)) if o is not None]
    return outcomes, graph


def test_ten_racing_replies_after_a_message_send_exactly_five() -> None:
    outcomes, graph = race(10, timedelta(hours=3), CustomerActionKind.MESSAGE)
    sent = [o for o in outcomes if o.status == "sent"]
    assert len(sent) == 5 and len(graph.calls) == 5
    assert all(o.decision.path is Path.FREE_FORM for o in sent)
    refused = [o for o in outcomes if o.status == "refused"]
    assert len(refused) <= 5
    assert all(ReasonCode.MESSAGE_CAP_REACHED in o.decision.reasons for o in refused), refused[0].decision


def test_racing_replies_in_the_minute_after_a_follow_send_exactly_three() -> None:
    outcomes, graph = race(8, timedelta(seconds=20), CustomerActionKind.FOLLOW)
    assert sum(o.status == "sent" for o in outcomes) == 3 and len(graph.calls) == 3
