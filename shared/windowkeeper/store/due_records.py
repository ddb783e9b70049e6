"""The ``due_*`` attributes that queue a contact's next notice on the sweep's ``due-index``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from windowkeeper.instants import to_ms
from windowkeeper.store.keys import due_bucket


def due_item_attributes(
    pk: str, *, due_at: datetime, kind: str, window_ms: int, now: datetime
) -> dict[str, Any]:
    """The bucket is the due minute, or the current minute if the notice is already due: a bucket
    for a minute the sweep has already passed would never be read again."""
    return {
        "due_bucket": due_bucket(max(due_at, now), pk),
        "due_at_ms": to_ms(due_at),
        "due_kind": kind,
        "due_window_ms": window_ms,
    }
