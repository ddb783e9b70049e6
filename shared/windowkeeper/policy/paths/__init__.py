"""One evaluator per path: ordered checks over an ``Ask``, stopping at the first failure.

Each evaluator answers "may this go by my path at ``at``?" with a ``PathResult``; the engine picks
which paths to try and combines their answers. Shared checks live in ``checks``, the verdict type
and its constructors in ``verdict``; ``handover`` holds automation back on every path while a
person owns the conversation.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial

from windowkeeper.policy.facts import Ask
from windowkeeper.policy.model import Path
from windowkeeper.policy.paths.handover import respecting_handover
from windowkeeper.policy.paths.marketing import marketing_message
from windowkeeper.policy.paths.private_reply import private_reply
from windowkeeper.policy.paths.tags import tagged
from windowkeeper.policy.paths.templates import template
from windowkeeper.policy.paths.verdict import PathResult
from windowkeeper.policy.paths.window import free_form, plus_one
from windowkeeper.policy.paths.windowless import bot_initiated, direct

__all__ = ["EVALUATORS", "PathResult"]

_PATHS: Mapping[Path, Callable[[Ask], PathResult]] = {
    Path.FREE_FORM: free_form,
    Path.HUMAN_AGENT: partial(tagged, path=Path.HUMAN_AGENT),
    Path.MESSAGE_TAG: partial(tagged, path=Path.MESSAGE_TAG),
    Path.CUSTOMER_FEEDBACK: partial(tagged, path=Path.CUSTOMER_FEEDBACK),
    Path.UTILITY_TEMPLATE: partial(template, path=Path.UTILITY_TEMPLATE),
    Path.AUTHENTICATION_TEMPLATE: partial(template, path=Path.AUTHENTICATION_TEMPLATE),
    Path.MARKETING_TEMPLATE: partial(template, path=Path.MARKETING_TEMPLATE),
    Path.MARKETING_MESSAGE: marketing_message,
    Path.PRIVATE_REPLY: private_reply,
    Path.PLUS_ONE: plus_one,
    Path.BOT_INITIATED: bot_initiated,
    Path.DIRECT: direct,
}

# Every path, for every sender: automation waits while a person owns the conversation.
EVALUATORS: Mapping[Path, Callable[[Ask], PathResult]] = {
    path: respecting_handover(evaluate) for path, evaluate in _PATHS.items()
}
