"""``windowkeeper accounts load`` (profiles into a table) and ``accounts sync-templates`` (from Meta)."""

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

    sync = actions.add_parser(
        "sync-templates",
        help="read WhatsApp accounts' templates from Meta into the table",
        description=(
            "Lists each WhatsApp account's templates with the WhatsApp Business Management API "
            "(GET /{waba_id}/message_templates: name, language, category, status, body, quality) and "
            "makes them the account's registry, Meta's word overriding older webhook verdicts. Uses the "
            "account's token secret and GRAPH_API_BASE_URL / GRAPH_API_VERSION (Meta's by default). "
            "Run it after `accounts load` and whenever templates were created or edited in WhatsApp "
            "Manager; status, category and quality changes also arrive by webhook."
        ),
    )
    sync.add_argument("--table", required=True, help="the single table's name (stack output TableName)")
    whom = sync.add_mutually_exclusive_group(required=True)
    whom.add_argument("--account", action="append", help="a WhatsApp phone_number_id (repeatable)")
    whom.add_argument("--tenant", help="every WhatsApp account of this tenant")
    sync.set_defaults(handler=run_sync_templates)


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


def run_sync_templates(args: argparse.Namespace) -> int:
    from windowkeeper.clock import system_clock
    from windowkeeper.graph.client import GraphClient, TemplateListError
    from windowkeeper.graph.settings import GraphSettings, secrets_token_provider
    from windowkeeper.graph.template_list import registry_from_meta
    from windowkeeper.instants import to_ms
    from windowkeeper.policy.model import Channel
    from windowkeeper.store.account_table import AccountStore
    from windowkeeper.store.template_table import TemplateStateTable

    store = AccountStore(args.table)
    if args.account:
        found = {a: store.get(Channel.WHATSAPP, a) for a in args.account}
        missing = sorted(a for a, account in found.items() if account is None)
        if missing:
            print(
                f"windowkeeper accounts sync-templates: no WhatsApp account {', '.join(missing)}",
                file=sys.stderr,
            )
            return 2
        accounts = [a for a in found.values() if a is not None]
    else:
        accounts = [a for a in store.list_for_tenant(args.tenant) if a.channel is Channel.WHATSAPP]
    now_ms = to_ms(system_clock())  # the CLI is an edge: the one clock read, stamped on every fact
    settings = GraphSettings.from_env()
    states = TemplateStateTable(args.table)
    failed = 0
    with GraphClient(settings.base_url, settings.version, secrets_token_provider) as graph:
        for account in accounts:
            try:
                listed = graph.message_templates(account)
            except TemplateListError as error:
                print(
                    f"  {account.account_id}: Meta refused the list: {error.error.code} {error.error.message}"
                )
                failed += 1
                continue
            updated, facts = registry_from_meta(account, listed, now_ms)
            store.put_all([updated])
            for fact in facts:
                states.apply(account.channel, account.account_id, fact)
            shown = ", ".join(f"{t.name}/{t.language} {t.status.value}" for t in updated.templates) or "none"
            print(f"  {account.account_id}: {len(updated.templates)} templates: {shown}")
    print(f"{len(accounts) - failed} of {len(accounts)} accounts synced")
    return 1 if failed else 0
