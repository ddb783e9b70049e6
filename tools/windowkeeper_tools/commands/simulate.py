"""``windowkeeper simulate``: play a customer through the running local stack's simulator.

The simulator builds the platform's payload, signs it the platform's way (Meta's app secret, a
Telegram secret token, a Viber or LINE HMAC...) and posts it to the stack's webhook, exactly as the
platform would; ``--at`` backdates it (a customer who wrote two days ago).
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime

KINDS = [
    "message",
    "postback",
    "reaction",
    "call",
    "comment",
    "ad",
    "stop",
    "resume",
    "optin",
    "status",
    "template_status",
    "template_category",
    "template_quality",
    "policy_enforcement",
]
META_CHANNELS = ("messenger", "instagram", "whatsapp")
CHANNELS = [*META_CHANNELS, "viber", "telegram", "line", "wechat", "webchat", "sms", "email"]
# Webhooks about the account or a template, not about one customer: --contact is not needed.
PAGE_LEVEL_KINDS = {"template_status", "template_category", "template_quality", "policy_enforcement"}
TEMPLATE_KINDS = {"template_status", "template_category", "template_quality"}


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "simulate",
        help="play a customer (signed webhook) through the running local stack",
        description=(
            "Asks the running `windowkeeper local` stack's Meta simulator to act as a customer. "
            "The simulator's URL is read from .local-state/stack.json (or --simulator-url)."
        ),
    )
    parser.add_argument("--channel", required=True, choices=CHANNELS)
    parser.add_argument(
        "--account",
        required=True,
        help="Page id, Instagram account id, phone_number_id or the bot's account id",
    )
    parser.add_argument(
        "--contact",
        default=None,
        help="PSID, IGSID or WhatsApp id of the customer (not for account-level kinds)",
    )
    parser.add_argument("--text", default=None, help="what the customer writes")
    parser.add_argument(
        "--at", default=None, help="when, ISO 8601 with zone (default now), e.g. 2026-11-19T10:00:00Z"
    )
    parser.add_argument(
        "--ago",
        default=None,
        help="how long before the simulator's now, e.g. 2d, 23h, 90m (instead of --at; no date maths)",
    )
    parser.add_argument(
        "--kind",
        default="message",
        help=f"what the customer does; Meta's channels: {', '.join(KINDS)}; the others: the platform's "
        "own (Telegram: message, start, button, block, unblock, stop; see the README's channel table)",
    )
    parser.add_argument("--comment-id", default=None, help="comment id (--kind comment)")
    parser.add_argument("--target-message-id", default=None, help="message reacted to (--kind reaction)")
    parser.add_argument("--token", default=None, help="marketing opt-in token (--kind optin, Messenger/IG)")
    parser.add_argument("--message-id", default=None, help="the message a status is about (--kind status)")
    parser.add_argument(
        "--status", default="delivered", choices=["sent", "delivered", "read", "failed"], help="--kind status"
    )
    parser.add_argument("--error-code", type=int, default=None, help="Meta error code of a failed status")
    parser.add_argument("--template", default=None, help="template name (--kind template_status)")
    parser.add_argument("--language", default=None, help="template language (default: the account's)")
    parser.add_argument(
        "--event",
        default="APPROVED",
        help="template status: APPROVED, PAUSED, DISABLED, REJECTED, REINSTATED... (--kind template_status)",
    )
    parser.add_argument(
        "--category",
        default=None,
        help="the template's new category: MARKETING, UTILITY... (--kind template_category)",
    )
    parser.add_argument(
        "--quality",
        default=None,
        help="the template's new quality: GREEN, YELLOW, RED (--kind template_quality)",
    )
    parser.add_argument(
        "--action",
        default="warning",
        choices=["warning", "block", "unblock"],
        help="policy enforcement action (--kind policy_enforcement)",
    )
    parser.add_argument(
        "--reason", default=None, help="template rejection reason or policy enforcement reason"
    )
    parser.add_argument("--simulator-url", default=None, help="override the simulator URL")
    parser.set_defaults(handler=run)


def _check_instant(value: str) -> str:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError(f"--at needs a time zone, e.g. {value}Z")
    return value


def _missing(args: argparse.Namespace) -> str | None:
    """What the chosen kind needs and was not given (a sentence), else None."""
    if args.at is not None and args.ago is not None:
        return "give --at or --ago, not both"
    if args.channel not in META_CHANNELS:  # the simulator knows each platform's kinds and says so
        return None if args.contact is not None else f"--contact is needed on {args.channel}"
    if args.kind not in KINDS:
        return f"--kind {args.kind} is not one of Meta's: {', '.join(KINDS)}"
    if args.contact is None and args.kind not in PAGE_LEVEL_KINDS:
        return f"--contact is needed for --kind {args.kind}"
    if args.kind == "status" and args.channel == "whatsapp" and not args.message_id:
        return "--message-id is needed for a WhatsApp status (the wamid the status is about)"
    if args.kind == "status" and args.channel != "whatsapp" and args.status not in ("delivered", "read"):
        return "Messenger and Instagram report --status delivered or read; failed statuses are WhatsApp's"
    if args.kind == "status" and args.error_code is not None and args.status != "failed":
        return "--error-code goes with --status failed"
    if args.kind in TEMPLATE_KINDS and (args.channel != "whatsapp" or not args.template):
        return f"--kind {args.kind} needs --channel whatsapp and --template NAME"
    if args.kind == "template_category" and not args.category:
        return "--kind template_category needs --category (MARKETING, UTILITY or AUTHENTICATION)"
    if args.kind == "template_quality" and not args.quality:
        return "--kind template_quality needs --quality (GREEN, YELLOW or RED)"
    if args.kind == "policy_enforcement" and args.channel == "whatsapp":
        return "--kind policy_enforcement is a Messenger or Instagram webhook"
    return None


def run(args: argparse.Namespace) -> int:
    import httpx

    from windowkeeper_tools.local.settings import LocalSettings
    from windowkeeper_tools.local.stack import read_stack_file

    url = args.simulator_url
    if url is None:
        running = read_stack_file(LocalSettings.from_env().state_dir) or {}
        url = running.get("simulator_url")
    if not url:
        print(
            "windowkeeper simulate: no running local stack found; start it with scripts/run", file=sys.stderr
        )
        return 1
    problem = _missing(args)
    if problem:
        print(f"windowkeeper simulate: {problem}", file=sys.stderr)
        return 2
    request: dict[str, object] = {"channel": args.channel, "account_id": args.account, "kind": args.kind}
    if args.contact is not None:
        request["contact_id"] = args.contact
    extras = {
        "token": args.token,
        "message_id": args.message_id,
        "error_code": args.error_code,
        "template": args.template,
        "language": args.language,
        "reason": args.reason,
    }
    request.update({k: v for k, v in extras.items() if v is not None})
    if args.kind == "status":
        request["status"] = args.status
    if args.kind == "template_status":
        request["event"] = args.event.upper()
    if args.kind == "template_category":
        request["category"] = args.category.upper()
    if args.kind == "template_quality":
        request["quality"] = args.quality.upper()
    if args.kind == "policy_enforcement":
        request["action"] = args.action
    if args.text is not None:
        request["text"] = args.text
    if args.ago is not None:
        from windowkeeper_tools.local.tokens import parse_ttl

        try:
            request["ago_seconds"] = int(parse_ttl(args.ago).total_seconds())
        except ValueError as error:
            print(f"windowkeeper simulate: --ago {error}", file=sys.stderr)
            return 2
    if args.at is not None:
        try:
            request["at"] = _check_instant(args.at)
        except ValueError as error:
            print(f"windowkeeper simulate: {error}", file=sys.stderr)
            return 2
    if args.comment_id:
        request["comment_id"] = args.comment_id
    if args.target_message_id:
        request["target_message_id"] = args.target_message_id
    try:
        response = httpx.post(f"{url.rstrip('/')}/_sim/customer", json=request, timeout=30)
    except httpx.HTTPError as error:
        print(f"windowkeeper simulate: the simulator at {url} did not answer: {error}", file=sys.stderr)
        return 1
    body = response.json() if response.content else {}
    if response.status_code >= 400:
        print(f"windowkeeper simulate: {body.get('message', response.text)}", file=sys.stderr)
        return 1
    print(json.dumps(body.get("webhook") or body, indent=2))
    webhook = body.get("webhook") or {}
    delivered = webhook.get("status_code")
    if delivered is None or not 200 <= int(delivered) < 300:
        print(f"windowkeeper simulate: the stack answered the webhook with {delivered}", file=sys.stderr)
        return 1
    return 0
