"""Audit pagination cursors: opaque, round-trip, and refused when forged or foreign."""

from __future__ import annotations

import base64
import json

import pytest

from windowkeeper.store.audit_records import InvalidCursorError, text_hash
from windowkeeper.store.audit_table import decode_cursor, encode_cursor

CONTACT_PK = "C#messenger#104812345678901#6789012345678901"
LAST_KEY = {"pk": CONTACT_PK, "sk": "DEC#001763719200000#9f1c"}


def test_a_cursor_round_trips_to_the_last_evaluated_key() -> None:
    cursor = encode_cursor(LAST_KEY)
    assert "=" not in cursor and "/" not in cursor and "+" not in cursor
    assert decode_cursor(cursor, CONTACT_PK) == LAST_KEY


def test_a_cursor_of_another_contact_is_refused() -> None:
    cursor = encode_cursor(LAST_KEY)
    with pytest.raises(InvalidCursorError):
        decode_cursor(cursor, "C#messenger#104812345678901#someone-else")


@pytest.mark.parametrize(
    "cursor",
    [
        "not base64 at all!!",
        base64.urlsafe_b64encode(b"[1, 2]").decode(),
        base64.urlsafe_b64encode(json.dumps({"pk": CONTACT_PK, "sk": "MSG#1#x"}).encode()).decode(),
        base64.urlsafe_b64encode(json.dumps({**LAST_KEY, "extra": 1}).encode()).decode(),
    ],
)
def test_forged_cursors_are_refused(cursor: str) -> None:
    with pytest.raises(InvalidCursorError):
        decode_cursor(cursor, CONTACT_PK)


def test_text_is_kept_only_as_its_sha256() -> None:
    digest = text_hash("Your order A-1009 shipped")
    assert digest is not None and len(digest) == 64
    assert "A-1009" not in digest
    assert text_hash(None) is None
