"""``windowkeeper decide`` through the real entry point."""

from __future__ import annotations

import json
import shlex

import pytest

from windowkeeper_tools import cli

TWO_DAYS_LATER = "--at 2026-11-21T10:00:00Z"


def decide(
    command_line: str = "", *, channel: str = "messenger", last_message: str = "2026-11-19T10:02:00Z"
) -> list[str]:
    """``windowkeeper decide`` arguments for a contact who last wrote at ``last_message``; the
    rest as typed on a shell."""
    prefix = ["decide", "--channel", channel, "--last-customer-message", last_message]
    return [*prefix, *shlex.split(command_line)]


BASE = decide()


def test_bot_after_the_window_is_refused_with_json_and_sentence(capsys: pytest.CaptureFixture[str]) -> None:
    status = cli.main(
        decide(f"--sender bot --text 'Your parcel is at the depot' --permission human_agent {TWO_DAYS_LATER}")
    )
    out = capsys.readouterr().out
    assert status == 1
    payload = json.loads(out[: out.rindex("}") + 1])
    assert payload["allowed"] is False
    assert payload["reasons"] == ["window_closed", "human_only"]
    assert "REFUSED [window_closed, human_only]: Free-form replies closed" in out


def test_human_agent_reply_json_only(capsys: pytest.CaptureFixture[str]) -> None:
    status = cli.main(
        decide(
            f"--sender human --text 'Sorry for the delay' --permission human_agent {TWO_DAYS_LATER} --json"
        )
    )
    payload = json.loads(capsys.readouterr().out)
    assert status == 0
    assert payload["path"] == "human_agent"
    assert payload["send_fields"] == {"messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT"}
    assert payload["valid_until"] == "2026-11-26T10:02:00Z"


def test_retired_tag_as_of_before_and_after_2026_04_27(capsys: pytest.CaptureFixture[str]) -> None:
    args = decide(
        "--sender bot --text 'Your account was approved' --tag ACCOUNT_UPDATE --purpose account_update"
        " --sentence",
        last_message="2026-02-20T09:00:00Z",
    )
    assert cli.main([*args, "--at", "2026-03-01T00:00:00Z"]) == 0
    assert "ACCOUNT_UPDATE can be used" in capsys.readouterr().out
    assert cli.main([*args, "--at", "2026-04-27T00:00:00Z"]) == 1
    assert "tag_retired" in capsys.readouterr().out


def test_whatsapp_template_argument(capsys: pytest.CaptureFixture[str]) -> None:
    status = cli.main(
        decide(
            f"--sender schedule --template order_shipped:en_US:UTILITY:APPROVED {TWO_DAYS_LATER} --json",
            channel="whatsapp",
            last_message="2026-11-01T10:00:00Z",
        )
    )
    payload = json.loads(capsys.readouterr().out)
    assert status == 0
    assert payload["send_fields"] == {"type": "template", "category": "UTILITY"}


def test_whatsapp_marketing_to_a_us_number(capsys: pytest.CaptureFixture[str]) -> None:
    status = cli.main(
        decide(
            "--sender bot --template winter:en_US:MARKETING:APPROVED --opt-in-token wa-opt-in"
            f" --country-code 1 {TWO_DAYS_LATER} --json",
            channel="whatsapp",
            last_message="2026-11-01T10:00:00Z",
        )
    )
    assert status == 1
    assert json.loads(capsys.readouterr().out)["reasons"] == ["region_blocked"]


def test_opted_out_contact(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main([*BASE, "--opted-out", "all", "--at", "2026-11-19T11:00:00Z", "--sentence"]) == 1
    assert "opted_out" in capsys.readouterr().out


def test_at_defaults_to_now(capsys: pytest.CaptureFixture[str]) -> None:
    # A message from 2020 is outside every window now, whatever today is.
    status = cli.main(decide("--json", channel="instagram", last_message="2020-01-01T00:00:00Z"))
    assert status == 1
    assert json.loads(capsys.readouterr().out)["reasons"][0] == "window_closed"


@pytest.mark.parametrize(
    "bad",
    [
        ["--at", "2026-11-21 10:00"],  # no time zone
        ["--at", "yesterday"],
        ["--template", "order_shipped:en_US:UTILITY"],
        ["--template", "order_shipped:en_US:PROMO:APPROVED"],
    ],
)
def test_bad_arguments_exit_2(bad: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main([*BASE, *bad])
    assert exit_info.value.code == 2
    assert "error" in capsys.readouterr().err


VIBER_SUBSCRIBER = decide(
    "--subscribed --sender bot --viber-bot-created-on 2023-05-02 --json "
    + TWO_DAYS_LATER.replace("2026-11-21", "2026-11-25"),
    channel="viber",
)


@pytest.mark.parametrize(("used", "status", "reason"), [(9_999, 0, None), (10_000, 1, "quota_exhausted")])
def test_the_viber_usage_given_decides_the_last_free_message_of_the_month(
    capsys: pytest.CaptureFixture[str], used: int, status: int, reason: str | None
) -> None:
    assert cli.main([*VIBER_SUBSCRIBER, "--bot-initiated-this-month", str(used)]) == status
    payload = json.loads(capsys.readouterr().out)
    assert payload["path"] == ("bot_initiated" if status == 0 else None)
    assert (reason in payload["reasons"]) if reason else payload["allowed"]


@pytest.mark.parametrize(("sent", "status"), [(4, 0), (5, 1)])
def test_the_wechat_messages_already_sent_count_against_the_windows_five(
    capsys: pytest.CaptureFixture[str], sent: int, status: int
) -> None:
    arguments = decide(
        f"--sender bot --json --sent-in-window {sent} --at 2026-11-21T10:00:00Z",
        channel="wechat",
        last_message="2026-11-21T08:00:00Z",
    )
    assert cli.main(arguments) == status
    payload = json.loads(capsys.readouterr().out)
    assert payload["allowed"] is (status == 0)


def test_a_negative_count_is_refused_as_a_bad_argument(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main([*VIBER_SUBSCRIBER, "--bot-initiated-this-month", "-3"])
    assert exited.value.code == 2
    assert "negative" in capsys.readouterr().err
