"""How Meta's answers become outcomes, contact verdicts and response bodies (no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.support.accounts import template
from windowkeeper.graph.results import NO_EFFECTS, ContactEffects, DeliveryResult, GraphError
from windowkeeper.policy.model import (
    Channel,
    Content,
    ContentKind,
    Decision,
    Path,
    ReasonCode,
    RuleRef,
)
from windowkeeper.sending.idempotent import outcome_body
from windowkeeper.sending.service import (
    SendOutcome,
    _amend,
    _failure,
    render_template_text,
    verdicts_from_effects,
)

NOW = datetime(2026, 11, 21, 9, 30, tzinfo=UTC)
FREE_FORM = Decision(
    allowed=True,
    path=Path.FREE_FORM,
    send_fields={"type": "text"},
    rule=RuleRef(rule_id="whatsapp.csw", sources=("W1",), confidence="H", summary="24 h service window"),
    explanation="The customer wrote 2 h ago; free-form is open until 2026-11-22T07:30Z.",
    decided_at=NOW,
    valid_until=NOW + timedelta(hours=22),
)


def result(
    *,
    code: int | None,
    http_status: int | None,
    reason: ReasonCode | None = None,
    known: bool = True,
    transient: bool = False,
    effects: ContactEffects = NO_EFFECTS,
) -> DeliveryResult:
    return DeliveryResult(
        ok=False,
        platform_message_id=None,
        http_status=http_status,
        error=GraphError(code=code, subcode=None, message="(#x) something", type="OAuthException")
        if code is not None or http_status is not None
        else None,
        reason=reason,
        effects=effects,
        known_error=known,
        attempts=4 if transient else 1,
        transient=transient,
    )


def test_meta_closing_the_window_early_is_recorded_at_the_send_instant() -> None:
    verdicts = verdicts_from_effects(ContactEffects(window_closed_early=True), NOW, Channel.MESSENGER)
    assert verdicts.window_closed_early_at == NOW
    assert verdicts.unreachable_reason is None and not verdicts.marketing_opted_out


def test_unreachable_keeps_metas_reason() -> None:
    verdicts = verdicts_from_effects(
        ContactEffects(unreachable=True, unreachable_reason="meta:131026"), NOW, Channel.WHATSAPP
    )
    assert verdicts.unreachable_reason == "meta:131026"


def test_a_131049_backs_off_from_the_requests_now_by_the_policy_rule() -> None:
    effects = ContactEffects(marketing_backoff_code=131049, marketing_opted_out=True)
    verdicts = verdicts_from_effects(effects, NOW, Channel.WHATSAPP)
    assert verdicts.marketing_backoff_until == NOW + timedelta(hours=24)
    assert verdicts.marketing_opted_out
    later = NOW + timedelta(days=400)  # the instant is the caller's, never a clock of its own
    assert verdicts_from_effects(
        effects, later, Channel.WHATSAPP
    ).marketing_backoff_until == later + timedelta(hours=24)


def test_account_level_effects_are_not_contact_state() -> None:
    assert verdicts_from_effects(
        ContactEffects(token_invalid=True, account_restricted=True), NOW, Channel.MESSENGER
    ).empty


def test_an_unknown_graph_code_is_a_502_not_retryable() -> None:
    outcome = _failure(FREE_FORM, result(code=987654, http_status=400, known=False), "d1")
    assert (outcome.status, outcome.http_status, outcome.failure_reason) == ("failed", 502, "graph_error")
    assert outcome.known_error is False and not outcome.retryable
    assert outcome.graph_error == {"code": 987654, "subcode": None, "message": "(#x) something"}


@pytest.mark.parametrize("code", [130429, 131056, 613, 4])
def test_throttling_after_retries_is_a_retryable_503(code: int) -> None:
    outcome = _failure(FREE_FORM, result(code=code, http_status=429, transient=True), "d1")
    assert (outcome.http_status, outcome.failure_reason, outcome.retryable) == (503, "graph_throttled", True)


def test_meta_down_after_retries_is_a_retryable_503() -> None:
    outcome = _failure(FREE_FORM, result(code=None, http_status=None, transient=True), "d1")
    assert (outcome.http_status, outcome.retryable) == (503, True)
    assert outcome.failure_reason == "graph_unavailable"
    outcome = _failure(FREE_FORM, result(code=2, http_status=500, transient=True), "d1")
    assert outcome.failure_reason == "graph_unavailable"


def test_a_policy_refusal_by_meta_amends_the_decision() -> None:
    amended = _amend(FREE_FORM, result(code=131047, http_status=400, reason=ReasonCode.WINDOW_CLOSED))
    assert not amended.allowed
    assert amended.reasons == (ReasonCode.WINDOW_CLOSED,)
    assert "Meta refused" in amended.explanation and "131047" in amended.explanation
    assert amended.valid_until is None
    assert amended.rule == FREE_FORM.rule


def test_the_conversation_log_shows_the_filled_template() -> None:
    order_shipped = template(
        "order_shipped", body="Hi {{1}}, order {{2}} has shipped.", parameters=("Ana", "A-1009")
    )
    assert render_template_text(Content(kind=ContentKind.TEMPLATE, template=order_shipped)) == (
        "Hi Ana, order A-1009 has shipped."
    )
    assert render_template_text(Content(kind=ContentKind.TEXT, text="hello")) == "hello"


def test_response_bodies_per_outcome() -> None:
    sent = SendOutcome(
        status="sent",
        decision=FREE_FORM,
        platform_message_id="wamid.HBgL",
        graph_error=None,
        http_status=200,
        decision_id="d1",
    )
    assert outcome_body(sent) == {
        "status": "sent",
        "decision_id": "d1",
        "decision": FREE_FORM.summary(),
        "platform_message_id": "wamid.HBgL",
    }
    failed = _failure(FREE_FORM, result(code=987654, http_status=400, known=False), "d2")
    failed_body = outcome_body(failed)
    assert failed_body["status"] == "failed"
    assert failed_body["reason"] == "graph_error"
    assert failed_body["known"] is False
    assert failed_body["graph_error"]["code"] == 987654
    assert "platform_message_id" not in failed_body
