"""The banner's ``windowkeeper`` command works in a new terminal: no activated virtualenv, no PATH."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from windowkeeper_tools.local.stack import cli_command

REPO = Path(__file__).resolve().parents[2]
# What a new terminal has: the system PATH, no VIRTUAL_ENV.
NEW_TERMINAL = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(Path.home()), "LANG": "C.UTF-8"}


@pytest.mark.parametrize("where", ["repository root", "elsewhere"])
def test_the_command_runs_in_a_new_terminal(where: str, tmp_path: Path) -> None:
    cwd = REPO if where == "repository root" else tmp_path
    command = cli_command(cwd)
    done = subprocess.run(
        ["/bin/sh", "-c", f"{command} events --help"],
        cwd=cwd,
        env=NEW_TERMINAL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "--follow" in done.stdout


def test_from_the_repository_root_it_is_the_relative_script_path_when_one_is_installed() -> None:
    command = cli_command(REPO)
    assert command.endswith("bin/windowkeeper") or "-m windowkeeper_tools.cli" in command
    if (REPO / ".venv" / "bin" / "windowkeeper").is_file() and command.startswith(".venv"):
        assert command == ".venv/bin/windowkeeper"


def test_a_bare_windowkeeper_is_not_on_a_new_terminals_path() -> None:
    # The defect the banner had: it printed plain `windowkeeper`, which a new terminal cannot find.
    done = subprocess.run(
        ["/bin/sh", "-c", "command -v windowkeeper"], env=NEW_TERMINAL, capture_output=True, check=False
    )
    assert done.returncode != 0
