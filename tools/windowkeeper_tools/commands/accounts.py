"""``windowkeeper accounts load FILE --table NAME``: put account profiles into a deployed table."""

from __future__ import annotations

import argparse
import sys


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("accounts", help="manage business account profiles")
    actions = parser.add_subparsers(dest="accounts_action", required=True, metavar="ACTION")
    load = actions.add_parser(
        "load",
        help="validate an accounts JSON file and write it to a table",
        description=(
            "Validates FILE (the same format as config/accounts.example.json) and writes each "
            "account's PROFILE item, its tenant membership and its webhook alias to the table. Uses "
            "the usual AWS credentials and region (AWS_PROFILE, AWS_REGION...). Access tokens are not "
            "in the file: put each one in the Secrets Manager secret named by access_token_secret_id."
        ),
    )
    load.add_argument("file", help="accounts JSON file")
    load.add_argument("--table", required=True, help="the single table's name (stack output TableName)")
    load.add_argument("--dry-run", action="store_true", help="validate and list, write nothing")
    load.set_defaults(handler=run_load)


def run_load(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from windowkeeper.accounts import load_accounts_file
    from windowkeeper.store.account_table import AccountStore

    try:
        accounts = load_accounts_file(args.file)
    except (OSError, ValueError, ValidationError) as error:
        print(f"windowkeeper accounts load: {args.file} is not valid: {error}", file=sys.stderr)
        return 2
    for account in accounts:
        secret = account.access_token_secret_id or "(no token secret)"
        print(f"  {account.tenant_id}  {account.channel.value}:{account.account_id}  token secret {secret}")
    if args.dry_run:
        print(f"{len(accounts)} accounts valid; nothing written (--dry-run)")
        return 0
    written = AccountStore(args.table).put_all(accounts)
    print(f"{written} accounts written to {args.table}")
    return 0
