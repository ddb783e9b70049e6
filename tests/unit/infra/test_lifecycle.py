"""The runtime and Graph API lifecycle check: dated data, an injected date, a stated lead time."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from windowkeeper_tools.lifecycle import DEFAULT_LEAD, GRAPH_VERSIONS, check, template_dependencies

PYTHON312_DEPRECATED = date(2028, 10, 31)  # cfn-lint's table; AWS's published date
V25_AVAILABLE_UNTIL = date(2028, 7, 29)  # Meta's versions table


def test_the_template_deploys_python312_and_graph_v25() -> None:
    runtimes, graph_version = template_dependencies()
    assert runtimes == {"python3.12"}
    assert graph_version == "v25.0"


def test_nothing_is_due_today() -> None:
    runtimes, graph_version = template_dependencies()
    assert check(date(2026, 12, 4), runtimes=runtimes, graph_version=graph_version) == []


def test_the_graph_version_is_due_its_lead_time_before_meta_retires_it() -> None:
    runtimes, graph_version = template_dependencies()
    due = V25_AVAILABLE_UNTIL - DEFAULT_LEAD
    assert check(due - timedelta(days=1), runtimes=runtimes, graph_version=graph_version) == []
    [finding] = check(due, runtimes=runtimes, graph_version=graph_version)
    assert (finding.dependency, finding.retires_on, finding.successor) == (
        "Graph API v25.0",
        V25_AVAILABLE_UNTIL,
        "v26.0",
    )
    assert "retires on 2028-07-29 (in 180 days): move to v26.0" in finding.sentence(due)


def test_the_runtime_is_due_its_lead_time_before_deprecation_and_names_the_successor() -> None:
    due = PYTHON312_DEPRECATED - DEFAULT_LEAD
    assert check(due - timedelta(days=1), runtimes={"python3.12"}, graph_version="v26.0") == []
    [finding] = check(due, runtimes={"python3.12"}, graph_version="v26.0")
    assert finding.dependency == "Lambda runtime python3.12"
    assert finding.retires_on == PYTHON312_DEPRECATED
    assert finding.successor is not None and finding.successor.startswith("python3.")
    assert "retired on 2028-10-31 (30 days ago)" in finding.sentence(date(2028, 11, 30))


def test_a_version_meta_has_not_dated_is_never_due() -> None:
    assert GRAPH_VERSIONS[-1].available_until is None
    assert check(date(2040, 1, 1), runtimes=set(), graph_version=GRAPH_VERSIONS[-1].version) == []


def test_unknown_dependencies_are_an_error_not_a_pass() -> None:
    with pytest.raises(ValueError, match="not in the lifecycle table"):
        check(date(2026, 12, 4), runtimes={"python9.9"}, graph_version="v25.0")
    with pytest.raises(ValueError, match="not in the version table"):
        check(date(2026, 12, 4), runtimes=set(), graph_version="v99.0")


def test_the_command_exits_1_with_the_sentence_when_due(capsys: pytest.CaptureFixture[str]) -> None:
    from windowkeeper_tools.cli import main

    assert main(["lifecycle", "--as-of", "2026-12-04"]) == 0
    assert "none retires within 180 days" in capsys.readouterr().out
    assert main(["lifecycle", "--as-of", "2028-03-01"]) == 1
    assert "Graph API v25.0 retires on 2028-07-29" in capsys.readouterr().err
