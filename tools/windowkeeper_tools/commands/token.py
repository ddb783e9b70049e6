"""``windowkeeper token``: mint a development JWT the local gateway accepts (like a Cognito token)."""

from __future__ import annotations

import argparse
import sys


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "token",
        help="mint a development JWT for the local stack",
        description=(
            "Prints a JWT signed with the local stack's key (.local-state/, created on first use) "
            "carrying the claims Cognito would: sub, cognito:groups, custom:tenant_id, "
            "custom:automation, iss, aud, exp. Use it as 'Authorization: Bearer <token>'."
        ),
    )
    from windowkeeper_tools.local.settings import LocalSettings

    settings = LocalSettings.from_env()
    who = parser.add_mutually_exclusive_group(required=True)
    who.add_argument(
        "--human",
        metavar="SUB",
        nargs="?",
        const=settings.dev_agent,
        help=f"a human agent (group 'agents'); SUB defaults to WINDOWKEEPER_DEV_AGENT ({settings.dev_agent})",
    )
    who.add_argument(
        "--automation",
        metavar="SUB",
        nargs="?",
        const=settings.dev_automation,
        help="an automation client (group 'automation'); SUB defaults to WINDOWKEEPER_DEV_AUTOMATION "
        f"({settings.dev_automation})",
    )
    parser.add_argument("--kind", choices=["bot", "schedule", "job"], default="bot", help="automation kind")
    parser.add_argument(
        "--tenant",
        default=settings.dev_tenant,
        help=f"the tenant id (custom:tenant_id); default WINDOWKEEPER_DEV_TENANT ({settings.dev_tenant})",
    )
    parser.add_argument("--ttl", default="8h", help="lifetime, e.g. 8h, 30m, 2d (default 8h)")
    parser.add_argument("--name", help="display name claim (optional)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from windowkeeper_tools.local.settings import LocalSettings
    from windowkeeper_tools.local.tokens import LocalKeys, development_claims, mint, parse_ttl

    try:
        ttl = parse_ttl(args.ttl)
    except ValueError as error:
        print(f"windowkeeper token: {error}", file=sys.stderr)
        return 2
    keys = LocalKeys.load_or_create(LocalSettings.from_env().state_dir)
    human = args.human is not None
    claims = development_claims(
        subject=args.human if human else args.automation,
        tenant_id=args.tenant,
        human=human,
        automation_kind=None if human else args.kind,
        ttl=ttl,
        name=args.name,
    )
    print(mint(keys, claims))
    return 0
