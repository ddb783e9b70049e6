"""The WhatsApp 131049 back-off is one rule in the engine's table, and the ingest follows it."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from tests.unit.ingest.meta_fixtures import BASE_S, payload, resolver
from windowkeeper.ingest import normalize as normalize_module
from windowkeeper.ingest.models import Envelope
from windowkeeper.ingest.normalize import normalize
from windowkeeper.policy import rules
from windowkeeper.policy.model import Channel

BACKOFF_RULE_ID = "whatsapp.marketing.backoff_131049"
STATUS_AT = datetime.fromtimestamp(BASE_S + 100, tz=UTC)  # the failed status in the fixture


def _status_backoff_ms() -> int | None:
    result = normalize(Envelope.model_validate(payload("whatsapp_status_failed_131049.json")), resolver())
    (status,) = [o for o in result.observations if o.kind == "status"]
    return status.backoff_until_ms


def test_the_back_off_is_rule_data_citing_w5() -> None:
    rule = rules.rule_by_id(BACKOFF_RULE_ID)
    assert rule.family is rules.MARKETING_BACKOFF
    assert rule.sources == ("W5",)
    assert rule.params.error_codes == frozenset({131049})
    assert rule.params.wait == timedelta(hours=24)


def test_marketing_backoff_until_applies_only_to_the_named_code_on_whatsapp() -> None:
    assert rules.marketing_backoff_until(Channel.WHATSAPP, [131049], STATUS_AT) == STATUS_AT + timedelta(
        hours=24
    )
    assert rules.marketing_backoff_until(Channel.WHATSAPP, [131026], STATUS_AT) is None
    assert rules.marketing_backoff_until(Channel.MESSENGER, [131049], STATUS_AT) is None


def test_normalize_holds_no_copy_of_the_rule() -> None:
    assert not hasattr(normalize_module, "BACKOFF_AFTER_131049")


def test_ingest_follows_a_change_to_the_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    """Edit the rule's wait and the webhook path records the new back-off: no second constant."""
    assert _status_backoff_ms() == (BASE_S + 100) * 1000 + 24 * 3600 * 1000
    original = rules.rule_by_id(BACKOFF_RULE_ID)
    longer = dataclasses.replace(
        original, params=dataclasses.replace(original.params, wait=timedelta(hours=36))
    )
    monkeypatch.setattr(rules, "RULES", tuple(longer if r is original else r for r in rules.RULES))
    assert _status_backoff_ms() == (BASE_S + 100) * 1000 + 36 * 3600 * 1000


def test_graph_errors_follow_a_change_to_the_rule_too(monkeypatch: pytest.MonkeyPatch) -> None:
    """A synchronous 131049 from the Graph API records the back-off from the same rule, from the
    send request's ``now`` (here STATUS_AT)."""
    from windowkeeper.graph import errors
    from windowkeeper.sending.service import verdicts_from_effects

    def backoff_until() -> datetime | None:
        effects = errors.contact_effects(frozenset({errors.Effect.MARKETING_BACKOFF}), None, code=131049)
        return verdicts_from_effects(effects, STATUS_AT, Channel.WHATSAPP).marketing_backoff_until

    assert backoff_until() == STATUS_AT + timedelta(hours=24)
    original = rules.rule_by_id(BACKOFF_RULE_ID)
    longer = dataclasses.replace(
        original, params=dataclasses.replace(original.params, wait=timedelta(hours=36))
    )
    monkeypatch.setattr(rules, "RULES", tuple(longer if r is original else r for r in rules.RULES))
    assert backoff_until() == STATUS_AT + timedelta(hours=36)
