"""``windowkeeper events``: the local stack's bus events, one line each (``--follow`` keeps going).

Reads the running stack's event tap (``GET /_local/events``, local only) found through
.local-state/stack.json. In AWS, subscribe with an EventBridge rule instead: docs/events/README.md.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

# The detail-types that need a person, marked in the one-line view.
ATTENTION = {
    "window.closing_soon",
    "human_agent_window.closing_soon",
    "followup.refused",
    "followup.failed",
    "followup.stuck",
    "reengagement.stuck",
    "message.refused",
    "contact.unreachable",
}


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "events",
        help="print the running local stack's bus events (window closing soon, follow-ups...)",
        description=(
            "Prints the events the running `windowkeeper local` stack put on its EventBridge bus, "
            "oldest first, one line each. The stack's URL is read from .local-state/stack.json."
        ),
    )
    parser.add_argument("--follow", "-f", action="store_true", help="keep printing events as they come")
    parser.add_argument("--json", action="store_true", help="one JSON object per line (the tap's entry)")
    parser.add_argument("--after", type=int, default=0, help="only events after this cursor")
    parser.add_argument("--type", action="append", default=None, help="only this detail-type (repeatable)")
    parser.add_argument("--tenant", default=None, help="only this tenant's events")
    parser.add_argument(
        "--contact",
        default=None,
        help="only events about this contact (its id on the channel: a PSID, an IGSID, a number)",
    )
    parser.add_argument(
        "--limit",
        type=int,
        default=None,
        help="stop after this many events (of those the filters keep: with --follow, waits for them)",
    )
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between polls with --follow")
    parser.add_argument("--events-url", default=None, help="override the tap's URL")
    parser.set_defaults(handler=run)


def one_line(entry: dict[str, Any]) -> str:
    """``time  !detail-type  tenant channel/account/contact  what happened``."""
    detail = entry.get("detail") or {}
    detail_type = str(entry.get("detail_type"))
    mark = "!" if detail_type in ATTENTION else " "
    where = f"{detail.get('channel')}/{detail.get('account_id')}/{detail.get('contact_id')}"
    tenant = detail.get("tenant_id")
    return f"{entry.get('time')}  {mark}{detail_type:<32} {tenant} {where}  {summary(detail)}"


def summary(detail: dict[str, Any]) -> str:
    """The most telling words of a detail: the sentence it carries, else its key fields."""
    for key in ("message", "explanation"):
        if detail.get(key):
            return str(detail[key])
    parts = []
    for key in ("kind", "status", "route", "path", "source", "owner", "text"):
        value = detail.get(key)
        if value not in (None, "", []):
            parts.append(f"{key}={value}")
    if detail.get("reasons"):
        parts.append("reasons=" + ",".join(detail["reasons"]))
    for key in ("opted_out", "opted_in"):
        if detail.get(key):
            parts.append(f"{key}=" + ",".join(detail[key]))
    if detail.get("error_codes"):
        parts.append("error_codes=" + ",".join(str(c) for c in detail["error_codes"]))
    return " ".join(parts)


def _events_url(args: argparse.Namespace) -> str | None:
    if args.events_url:
        return str(args.events_url)
    from windowkeeper_tools.local.settings import LocalSettings
    from windowkeeper_tools.local.stack import read_stack_file

    running = read_stack_file(LocalSettings.from_env().state_dir) or {}
    if running.get("events_url"):
        return str(running["events_url"])
    return f"{running['api_url']}/_local/events" if running.get("api_url") else None


def run(args: argparse.Namespace) -> int:
    import httpx

    url = _events_url(args)
    if not url:
        print("windowkeeper events: no running local stack found; start it with scripts/run", file=sys.stderr)
        return 1
    cursor = args.after
    printed = 0
    wanted = set(args.type or [])
    try:
        while True:
            try:
                response = httpx.get(url, params={"after": cursor}, timeout=10)
            except httpx.HTTPError as error:
                print(f"windowkeeper events: the stack at {url} did not answer: {error}", file=sys.stderr)
                if not args.follow:
                    return 1
                time.sleep(args.interval)  # a follower keeps following a busy or restarting stack
                continue
            if response.status_code != 200:
                print(f"windowkeeper events: {response.status_code} {response.text}", file=sys.stderr)
                return 1
            body = response.json()
            for entry in body["events"]:
                if wanted and entry.get("detail_type") not in wanted:
                    continue
                if args.tenant and entry.get("tenant_id") != args.tenant:
                    continue
                if args.contact and (entry.get("detail") or {}).get("contact_id") != args.contact:
                    continue
                print(json.dumps(entry, sort_keys=True) if args.json else one_line(entry), flush=True)
                printed += 1
                if args.limit is not None and printed >= args.limit:
                    return 0
            cursor = body["cursor"]
            if body.get("more"):
                continue
            if not args.follow:
                return 0
            time.sleep(args.interval)
    except KeyboardInterrupt:
        return 0
