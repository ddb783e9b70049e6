"""The graph package imports light: reading results or errors never loads httpx (cold starts)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


def _modules_after(statement: str) -> set[str]:
    """The modules a fresh interpreter holds after ``statement`` (this test's import path)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    probe = f"{statement}\nimport sys\nprint('\\n'.join(sys.modules))"
    output = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True
    ).stdout
    return set(output.split())


@pytest.mark.parametrize(
    "statement",
    [
        "import windowkeeper.graph.results",
        "from windowkeeper.graph import DeliveryResult, GraphError",
        "import windowkeeper.graph.errors",
        "import windowkeeper.sending.service",
    ],
)
def test_reading_delivery_results_does_not_load_httpx(statement: str) -> None:
    loaded = _modules_after(statement)
    assert "windowkeeper.graph" in loaded
    assert "httpx" not in loaded
    assert "windowkeeper.graph.client" not in loaded


def test_the_client_still_resolves_from_the_package_when_asked_for() -> None:
    loaded = _modules_after("from windowkeeper.graph import GraphClient\nassert GraphClient.__name__")
    assert {"httpx", "windowkeeper.graph.client"} <= loaded


def test_an_unknown_name_is_an_attribute_error() -> None:
    import windowkeeper.graph as graph

    with pytest.raises(AttributeError):
        _ = graph.NoSuchThing
