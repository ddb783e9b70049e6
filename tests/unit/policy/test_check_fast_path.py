"""check() is the engine's hot path: it builds no pydantic model, and the rules in force are worked
out once per channel and UTC day, not per call."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import BaseModel

from tests.unit.policy.conftest import AGENT, BOT, LAST_MESSAGE, account, ask, contact, template
from windowkeeper.policy import rules
from windowkeeper.policy.engine import check, decide
from windowkeeper.policy.model import Channel, DecisionInput, Path


def _questions() -> list[DecisionInput]:
    return [
        ask(sender=BOT),
        ask(sender=AGENT),
        ask(sender=BOT, tag="HUMAN_AGENT"),
        ask(contact(Channel.WHATSAPP), BOT, template(), account(Channel.WHATSAPP)),
        ask(contact(Channel.INSTAGRAM), AGENT, account_profile=account(Channel.INSTAGRAM)),
    ]


def test_check_builds_no_pydantic_model(monkeypatch: pytest.MonkeyPatch) -> None:
    questions = _questions()  # built before the guard: inputs are models
    at = LAST_MESSAGE + timedelta(days=2)
    expected = [decide(q, at) for q in questions]

    def construction_forbidden(self: BaseModel, /, **data: object) -> None:
        raise AssertionError(f"check() built a {type(self).__name__}")

    monkeypatch.setattr(BaseModel, "__init__", construction_forbidden)
    answers = [check(q, at) for q in questions]

    assert [(a.allowed, a.path) for a in answers] == [(d.allowed, d.path) for d in expected]
    assert (answers[1].allowed, answers[1].path) == (True, Path.HUMAN_AGENT)


def test_the_rules_in_force_are_worked_out_once_per_channel_and_day(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    built: list[tuple[Channel, object]] = []
    index = rules._RULE_INDEX
    original = index._day

    def counting(channel: Channel, at: object) -> rules.DayRules:
        built.append((channel, at))
        return original(channel, at)  # type: ignore[arg-type]

    monkeypatch.setattr(index, "by_day", {})
    monkeypatch.setattr(index, "_day", counting)
    day = LAST_MESSAGE + timedelta(days=2)  # 2026-11-21, 10:02 UTC
    for minutes in range(0, 600, 7):  # ten hours of one UTC day
        for question in _questions():
            check(question, day + timedelta(minutes=minutes))

    assert sorted(channel for channel, _ in built) == sorted(
        {Channel.MESSENGER, Channel.WHATSAPP, Channel.INSTAGRAM}
    )
