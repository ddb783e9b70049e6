"""The engine benchmark still runs and reports every figure (its numbers are printed, not asserted)."""

from __future__ import annotations

import pytest

from windowkeeper_tools import bench_engine


def test_the_engine_benchmark_runs_every_question_and_prints_its_figures(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert bench_engine.main(["--decisions", "16"]) == 0
    printed = capsys.readouterr().out
    for question in bench_engine.questions():
        assert question.name in printed
    assert "decisions/s on one core" in printed
    assert "retained per Decision" in printed
    assert "check() yes/no + path" in printed
    assert "x floor" in printed
