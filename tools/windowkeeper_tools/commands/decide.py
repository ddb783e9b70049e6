"""``windowkeeper decide``: ask the policy engine about one message, offline.

Example::

    windowkeeper decide --channel messenger --last-customer-message 2026-11-19T10:02:00Z \\
        --sender bot --text "Your parcel is at the depot" --at 2026-11-21T10:00:00Z

    windowkeeper decide --channel viber --last-customer-message 2026-11-01T09:00:00Z --subscribed \\
        --sender bot --viber-bot-created-on 2023-05-02 --bot-initiated-this-month 10000

    windowkeeper decide --channel wechat --last-customer-message 2026-11-21T08:00:00Z \\
        --sender bot --sent-in-window 5 --at 2026-11-21T10:00:00Z

prints the decision as JSON, then as a sentence (``--json`` or ``--text`` for one of them).
Exit status: 0 allowed, 1 refused, 2 bad arguments.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, date, datetime, timedelta

from windowkeeper.policy.model import (
    AccountProfile,
    AccountUsage,
    AutomationKind,
    Channel,
    ConsentScope,
    ContactState,
    Content,
    ContentKind,
    CustomerActionKind,
    DecisionInput,
    MarketingOptIn,
    OutboundRecord,
    OutboundRequest,
    Path,
    Purpose,
    Sender,
    SenderKind,
    Template,
    TemplateCategory,
    TemplateStatus,
)

SENDERS = {
    "human": Sender(kind=SenderKind.HUMAN, principal_id="cli-agent"),
    "bot": Sender(kind=SenderKind.AUTOMATION, principal_id="cli-bot", automation=AutomationKind.BOT),
    "schedule": Sender(
        kind=SenderKind.AUTOMATION, principal_id="cli-schedule", automation=AutomationKind.SCHEDULE
    ),
}


def _instant(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"{value!r} is not an ISO 8601 instant") from error
    if parsed.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{value!r} has no time zone; add Z or an offset")
    return parsed.astimezone(UTC)


def _count(value: str) -> int:
    try:
        count = int(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from error
    if count < 0:
        raise argparse.ArgumentTypeError(f"{value!r} is negative")
    return count


def _template(value: str) -> Template:
    parts = value.split(":")
    if len(parts) != 4:
        raise argparse.ArgumentTypeError(
            "--template takes NAME:LANG:CATEGORY:STATUS, e.g. order_shipped:en_US:UTILITY:APPROVED"
        )
    name, language, category, status = parts
    try:
        return Template(
            name=name,
            language=language,
            category=TemplateCategory(category.upper()),
            status=TemplateStatus(status.upper()),
        )
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"--template {value!r}: {error}") from error


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "decide",
        help="ask the policy engine whether a message may go, and how",
        description="Evaluates one outbound message against the dated channel rules, offline.",
    )
    parser.add_argument("--channel", required=True, choices=[c.value for c in Channel])
    parser.add_argument(
        "--last-customer-message", type=_instant, help="instant of the customer's last message"
    )
    parser.add_argument(
        "--last-action-kind",
        default=CustomerActionKind.MESSAGE.value,
        choices=[k.value for k in CustomerActionKind],
        help="what the customer's last action was (default: message)",
    )
    parser.add_argument("--sender", choices=sorted(SENDERS), default="human")
    parser.add_argument("--text", default="", help="message text (screened for promotional phrases)")
    parser.add_argument("--tag", help="message tag, e.g. HUMAN_AGENT")
    parser.add_argument("--purpose", choices=[p.value for p in Purpose])
    parser.add_argument("--template", type=_template, help="NAME:LANG:CATEGORY:STATUS")
    parser.add_argument(
        "--feedback-template", action="store_true", help="send the customer feedback template"
    )
    parser.add_argument(
        "--permission", action="append", default=[], help="account permission (repeatable), e.g. human_agent"
    )
    parser.add_argument(
        "--opted-out", action="append", default=[], choices=[s.value for s in ConsentScope], help="repeatable"
    )
    parser.add_argument("--opt-in-token", help="a marketing opt-in (subscription token) on record")
    parser.add_argument("--country-code", help="recipient's E.164 country calling code, e.g. 1")
    parser.add_argument("--region", help="recipient's ISO country, e.g. BR")
    parser.add_argument("--subscribed", action="store_true", help="the user started/followed the bot")
    parser.add_argument("--consent-on-record", action="store_true", help="SMS/e-mail consent held")
    parser.add_argument("--confirm-not-promotional", action="store_true")
    # Counts the rules read, as the service keeps them (Viber's monthly quota, WeChat's window cap).
    parser.add_argument(
        "--bot-initiated-this-month",
        type=_count,
        default=0,
        help="Viber: bot-initiated messages the bot already sent this UTC month (the free quota counts them)",
    )
    parser.add_argument(
        "--viber-bot-created-on", type=date.fromisoformat, help="Viber: when the bot was created (YYYY-MM-DD)"
    )
    parser.add_argument(
        "--viber-paid-messages",
        action="store_true",
        help="Viber: the account pays for bot-initiated messages",
    )
    parser.add_argument(
        "--sent-in-window",
        type=_count,
        default=0,
        help="messages already sent since the customer's last action (WeChat: 5 a 48 h window, 3 a minute)",
    )
    parser.add_argument("--at", type=_instant, help="decide as of this instant (default: now)")
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--json", dest="output", action="store_const", const="json", help="JSON only")
    output.add_argument("--text-only", "--sentence", dest="output", action="store_const", const="text")
    parser.set_defaults(handler=run, output="both")


def _content(args: argparse.Namespace) -> Content:
    if args.feedback_template:
        return Content(kind=ContentKind.FEEDBACK_TEMPLATE, text=args.text or None)
    if args.template is not None:
        return Content(kind=ContentKind.TEMPLATE, template=args.template, text=args.text or None)
    return Content(kind=ContentKind.TEXT, text=args.text)


def build_input(args: argparse.Namespace) -> DecisionInput:
    channel = Channel(args.channel)
    last = args.last_customer_message
    opt_ins: tuple[MarketingOptIn, ...] = ()
    if args.opt_in_token:
        opted_in_at = last or datetime(2000, 1, 1, tzinfo=UTC)
        opt_ins = (MarketingOptIn(token=args.opt_in_token, opted_in_at=opted_in_at),)
    # Messages already sent this window, stamped just after the customer's action (before --at).
    sent = tuple(
        OutboundRecord(at=last + timedelta(milliseconds=n + 1), path=Path.FREE_FORM)
        for n in range(args.sent_in_window if last is not None else 0)
    )
    contact = ContactState(
        channel=channel,
        outbound=sent,
        account_id="cli-account",
        contact_id="cli-contact",
        last_customer_action_at=last,
        last_customer_action_kind=CustomerActionKind(args.last_action_kind) if last else None,
        subscribed=args.subscribed,
        consent_on_record=args.consent_on_record,
        opted_out=frozenset(ConsentScope(s) for s in args.opted_out),
        marketing_opt_ins=opt_ins,
        recipient_country_code=args.country_code,
        recipient_region=args.region,
    )
    account = AccountProfile(
        channel=channel,
        account_id="cli-account",
        tenant_id="cli",
        permissions=frozenset(args.permission),
        viber_bot_created_on=args.viber_bot_created_on,
        viber_paid_messages=args.viber_paid_messages,
    )
    request = OutboundRequest(
        tag=args.tag,
        purpose=Purpose(args.purpose) if args.purpose else None,
        confirm_not_promotional=args.confirm_not_promotional,
    )
    return DecisionInput(
        contact=contact,
        account=account,
        sender=SENDERS[args.sender],
        content=_content(args),
        request=request,
        usage=AccountUsage(bot_initiated_this_month=args.bot_initiated_this_month),
    )


def run(args: argparse.Namespace) -> int:
    from windowkeeper.policy.engine import decide

    # The clock is read here, in the tool, never in the engine.
    at = args.at or datetime.now(UTC)
    decision = decide(build_input(args), at)
    if args.output in ("json", "both"):
        print(json.dumps(decision.summary(), indent=2))
    if args.output in ("text", "both"):
        verdict = f"ALLOWED via {decision.path.value}" if decision.path else "REFUSED"
        reasons = f" [{', '.join(decision.reasons)}]" if decision.reasons else ""
        print(f"{verdict}{reasons}: {decision.explanation}", file=sys.stdout)
    return 0 if decision.allowed else 1
