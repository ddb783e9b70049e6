"""The inbox's preview of a contact's newest message, kept on the contact item (no I/O here).

Listing a page of conversations must not cost a query per row, so the newest message either way
is copied onto the contact item: ``last_message_key`` (``<epoch_ms:015d>#<message id>``, so it
orders by time, then by id for messages of the same millisecond), with its instant, direction,
kind and text cut to ``PREVIEW_CHARS``. Both writers (the webhook's one contact write and the
send path after a delivered send) guard on the key: the write lands only if the stored key is
absent or older, so whatever order and duplication the writes come in, the newest message wins.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

PREVIEW_CHARS = 100


@dataclass(frozen=True)
class MessagePreview:
    at_ms: int
    message_id: str
    direction: Literal["in", "out"]
    kind: str
    text: str | None

    @property
    def key(self) -> str:
        return f"{self.at_ms:015d}#{self.message_id}"

    def attributes(self) -> dict[str, Any]:
        """The item attributes (a missing text is left out, never stored as null)."""
        values: dict[str, Any] = {
            "last_message_key": self.key,
            "last_message_ms": self.at_ms,
            "last_message_direction": self.direction,
            "last_message_kind": self.kind,
        }
        text = preview_text(self.text)
        if text is not None:
            values["last_message_text"] = text
        return values


def preview_text(text: str | None) -> str | None:
    """The text cut to ``PREVIEW_CHARS`` characters (an ellipsis marks the cut), blanks folded."""
    if text is None:
        return None
    folded = " ".join(text.split())
    if len(folded) <= PREVIEW_CHARS:
        return folded
    return folded[: PREVIEW_CHARS - 1].rstrip() + "…"


def is_newer_preview(stored_key: str | None, key: str) -> bool:
    return stored_key is None or stored_key < key


# Attributes the preview owns: a preview without text removes the older preview's text.
PREVIEW_ATTRIBUTES = (
    "last_message_key",
    "last_message_ms",
    "last_message_direction",
    "last_message_kind",
    "last_message_text",
)
