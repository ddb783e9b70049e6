"""Viber's free monthly bot-initiated quota, kept as state with the sends (fact sheet O1).

Many subscribers, many concurrent sends, the last few free messages of the month: exactly the
quota's worth go out, the rest are refused ``quota_exhausted`` with the first of next month as
when it works again; a message Viber certainly refused gives its count back.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta

from tests.support.fakes.accounts import InMemoryAccounts
from tests.support.fakes.graph import ScriptedGraph
from tests.support.fakes.sending import InMemorySendStores
from tests.support.seed import contact_record
from windowkeeper.accounts import AccountConfig
from windowkeeper.auth import Principal
from windowkeeper.graph.results import NO_EFFECTS, DeliveryResult, GraphError
from windowkeeper.policy.model import AutomationKind, Channel, Path, ReasonCode
from windowkeeper.sending.api_models import SendRequest
from windowkeeper.sending.service import SendService
from windowkeeper.store.quota_records import month_of

NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
BOT_URI = "acmeoutdoor"
OLD_MODEL_BOT = AccountConfig(
    tenant_id="acme", channel=Channel.VIBER, account_id=BOT_URI, viber_bot_created_on=date(2023, 5, 2)
)
NEW_MODEL_BOT = OLD_MODEL_BOT.model_copy(update={"viber_bot_created_on": date(2024, 6, 1)})
BOT = Principal.system("acme", AutomationKind.JOB, "reengage")
QUOTA = 10_000


def gate(
    account: AccountConfig, subscribers: int, used: int
) -> tuple[SendService, InMemorySendStores, ScriptedGraph]:
    stores = InMemorySendStores()
    for n in range(subscribers):
        # Subscribed, last wrote three days ago: outside the 24 h session, so bot-initiated.
        stores.contacts.put(
            contact_record(
                Channel.VIBER,
                BOT_URI,
                f"viber-user-{n}",
                tenant_id="acme",
                wrote_at=NOW - timedelta(days=3),
                subscribed=True,
            )
        )
    stores.quotas.used_by[(Channel.VIBER.value, BOT_URI, "bot_initiated", month_of(NOW))] = used
    graph = ScriptedGraph()
    service = SendService(
        stores=stores.ports(),
        accounts=InMemoryAccounts.of(account),
        graph=graph,
        publish=len,
    )
    return service, stores, graph


def request(contact: str) -> SendRequest:
    return SendRequest.model_validate(
        {
            "channel": "viber",
            "account_id": BOT_URI,
            "contact_id": contact,
            "content": {"type": "text", "text": "New trails are open"},
        }
    )


def test_concurrent_sends_stop_exactly_at_the_last_free_message_of_the_month() -> None:
    left = 3
    service, stores, graph = gate(OLD_MODEL_BOT, subscribers=12, used=QUOTA - left)
    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(lambda n: service.send(BOT, request(f"viber-user-{n}"), NOW), range(12)))
    sent = [o for o in outcomes if o.status == "sent"]
    refused = [o for o in outcomes if o.status == "refused"]
    assert len(sent) == left and len(graph.calls) == left
    assert all(o.decision.path is Path.BOT_INITIATED for o in sent)
    assert len(refused) == 12 - left
    assert all(ReasonCode.QUOTA_EXHAUSTED in o.decision.reasons for o in refused)
    assert stores.quotas.used(Channel.VIBER, BOT_URI, "bot_initiated", month_of(NOW)) == QUOTA
    [when] = {opt.opens_at for o in refused for opt in o.decision.options if opt.path is Path.BOT_INITIATED}
    assert when == datetime(2026, 12, 1, tzinfo=UTC)  # when the quota works again


def test_the_quota_resets_on_the_first_of_the_month_in_utc_with_no_rollover() -> None:
    service, _, _ = gate(OLD_MODEL_BOT, subscribers=1, used=QUOTA)
    assert service.send(BOT, request("viber-user-0"), NOW).status == "refused"
    next_month = datetime(2026, 12, 1, 0, 0, 1, tzinfo=UTC)
    assert service.send(BOT, request("viber-user-0"), next_month).status == "sent"


def test_a_message_viber_certainly_refused_gives_its_count_back() -> None:
    service, stores, graph = gate(OLD_MODEL_BOT, subscribers=1, used=QUOTA - 1)
    # Viber's status 3 (badData): the message certainly did not go.
    graph.answers.append(
        DeliveryResult(
            ok=False,
            platform_message_id=None,
            http_status=200,
            error=GraphError(code=3, type="viber", message="badData"),
            reason=None,
            effects=NO_EFFECTS,
            known_error=True,
            attempts=1,
        )
    )
    outcome = service.send(BOT, request("viber-user-0"), NOW)
    assert outcome.status == "failed"
    assert stores.quotas.used(Channel.VIBER, BOT_URI, "bot_initiated", month_of(NOW)) == QUOTA - 1


def test_a_bot_on_the_paid_model_is_not_counted() -> None:
    service, stores, _ = gate(NEW_MODEL_BOT, subscribers=2, used=QUOTA)
    assert service.send(BOT, request("viber-user-0"), NOW).status == "sent"
    assert stores.quotas.used(Channel.VIBER, BOT_URI, "bot_initiated", month_of(NOW)) == QUOTA
