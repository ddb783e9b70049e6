"""Schedule expressions and instants are validated here, because Scheduler (and moto) accept anything."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from windowkeeper.schedule_rules import ScheduleError, at_expression, parse_at_expression, validate_one_time

NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)


def test_at_expression_is_utc_whatever_the_offset() -> None:
    berlin = timezone(timedelta(hours=1))
    assert at_expression(datetime(2026, 11, 21, 15, 30, 5, tzinfo=berlin)) == "at(2026-11-21T14:30:05)"


def test_naive_instant_is_refused() -> None:
    with pytest.raises(ScheduleError) as error:
        validate_one_time(datetime(2026, 11, 21, 12, 0), NOW)
    assert error.value.reason == "naive_instant"


@pytest.mark.parametrize(
    ("offset", "reason"),
    [
        (timedelta(minutes=-1), "send_at_not_in_future"),
        (timedelta(seconds=30), "send_at_not_in_future"),
        (timedelta(days=366), "send_at_too_far"),
    ],
)
def test_instant_must_be_a_minute_to_a_year_ahead(offset: timedelta, reason: str) -> None:
    with pytest.raises(ScheduleError) as error:
        validate_one_time(NOW + offset, NOW)
    assert error.value.reason == reason


def test_valid_instant_round_trips() -> None:
    expression = validate_one_time(NOW + timedelta(hours=2), NOW)
    assert expression == "at(2026-11-21T12:00:00)"
    assert parse_at_expression(expression) == NOW + timedelta(hours=2)


@pytest.mark.parametrize(
    "expression", ["at(garbage)", "at(2026-02-30T10:00:00)", "rate(1 minute)", "at(2026-11-21 10:00:00)"]
)
def test_malformed_expressions_are_refused(expression: str) -> None:
    with pytest.raises(ScheduleError):
        parse_at_expression(expression)
