"""Meta's Graph API error codes as data: what each means, our reason code, what to record.

One row per (code, subcode) the fact sheet documents (``/work/shared/meta-policy.md`` §6, with
its source ids). Matching picks the most specific row: an exact code + subcode beats a code with
any subcode, a row with a request condition (e.g. "the request carried a retired tag") beats one
without, and a few subcodes are matched whatever the code (Meta's pages list them bare).

Codes absent from the table are *not* guessed at: the classification says ``known=False`` and the
caller surfaces Meta's code and message verbatim. Bare ``100`` ("Invalid parameter") is only read
as ``tag_retired`` when we did send a retired tag, and as an expired subscription token when we
did call the marketing API; otherwise it is unknown, because it usually means our request was
malformed and calling that a policy refusal would hide our bug.

Retry rule: a row's ``transient`` flag decides. Without a row, HTTP 5xx and 429 are transient and
every other status is final. (This reads answers that carry Graph's error envelope, i.e. Meta
saying the call failed. A 5xx *without* one is read by the client before classification, as
"may have been delivered": see ``windowkeeper.graph.client``.)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum

from windowkeeper.graph.results import NO_EFFECTS, ContactEffects
from windowkeeper.policy.model import Channel, ReasonCode

MESSENGER_FAMILY = frozenset({Channel.MESSENGER, Channel.INSTAGRAM})
WHATSAPP_ONLY = frozenset({Channel.WHATSAPP})
ALL_META = MESSENGER_FAMILY | WHATSAPP_ONLY


# Messenger tags that Meta answers with error 100 after these dates (M3, M17, README decisions).
RETIRED_TAGS: dict[str, date] = {
    "CONFIRMED_EVENT_UPDATE": date(2026, 4, 27),
    "ACCOUNT_UPDATE": date(2026, 4, 27),
    "POST_PURCHASE_UPDATE": date(2026, 4, 27),
    **{
        tag: date(2020, 3, 4)
        for tag in (
            "BUSINESS_PRODUCTIVITY",
            "COMMUNITY_ALERT",
            "CONFIRMED_EVENT_REMINDER",
            "PAIRING_UPDATE",
            "APPLICATION_UPDATE",
            "PAYMENT_UPDATE",
            "PERSONAL_FINANCE_UPDATE",
            "SHIPPING_UPDATE",
            "RESERVATION_UPDATE",
            "ISSUE_RESOLUTION",
            "APPOINTMENT_UPDATE",
            "GAME_EVENT",
            "TRANSPORTATION_UPDATE",
            "FEATURE_FUNCTIONALITY_UPDATE",
            "TICKET_UPDATE",
        )
    },
}


def tag_retired(tag: str | None, at: datetime) -> bool:
    if tag is None:
        return False
    retired_on = RETIRED_TAGS.get(tag.upper())
    return retired_on is not None and at.astimezone(UTC).date() >= retired_on


class Effect(StrEnum):
    WINDOW_CLOSED_EARLY = "window_closed_early"
    UNREACHABLE = "unreachable"
    MARKETING_OPTED_OUT = "marketing_opted_out"
    MARKETING_BACKOFF = "marketing_backoff"
    TAGGED_SENDS_THROTTLED = "tagged_sends_throttled"
    THREAD_CONTROLLED_ELSEWHERE = "thread_controlled_elsewhere"
    ACCOUNT_RESTRICTED = "account_restricted"
    TOKEN_INVALID = "token_invalid"
    TEMPLATE_UNAVAILABLE = "template_unavailable"
    BUSINESS_INITIATED_LIMITED = "business_initiated_limited"
    MARKETING_API_REQUIRED = "marketing_api_required"


class Condition(StrEnum):
    """Facts about our own request that change what an ambiguous code means."""

    RETIRED_TAG = "retired_tag"  # we sent a tag that was retired at the time of sending
    MARKETING_API = "marketing_api"  # we called the Messenger marketing messages API


ANY = -1  # subcode wildcard: any subcode, or none


@dataclass(frozen=True)
class ErrorRule:
    code: int | None  # None: match the subcode under any code
    subcode: int  # ANY or an exact subcode
    channels: frozenset[Channel]
    meaning: str
    reason: ReasonCode | None
    sources: tuple[str, ...]
    transient: bool = False
    effects: frozenset[Effect] = frozenset()
    condition: Condition | None = None


def _rule(  # noqa: PLR0917 - positional so the table below reads as rows
    code: int | None,
    subcode: int,
    channels: frozenset[Channel],
    reason: ReasonCode | None,
    meaning: str,
    sources: tuple[str, ...],
    *effects: Effect,
    transient: bool = False,
    condition: Condition | None = None,
) -> ErrorRule:
    return ErrorRule(
        code, subcode, channels, meaning, reason, sources, transient, frozenset(effects), condition
    )


R = ReasonCode
E = Effect

# One row per documented code. Kept as an aligned table (not black-formatted) so it reads as data.
# fmt: off
ERROR_TABLE: tuple[ErrorRule, ...] = (
    # --- Messenger / Instagram (meta-policy.md §6.1) -----------------------------------------------
    _rule(10, 2018278, MESSENGER_FAMILY, R.WINDOW_CLOSED, "Message sent outside of the allowed window.",
          ("M4",), E.WINDOW_CLOSED_EARLY),
    _rule(10, 2534022, MESSENGER_FAMILY, R.WINDOW_CLOSED,
          "Instagram: message sent outside the 24 hours after the customer's message.", ("M4",),
          E.WINDOW_CLOSED_EARLY),
    _rule(10, 2018065, MESSENGER_FAMILY, R.PERMISSION_MISSING,
          "Outside the window; sending needs the News Messaging permission.", ("M4",)),
    _rule(10, 2018108, MESSENGER_FAMILY, R.UNREACHABLE, "The person can't receive your messages right now.",
          ("M4",), E.UNREACHABLE),
    _rule(10, 1893063, MESSENGER_FAMILY, R.PERMISSION_MISSING,
          "The Page is temporarily restricted from sending messages.", ("M4", "M3"), E.ACCOUNT_RESTRICTED),
    _rule(10, 1893015, MESSENGER_FAMILY, R.OPTED_OUT, "The person stopped these marketing messages.",
          ("M4", "M11"), E.MARKETING_OPTED_OUT),
    _rule(551, ANY, MESSENGER_FAMILY, R.UNREACHABLE, "This person isn't available right now.", ("M4",),
          E.UNREACHABLE),
    _rule(200, 1545041, MESSENGER_FAMILY, R.UNREACHABLE, "This person isn't receiving your messages.",
          ("M4",), E.UNREACHABLE),
    _rule(100, ANY, MESSENGER_FAMILY, R.TAG_RETIRED,
          "Invalid parameter: the message tag has been retired (error 100 since its retirement date).",
          ("M3", "M1", "C4"), condition=Condition.RETIRED_TAG),
    _rule(100, ANY, MESSENGER_FAMILY, R.OPT_IN_REQUIRED,
          "Invalid parameter on a marketing message: the subscription token is invalid or expired.",
          ("M4", "M11"), condition=Condition.MARKETING_API),
    _rule(100, 2534025, MESSENGER_FAMILY, R.CONTENT_INVALID, "The comment is not valid for a private reply.",
          ("M4",)),
    _rule(None, 2534037, MESSENGER_FAMILY, R.PERMISSION_MISSING, "This app is not the thread owner.",
          ("M4",), E.THREAD_CONTROLLED_ELSEWHERE),
    _rule(None, 2018300, MESSENGER_FAMILY, R.PERMISSION_MISSING, "Another app controls this thread.",
          ("M4", "M5"), E.THREAD_CONTROLLED_ELSEWHERE),
    _rule(None, 2018321, MESSENGER_FAMILY, R.PERMISSION_MISSING,
          "A Messenger automated Q&A flow controls this thread.", ("M4",), E.THREAD_CONTROLLED_ELSEWHERE),
    _rule(613, 2018338, MESSENGER_FAMILY, R.FREQUENCY_LIMITED,
          "Too many tagged messages to this person (bothersome or abusive use warning).", ("M4", "M1"),
          E.TAGGED_SENDS_THROTTLED),
    _rule(4, 2018354, MESSENGER_FAMILY, R.FREQUENCY_LIMITED,
          "Minimum delay between marketing notifications not respected.", ("M4", "M11")),
    _rule(9, 2018352, MESSENGER_FAMILY, R.FREQUENCY_LIMITED, "Marketing opt-in request limit reached.",
          ("M4", "M11")),
    _rule(613, 1893016, MESSENGER_FAMILY, R.FREQUENCY_LIMITED,
          "Several marketing opt-in requests on the same topic.", ("M4", "M11")),
    _rule(None, 2300052, MESSENGER_FAMILY, R.FREQUENCY_LIMITED,
          "Recent conversation activity is inside min_conversation_gap_seconds.", ("M11",)),
    _rule(613, ANY, MESSENGER_FAMILY, None, "Calls to this API have exceeded the rate limit.", ("M4",),
          transient=True),
    # --- Graph-wide --------------------------------------------------------------------------------
    _rule(4, ANY, ALL_META, None, "Application request limit reached.", ("M4", "C1"), transient=True),
    _rule(1, ANY, ALL_META, None, "An unknown error occurred (Graph says: retry).", ("C1",), transient=True),
    _rule(2, ANY, ALL_META, None, "Service temporarily unavailable.", ("C1",), transient=True),
    _rule(190, ANY, ALL_META, None, "The access token is invalid or expired: re-authorise the account.",
          ("M4", "C1"), E.TOKEN_INVALID),
    _rule(368, ANY, ALL_META, R.PERMISSION_MISSING,
          "Temporarily blocked for policy violations (account restricted).", ("C1",), E.ACCOUNT_RESTRICTED),
    # --- WhatsApp Cloud API (meta-policy.md §6.2) --------------------------------------------------
    _rule(80007, ANY, WHATSAPP_ONLY, None, "WhatsApp Business Account rate limit reached.", ("C1", "W7"),
          transient=True),
    _rule(130429, ANY, WHATSAPP_ONLY, None, "Cloud API throughput limit reached.", ("W7", "C1"),
          transient=True),
    _rule(131056, ANY, WHATSAPP_ONLY, None, "Pair rate limit: too many messages to this user too fast.",
          ("W7", "C1"), transient=True),
    _rule(131057, ANY, WHATSAPP_ONLY, None, "Account in maintenance mode.", ("W7", "C1"), transient=True),
    _rule(131047, ANY, WHATSAPP_ONLY, R.WINDOW_CLOSED,
          "Re-engagement message: more than 24 hours since the customer last replied.", ("C1", "W1"),
          E.WINDOW_CLOSED_EARLY),
    _rule(131026, ANY, WHATSAPP_ONLY, R.UNREACHABLE,
          "Message undeliverable (not a WhatsApp user, terms not accepted, outdated client...).", ("C1",),
          E.UNREACHABLE),
    _rule(131049, ANY, WHATSAPP_ONLY, R.BACKOFF,
          "Not delivered to maintain healthy ecosystem engagement: wait at least 24 hours.", ("W5", "C1"),
          E.MARKETING_BACKOFF),
    _rule(131050, ANY, WHATSAPP_ONLY, R.OPTED_OUT, "The user stopped marketing messages from this business.",
          ("W9", "C1"), E.MARKETING_OPTED_OUT),
    _rule(131048, ANY, WHATSAPP_ONLY, R.FREQUENCY_LIMITED,
          "Spam rate limit: too many previous messages were blocked or flagged.", ("C1",),
          E.BUSINESS_INITIATED_LIMITED),
    _rule(131064, ANY, WHATSAPP_ONLY, R.QUOTA_EXHAUSTED,
          "Messaging limit reached because of template classification violations.", ("C1", "W10"),
          E.BUSINESS_INITIATED_LIMITED),
    _rule(131063, ANY, WHATSAPP_ONLY, R.CHANNEL_UNSUPPORTED,
          "Marketing templates are disabled on the Cloud API for this account: use the MM API.",
          ("W17", "C1"), E.MARKETING_API_REQUIRED),
    _rule(130472, ANY, WHATSAPP_ONLY, R.BACKOFF,
          "The user is part of a marketing experiment holdout: do not retry.", ("C1",)),
    _rule(131031, ANY, WHATSAPP_ONLY, R.PERMISSION_MISSING, "The business account is locked.", ("C1",),
          E.ACCOUNT_RESTRICTED),
    _rule(130497, ANY, WHATSAPP_ONLY, R.REGION_BLOCKED,
          "The business account is restricted from messaging users in this country.", ("C1",)),
    _rule(132015, ANY, WHATSAPP_ONLY, R.TEMPLATE_NOT_APPROVED, "The template is paused.", ("C1", "W11"),
          E.TEMPLATE_UNAVAILABLE),
    _rule(132016, ANY, WHATSAPP_ONLY, R.TEMPLATE_NOT_APPROVED, "The template is disabled.", ("C1", "W11"),
          E.TEMPLATE_UNAVAILABLE),
    _rule(132000, ANY, WHATSAPP_ONLY, R.CONTENT_INVALID,
          "Template parameter count does not match the template.", ("C1",)),
    _rule(132001, ANY, WHATSAPP_ONLY, R.CONTENT_INVALID,
          "The template does not exist in this name and language.", ("C1",)),
    _rule(132012, ANY, WHATSAPP_ONLY, R.CONTENT_INVALID,
          "Template parameter format does not match the template.", ("C1",)),
    _rule(131062, ANY, WHATSAPP_ONLY, R.CONTENT_INVALID,
          "This message type cannot go to a business-scoped user id: use the phone number.", ("C1", "W15")),
)
# fmt: on


@dataclass(frozen=True)
class Classification:
    """How one Graph answer reads: known or not, transient or final, reason and effects."""

    known: bool
    transient: bool
    reason: ReasonCode | None
    effects: frozenset[Effect]
    meaning: str | None
    sources: tuple[str, ...]


def classify(
    channel: Channel,
    http_status: int | None,
    code: int | None,
    subcode: int | None,
    *,
    conditions: Iterable[Condition] = (),
    table: tuple[ErrorRule, ...] = ERROR_TABLE,
) -> Classification:
    """Read one Graph error. ``conditions`` are facts about the request we sent."""
    rule = match_rule(channel, code, subcode, frozenset(conditions), table=table)
    if rule is not None:
        return Classification(True, rule.transient, rule.reason, rule.effects, rule.meaning, rule.sources)
    server_side = http_status is not None and (http_status >= 500 or http_status == 429)
    if server_side:
        return Classification(True, True, None, frozenset(), f"HTTP {http_status} from the Graph API.", ())
    return Classification(False, False, None, frozenset(), None, ())


def match_rule(
    channel: Channel,
    code: int | None,
    subcode: int | None,
    conditions: frozenset[Condition],
    *,
    table: tuple[ErrorRule, ...] = ERROR_TABLE,
) -> ErrorRule | None:
    best: tuple[int, ErrorRule] | None = None
    for rule in table:
        if channel not in rule.channels:
            continue
        if rule.condition is not None and rule.condition not in conditions:
            continue
        if rule.code is None:
            if subcode is None or rule.subcode != subcode:
                continue
            score = 2
        elif rule.code != code:
            continue
        elif rule.subcode == ANY:
            score = 1
        elif rule.subcode == subcode:
            score = 3
        else:
            continue
        if rule.condition is not None:
            score += 10  # what we know we sent settles what an ambiguous code means
        if best is None or score > best[0]:
            best = (score, rule)
    return best[1] if best else None


def contact_effects(
    effects: frozenset[Effect],
    unreachable_reason: str | None,
    *,
    code: int | None,
) -> ContactEffects:
    """The effects to record. Timeless on purpose: the caller stamps them with the instant it
    read at its edge (a back-off runs from there, for as long as the policy rule
    ``whatsapp.marketing.backoff_131049`` says)."""
    if not effects:
        return NO_EFFECTS
    return ContactEffects(
        window_closed_early=Effect.WINDOW_CLOSED_EARLY in effects,
        unreachable=Effect.UNREACHABLE in effects,
        unreachable_reason=unreachable_reason if Effect.UNREACHABLE in effects else None,
        marketing_opted_out=Effect.MARKETING_OPTED_OUT in effects,
        marketing_backoff_code=code if Effect.MARKETING_BACKOFF in effects else None,
        tagged_sends_throttled=Effect.TAGGED_SENDS_THROTTLED in effects,
        thread_controlled_elsewhere=Effect.THREAD_CONTROLLED_ELSEWHERE in effects,
        account_restricted=Effect.ACCOUNT_RESTRICTED in effects,
        token_invalid=Effect.TOKEN_INVALID in effects,
        template_unavailable=Effect.TEMPLATE_UNAVAILABLE in effects,
        business_initiated_limited=Effect.BUSINESS_INITIATED_LIMITED in effects,
        marketing_api_required=Effect.MARKETING_API_REQUIRED in effects,
    )
