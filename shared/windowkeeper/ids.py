"""The shape of every id a caller names: channel accounts, contacts, follow-ups, jobs.

Ids become DynamoDB keys (``C#<channel>#<account>#<contact>``): a partition key holds at most
2,048 bytes and ``#`` separates its parts, so an id from a URL or a body is checked before any
key is built. Meta's ids are digits (PSID, IGSID, page, WABA phone number, ``wa_id``); the other
channels use letters, digits, ``.`` ``_`` ``-`` ``:`` ``@`` ``+`` ``=`` ``/`` (Viber's base64 ids,
e-mail addresses, E.164 numbers, LINE's ``U…`` ids). Nothing else is accepted: no ``#``, no
whitespace or control characters, nothing outside ASCII.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import Field

from windowkeeper import errors

ACCOUNT_ID_MAX = 128
CONTACT_ID_MAX = 256
ID_CHARACTERS = r"A-Za-z0-9._:@+=/\-"
ID_PATTERN = rf"^[{ID_CHARACTERS}]+$"
GENERATED_ID_PATTERN = r"^[0-9a-f]{32}$"  # follow-up and job ids: blake2b-128 in hex
_ID = re.compile(ID_PATTERN)
_GENERATED_ID = re.compile(GENERATED_ID_PATTERN)

AccountId = Annotated[str, Field(min_length=1, max_length=ACCOUNT_ID_MAX, pattern=ID_PATTERN)]
ContactId = Annotated[str, Field(min_length=1, max_length=CONTACT_ID_MAX, pattern=ID_PATTERN)]

_ALLOWED_WORDS = "letters, digits and . _ - : @ + = /"


def checked_id(name: str, value: str, *, max_length: int) -> str:
    """``value`` if it is a well-formed id of at most ``max_length`` characters; else 400 ``invalid_id``."""
    if not 0 < len(value) <= max_length or _ID.fullmatch(value) is None:
        raise errors.InvalidInput(
            "invalid_id",
            f"'{name}' must be 1 to {max_length} characters of {_ALLOWED_WORDS}.",
            field=name,
        )
    return value


def checked_generated_id(name: str, value: str) -> str:
    """A follow-up or job id as this service makes them (32 hex digits); else 400 ``invalid_id``."""
    if _GENERATED_ID.fullmatch(value) is None:
        raise errors.InvalidInput(
            "invalid_id", f"'{name}' must be the 32 hexadecimal digits this API returned.", field=name
        )
    return value
