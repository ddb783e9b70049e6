"""The ingest and cold-start benchmarks still run and print their figures (numbers not asserted)."""

from __future__ import annotations

import pytest

from windowkeeper_tools import bench_coldstart, bench_ingest


def test_the_ingest_benchmark_prints_cpu_floor_ratio_and_aws_calls(
    capsys: pytest.CaptureFixture[str],
) -> None:
    small = ["--repeat", "1", "--messenger-events", "20", "--messenger-contacts", "4"]
    assert bench_ingest.main([*small, "--whatsapp-messages", "20", "--whatsapp-contacts", "20"]) == 0
    printed = capsys.readouterr().out
    assert printed.count(" µs, ratio ") == 2  # one per batch: figure, floor, ratio
    assert "AWS calls for one POST, 1 contact with 50 messages" in printed
    assert "1 UpdateItem" in printed  # one state write for the one contact


def test_the_cold_start_benchmark_prints_every_scenario_against_its_floor(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert bench_coldstart.main(["--quick"]) == 0
    printed = capsys.readouterr().out
    for name, _ in bench_coldstart.SCENARIOS:
        assert name in printed
    assert "x floor" in printed
