"""Private replies to comments on Page and Instagram posts."""

from __future__ import annotations

from typing import Any

from windowkeeper.policy.rules.params import PRIVATE_REPLY, PrivateReplyParams
from windowkeeper.policy.rules.record import DAY, MESSENGER_AND_INSTAGRAM, Rule

PRIVATE_REPLY_RULES: tuple[Rule[Any], ...] = (
    Rule(
        rule_id="meta.private_reply",
        family=PRIVATE_REPLY,
        channels=MESSENGER_AND_INSTAGRAM,
        sources=("M2", "I2", "M13"),
        confidence="H",
        summary="One private reply to a comment, within 7 days of the comment.",
        params=PrivateReplyParams(within=7 * DAY),
    ),
)
