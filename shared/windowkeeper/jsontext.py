"""JSON text that no UTF-8 store accepts, and nesting no parser survives: checks shared by every edge.

Both the HTTP APIs (``http.json_body``) and the webhook (``ingest.scrub``) meet bodies holding a
lone UTF-16 surrogate (valid JSON, but no text DynamoDB, hashing or Meta accept) or nested deeper
than any request needs. Pure functions, no I/O.
"""

from __future__ import annotations

import re
from typing import Any

MAX_JSON_DEPTH = 32
"""No request of these APIs nests deeper; a 10,000-deep body would exhaust the parser's recursion."""
# A lone surrogate reaches ``json.loads`` as a ``\udXXX`` escape, as the character itself, or in
# bytes as the CESU-style ``ED A0..BF ..`` sequence that ``json.loads`` of bytes lets through.
_MAY_HOLD_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]|[\ud800-\udfff]")
_MAY_HOLD_SURROGATE_BYTES = re.compile(rb"\\u[dD][89a-fA-F]|\xed[\xa0-\xbf]")


def may_hold_lone_surrogate(raw: str | bytes) -> bool:
    """A cheap pre-check before walking parsed JSON for text no UTF-8 store accepts.

    True for every body holding one, and for some that do not (escaped surrogate pairs, the way
    Meta sends emoji): ``json_shape_problem`` then decides.
    """
    if isinstance(raw, bytes):
        return _MAY_HOLD_SURROGATE_BYTES.search(raw) is not None
    return _MAY_HOLD_SURROGATE.search(raw) is not None


def is_storable_text(text: str) -> bool:
    """True unless ``text`` holds a lone surrogate (UTF-8, hence DynamoDB and hashing, refuse those)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def json_shape_problem(value: Any, *, check_text: bool) -> str | None:
    """``json_too_deep``, ``invalid_text`` (only looked for when ``check_text``) or None, in one
    iterative walk (no recursion, so no depth can exhaust the stack)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > MAX_JSON_DEPTH:
                return "json_too_deep"
            children = list(item.items()) if isinstance(item, dict) else [(None, v) for v in item]
            for key, child in children:
                if check_text and isinstance(key, str) and not is_storable_text(key):
                    return "invalid_text"
                stack.append((child, depth + 1))
        elif check_text and isinstance(item, str) and not is_storable_text(item):
            return "invalid_text"
    return None
