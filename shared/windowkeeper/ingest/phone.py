"""E.164 country calling code of a WhatsApp ``wa_id`` (digits, no plus sign).

Calling codes are prefix-free (ITU-T E.164): ``1`` and ``7`` are the only one-digit codes, the
two-digit ones are listed below, every other number starts with a three-digit code. That is all
a rule needs ("never marketing to +1", per-country pricing), so no phone library is pulled in.
"""

from __future__ import annotations

ONE_DIGIT = frozenset({"1", "7"})
TWO_DIGIT = frozenset(
    {
        *("20", "27", "30", "31", "32", "33", "34", "36", "39", "40", "41", "43", "44", "45", "46"),
        *("47", "48", "49", "51", "52", "53", "54", "55", "56", "57", "58", "60", "61", "62", "63"),
        *("64", "65", "66", "81", "82", "84", "86", "90", "91", "92", "93", "94", "95", "98"),
    }
)


def country_calling_code(wa_id: str | None) -> str | None:
    """``"1"`` for ``"15551234567"``, ``"44"`` for ``"447700900123"``; None for a non-number."""
    if not wa_id:
        return None
    digits = wa_id.removeprefix("+")
    if not digits.isdigit() or len(digits) < 7:
        return None  # a business-scoped user id (BSUID) or garbage: no country known
    if digits[0] in ONE_DIGIT:
        return digits[0]
    if digits[:2] in TWO_DIGIT:
        return digits[:2]
    return digits[:3]
