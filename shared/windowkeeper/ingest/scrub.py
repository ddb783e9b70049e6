"""Text no UTF-8 store accepts, made storable before anything of a webhook body is written.

JSON can carry a lone UTF-16 surrogate (``"\\ud800 STOP"``): ``json.loads`` accepts it, and then
DynamoDB, S3 metadata and hashing refuse the string. Meta signed those bytes, so the body is
authentic; refusing it would make Meta retry it for days, and writing half of it would apply a
batch in part. So every lone surrogate is replaced by U+FFFD (the Unicode replacement character)
right after parsing, the whole batch goes on as usual, and the exact body is quarantined with the
reason ``unencodable_text`` so a person can see what the customer really sent.
"""

from __future__ import annotations

import re
from typing import Any

from windowkeeper.jsontext import may_hold_lone_surrogate

REPLACEMENT = "\ufffd"
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")

__all__ = ["REPLACEMENT", "may_hold_lone_surrogate", "scrub_lone_surrogates"]


def _scrub_text(text: str) -> tuple[str, int]:
    return _LONE_SURROGATE.subn(REPLACEMENT, text)


def scrub_lone_surrogates(value: Any) -> tuple[Any, int]:
    """``value`` (parsed JSON) with every lone surrogate in keys and strings replaced; and how many.

    Iterative, so any depth ``json.loads`` produced is walked without recursion. Lists and dicts
    are changed in place (they are the caller's freshly parsed payload).
    """
    if isinstance(value, str):
        return _scrub_text(value)
    replaced = 0
    stack: list[Any] = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for key in list(item):
                child = item[key]
                if isinstance(child, str):
                    child, n = _scrub_text(child)
                    replaced += n
                elif isinstance(child, dict | list):
                    stack.append(child)
                new_key, n = _scrub_text(key)
                replaced += n
                if n:
                    del item[key]
                item[new_key] = child
        elif isinstance(item, list):
            for index, child in enumerate(item):
                if isinstance(child, str):
                    item[index], n = _scrub_text(child)
                    replaced += n
                elif isinstance(child, dict | list):
                    stack.append(child)
    return value, replaced
