"""check() answers without formatting an explanation; decide() still words the same sentence."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.unit.policy.conftest import BOT, LAST_MESSAGE, ask
from windowkeeper.policy import explain
from windowkeeper.policy.engine import check, decide
from windowkeeper.policy.model import Path


def _formatting_forbidden(*_: object) -> str:
    raise AssertionError("check() formatted an explanation clause")


def test_check_formats_no_clause_for_a_bot_reply_in_window(monkeypatch: pytest.MonkeyPatch) -> None:
    at = LAST_MESSAGE + timedelta(hours=3)
    monkeypatch.setattr(explain, "until", _formatting_forbidden)
    monkeypatch.setattr(explain, "since", _formatting_forbidden)

    answer = check(ask(sender=BOT), at)

    assert (answer.allowed, answer.path) == (True, Path.FREE_FORM)


def test_decide_words_the_window_clause_when_it_writes_the_sentence() -> None:
    at = LAST_MESSAGE + timedelta(hours=3)

    decision = decide(ask(sender=BOT), at)

    assert decision.explanation.startswith("Free-form messages are open until 2026-11-20T10:02Z (in 21 h)")
