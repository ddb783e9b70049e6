"""Promotional-content screening for messages that Meta requires to be non-promotional.

Tagged messages, HUMAN_AGENT replies and utility templates must not carry offers (M1, M2, M10,
W10). The screen is a phrase list in English, Spanish and Portuguese matched on whole words after
case and accent folding, so "CUPÓN", "cupon" and "Cupón" all match "cupón". It is a tripwire, not a
classifier: a sender who knows the text is not an offer can confirm that and send anyway.

The list is data: add a phrase to ``PROMOTIONAL_PHRASES`` (written naturally, with accents) and it
is folded and compiled at import time.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from functools import cache, lru_cache

# Written naturally; folding makes matching insensitive to case and accents.
PROMOTIONAL_PHRASES: tuple[str, ...] = (
    # English
    "offers",
    "special offer",
    "exclusive offer",
    "limited offer",
    "limited-time offer",
    "limited time only",
    "discount",
    "discounts",
    "discounted",
    "discount code",
    "coupon",
    "coupons",
    "coupon code",
    "promo code",
    "promo",
    "promotion",
    # Not bare "sale": in Spanish "sale" means "leaves" ("tu pedido sale hoy" = your order ships today).
    "on sale",
    "for sale",
    "flash sale",
    "big sale",
    "summer sale",
    "winter sale",
    "holiday sale",
    "sale ends",
    "sale now on",
    "clearance",
    "free shipping",
    "black friday",
    "cyber monday",
    "buy one get one",
    "bogo",
    "voucher",
    "best deals",
    "great deals",
    "deal of the day",
    # Spanish
    "oferta",
    "ofertas",
    "descuento",
    "descuentos",
    "cupón",
    "cupones",
    "código promocional",
    "código de descuento",
    "envío gratis",
    "envío gratuito",
    "rebajas",
    "promoción",
    "promociones",
    "liquidación",
    "2x1",
    # Portuguese
    "desconto",
    "descontos",
    "promoção",
    "promoções",
    "frete grátis",
    "cupom",
    "cupons",
    "liquidação",
    "queima de estoque",
    "código de desconto",
)

# "20% off", "15 % OFF", "-30%": percentages next to an offer word.
_PERCENT_PATTERNS: tuple[str, ...] = (
    r"\d{1,3}\s?%\s?off",
    r"\d{1,3}\s?%\s?de\s+desconto",
    r"\d{1,3}\s?%\s?de\s+descuento",
    r"\d{1,3}\s?%\s?dto",
    r"save\s+\d{1,3}\s?%",
)


@lru_cache(maxsize=4096)
def _fold_char(char: str) -> str:
    decomposed = unicodedata.normalize("NFKD", char)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def fold(text: str) -> str:
    """Lower-case and strip accents: ``"Envío GRÁTIS"`` -> ``"envio gratis"``."""
    return "".join(_fold_char(c) for c in text)


def _folded_with_positions(text: str) -> tuple[str, Sequence[int]]:
    """The folded text and, for each folded character, the index of its original character."""
    if text.isascii():  # ASCII has nothing to decompose and folds one character to one
        return text.lower(), range(len(text))
    folded: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        piece = _fold_char(char)
        folded.append(piece)
        origin.extend([index] * len(piece))
    return "".join(folded), origin


def _phrase_pattern(phrase: str) -> str:
    # Spaces and hyphens in a phrase match any run of whitespace or a hyphen.
    words = re.split(r"[\s-]+", fold(phrase))
    return r"[\s-]+".join(re.escape(word) for word in words)


@cache
def _promotional_re() -> re.Pattern[str]:
    """The phrase list as one pattern, built on first use (the webhook never screens: -2.5 ms of
    its cold start)."""
    # Longest first so that "promo code" wins over "promo" and the reported phrase is the most
    # specific.
    alternatives = sorted(
        [_phrase_pattern(p) for p in PROMOTIONAL_PHRASES] + list(_PERCENT_PATTERNS),
        key=len,
        reverse=True,
    )
    # Word boundaries that also treat digits and '%' correctly: not preceded/followed by a letter
    # or digit.
    return re.compile(r"(?<![\w])(?:" + "|".join(alternatives) + r")(?![\w])")


def find_promotional_phrase(text: str) -> str | None:
    """The first promotional phrase in ``text`` as it is written there, or ``None``.

    >>> find_promotional_phrase("Your order shipped. Use code SAVE10 for 20% OFF your next one")
    '20% OFF'
    >>> find_promotional_phrase("Envío GRATIS en tu próxima compra")
    'Envío GRATIS'
    >>> find_promotional_phrase("Your parcel is at the depot") is None
    True
    """
    return _first_phrase(text) if text else None


# Screened once per text: a job sends one message to thousands of contacts, and an agent's
# composer asks again about the same draft as the contact's state changes.
@lru_cache(maxsize=1024)
def _first_phrase(text: str) -> str | None:
    folded, origin = _folded_with_positions(text)
    match = _promotional_re().search(folded)
    if match is None:
        return None
    start = origin[match.start()]
    end = origin[match.end() - 1] + 1
    return text[start:end]
