"""Dated dependencies as data: the Lambda runtime and the Graph API version, checked "as of" a date.

Both retire on known dates. cfn-lint's runtime-lifecycle rules (W2531, E2531, E2533) compare
against the machine's calendar, so the per-commit lint turns red on a date with no change made;
the template switches them off and this check takes their place, with the date injected:

* the runtime of every function and the layer's compatible runtimes, read from
  ``infra/template.yaml``, against the lifecycle table cfn-lint ships (``LmbdRuntimeLifecycle``:
  deprecation date and successor, kept current by cfn-lint's releases);
* the ``GraphApiVersion`` parameter's default against Meta's published "available until" dates.

A finding is due ``lead`` before the retirement date (180 days by default), and names the
successor, so the upgrade is a planned change rather than an outage.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

from cfnlint.decode import decode

DEFAULT_LEAD = timedelta(days=180)
TEMPLATE = Path(__file__).resolve().parents[2] / "infra" / "template.yaml"


@dataclass(frozen=True)
class GraphVersion:
    version: str
    released: date
    available_until: date | None  # None: Meta has not announced it yet


# Meta's table of Graph API versions ("Available Graph API Versions", read 2026-12-04:
# https://developers.facebook.com/docs/graph-api/changelog/versions/). Each version is available
# for about two years; a new one comes out about every four months. Add rows as Meta publishes them.
GRAPH_VERSIONS_SOURCE = "https://developers.facebook.com/docs/graph-api/changelog/versions/ (read 2026-12-04)"
GRAPH_VERSIONS: tuple[GraphVersion, ...] = (
    GraphVersion("v21.0", date(2024, 10, 2), date(2027, 1, 21)),
    GraphVersion("v22.0", date(2025, 1, 21), date(2027, 5, 20)),
    GraphVersion("v23.0", date(2025, 5, 29), date(2027, 10, 8)),
    GraphVersion("v24.0", date(2025, 10, 8), date(2028, 2, 18)),
    GraphVersion("v25.0", date(2026, 2, 18), date(2028, 7, 29)),
    GraphVersion("v26.0", date(2026, 7, 29), None),
)


@dataclass(frozen=True)
class Finding:
    """One dependency that retires within the lead time (or has retired) as of the date asked."""

    dependency: str  # "Lambda runtime python3.12" / "Graph API v25.0"
    retires_on: date
    successor: str | None
    source: str

    def sentence(self, as_of: date) -> str:
        when = "retired" if self.retires_on <= as_of else "retires"
        days = (self.retires_on - as_of).days
        left = f"{-days} days ago" if days < 0 else f"in {days} days"
        move = f"move to {self.successor}" if self.successor else "no successor is published yet"
        retires = f"{self.dependency} {when} on {self.retires_on.isoformat()} ({left})"
        return f"{retires}: {move}. Source: {self.source}."


def runtime_lifecycle() -> dict[str, dict[str, Any]]:
    """cfn-lint's table of Lambda runtimes: ``deprecated`` date and ``successor`` per runtime."""
    data = resources.files("cfnlint.data.AdditionalSpecs").joinpath("LmbdRuntimeLifecycle.json")
    table: dict[str, dict[str, Any]] = json.loads(data.read_text(encoding="utf-8"))
    return table


def template_dependencies(template: Path = TEMPLATE) -> tuple[set[str], str]:
    """The runtimes the template deploys on, and its default Graph API version."""
    document, matches = decode(str(template))
    if document is None:
        raise ValueError(f"cannot read {template}: {[str(m) for m in matches]}")
    runtimes: set[str] = set()
    globals_runtime = document.get("Globals", {}).get("Function", {}).get("Runtime")
    if isinstance(globals_runtime, str):
        runtimes.add(globals_runtime)
    for resource in document.get("Resources", {}).values():
        properties = resource.get("Properties") or {}
        if isinstance(properties.get("Runtime"), str):
            runtimes.add(properties["Runtime"])
        runtimes.update(r for r in properties.get("CompatibleRuntimes", []) if isinstance(r, str))
    graph_version = str(document["Parameters"]["GraphApiVersion"]["Default"])
    return runtimes, graph_version


def check(
    as_of: date,
    *,
    runtimes: set[str],
    graph_version: str,
    lead: timedelta = DEFAULT_LEAD,
    lifecycle: dict[str, dict[str, Any]] | None = None,
    graph_versions: tuple[GraphVersion, ...] = GRAPH_VERSIONS,
) -> list[Finding]:
    """Every dependency retiring on or before ``as_of + lead``; empty when all is well."""
    table = runtime_lifecycle() if lifecycle is None else lifecycle
    horizon = as_of + lead
    findings: list[Finding] = []
    for runtime in sorted(runtimes):
        row = table.get(runtime)
        if row is None:
            raise ValueError(f"runtime {runtime} is not in the lifecycle table: update cfn-lint")
        deprecated = date.fromisoformat(row["deprecated"])
        if deprecated <= horizon:
            findings.append(
                Finding(
                    f"Lambda runtime {runtime}",
                    deprecated,
                    row.get("successor"),
                    "cfn-lint LmbdRuntimeLifecycle",
                )
            )
    known = {v.version: i for i, v in enumerate(graph_versions)}
    if graph_version not in known:
        raise ValueError(f"Graph API {graph_version} is not in the version table ({GRAPH_VERSIONS_SOURCE})")
    row_index = known[graph_version]
    current = graph_versions[row_index]
    if current.available_until is not None and current.available_until <= horizon:
        newer = graph_versions[row_index + 1 :]
        successor = newer[-1].version if newer else None
        findings.append(
            Finding(f"Graph API {graph_version}", current.available_until, successor, GRAPH_VERSIONS_SOURCE)
        )
    return findings
