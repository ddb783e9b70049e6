"""``windowkeeper lifecycle``: do the Lambda runtime and the Graph API version retire soon?"""

from __future__ import annotations

import argparse
import sys
from datetime import date, timedelta


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "lifecycle",
        help="check the runtime and Graph API version against their retirement dates",
        description=(
            "Reads the runtimes and the GraphApiVersion default from infra/template.yaml and "
            "fails (exit 1) when one retires within the lead time of the date asked about, "
            "naming its successor. Without --as-of it asks about today."
        ),
    )
    parser.add_argument("--as-of", type=date.fromisoformat, help="the date to check as of (YYYY-MM-DD)")
    parser.add_argument("--lead-days", type=int, default=180, help="how early to fail (default 180)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from windowkeeper.clock import system_clock
    from windowkeeper_tools.lifecycle import check, template_dependencies

    # The clock is read here, at the command's edge, and only when no date was asked for.
    as_of: date = args.as_of or system_clock().date()
    runtimes, graph_version = template_dependencies()
    findings = check(
        as_of, runtimes=runtimes, graph_version=graph_version, lead=timedelta(days=args.lead_days)
    )
    deps = ", ".join([*sorted(runtimes), f"Graph API {graph_version}"])
    if not findings:
        print(f"lifecycle as of {as_of.isoformat()}: {deps}: none retires within {args.lead_days} days")
        return 0
    for finding in findings:
        print(f"lifecycle as of {as_of.isoformat()}: {finding.sentence(as_of)}", file=sys.stderr)
    return 1
