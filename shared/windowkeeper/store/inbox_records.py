"""The inbox listing's reading plan and its cursor (``GET /v1/conversations``); no I/O here.

Two orders, each a seek over a total order of keys ``(ms, pk)``:

* ``recent`` (default): newest activity first, on GSI ``inbox-index`` (range ``last_activity_ms``:
  a message, a comment...). Each shard of each account is read newest first from the cursor;
  a shard stops once it has ``limit + 1`` matches or has used its share of the read budget, and
  then reads on to the end of its current millisecond, so "every item at or above my last key has
  been read" holds per shard. The page is the matches above the highest such stop (the
  *frontier*) of every shard, newest first, cut at ``limit``; the cursor is the last row's key,
  or the frontier when the page ran out of budget before ``limit`` matches. With ``q`` (a search)
  the budget caps what one request reads: a rare match costs several short pages, never an
  unbounded read.
* ``closing``: open free-form windows, the one closing soonest first. The closing instant depends
  on the whole state (ad windows, early closes), so it is not an index key: the contacts that
  acted within the channel's longest free-form window (from the rules: 7 days after a
  click-to-Messenger ad; GSI ``account-index``, range from now minus that) are read, at most
  ``CLOSING_READ_MAX`` per account, labelled and sorted; the cursor is the last row's
  ``(closes_at_ms, pk)``. Past the bound the answer says ``complete: false``.

A cursor carries its tenant and every filter (sort, search, channel, account): it is refused with
another tenant or other filters, so a page never continues a different listing.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Literal

from windowkeeper.store.audit_records import InvalidCursorError
from windowkeeper.store.contact_item import ContactRecord
from windowkeeper.store.keys import ACCOUNT_SHARDS

InboxSort = Literal["recent", "closing"]
INBOX_SHARDS = ACCOUNT_SHARDS  # inbox-index shares account-index's hash key
SortKey = tuple[int, str]  # (ms, contact pk): a total order, compared as a tuple

INBOX_READ_BUDGET = 2_000  # contact items one ``recent`` request reads at most, all shards together
CLOSING_READ_MAX = 2_000  # contacts per account one ``closing`` request reads at most
Q_MAX_CHARS = 100


@dataclass
class ShardRead:
    """What one shard of ``inbox-index`` gave: matches newest first, and where it stopped."""

    matches: list[ContactRecord] = field(default_factory=list)
    frontier: SortKey | None = None  # None: nothing left below; else every item >= this was read
    read: int = 0


def activity_key(record: ContactRecord) -> SortKey:
    return (record.last_activity_ms or 0, record.pk)


def matches_search(record: ContactRecord, q: str | None) -> bool:
    """``q`` in the display name or the contact id, case and accents as typed folded by casefold."""
    if not q:
        return True
    needle = q.casefold()
    return needle in (record.display_name or "").casefold() or needle in record.contact_id.casefold()


def filters_fingerprint(filters: dict[str, Any]) -> str:
    """A short digest of the listing's filters: the cursor carries it, not the search text."""
    raw = json.dumps(filters, separators=(",", ":"), sort_keys=True)
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def encode_inbox_cursor(tenant_id: str, filters: dict[str, Any], after: SortKey) -> str:
    raw = json.dumps(
        {"tenant": tenant_id, "filters": filters_fingerprint(filters), "after": list(after)},
        separators=(",", ":"),
        sort_keys=True,
    )
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_inbox_cursor(cursor: str, tenant_id: str, filters: dict[str, Any]) -> SortKey:
    """The key a cursor continues after; ``InvalidCursorError`` for anything not handed out for
    this tenant and these filters."""
    try:
        padded = (cursor + "=" * (-len(cursor) % 4)).encode()
        decoded: Any = json.loads(base64.urlsafe_b64decode(padded))
    except (binascii.Error, ValueError, UnicodeDecodeError) as error:
        raise InvalidCursorError("the cursor is not one this API handed out") from error
    after = decoded.get("after") if isinstance(decoded, dict) else None
    if (
        not isinstance(decoded, dict)
        or decoded.get("tenant") != tenant_id
        or decoded.get("filters") != filters_fingerprint(filters)
        or not isinstance(after, list)
        or len(after) != 2
        or not isinstance(after[0], int)
        or isinstance(after[0], bool)
        or not isinstance(after[1], str)
    ):
        raise InvalidCursorError("the cursor belongs to another listing")
    return (after[0], after[1])
