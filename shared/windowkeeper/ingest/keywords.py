"""Opt-out / opt-in keywords: a whole message that says STOP (or START) changes consent.

Matching is on the whole message (not a word inside a sentence: "don't stop the order" must not
unsubscribe anyone), after folding case and accents and trimming what surrounds the word --
whitespace, punctuation, symbols and emoji -- so "Baja", "bája.", "STOP!" and "UNSUBSCRIBE 🙏"
all match while "stop sending" does not. An account's own keyword lists replace the defaults.
"""

from __future__ import annotations

import unicodedata
from enum import StrEnum
from functools import lru_cache

from windowkeeper.policy.model import AccountProfile

DEFAULT_OPT_OUT_KEYWORDS = ("STOP", "UNSUBSCRIBE", "BAJA", "PARAR", "SAIR")
DEFAULT_OPT_IN_KEYWORDS = ("START", "ALTA", "VOLTAR")


class KeywordIntent(StrEnum):
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"


def fold(text: str) -> str:
    """Case- and accent-insensitive form: NFKD, drop combining marks, casefold, squeeze spaces."""
    if text.isascii():  # nothing to decompose; ASCII casefolds as it lower-cases
        return " ".join(text.lower().split())
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.casefold().split())


def _is_trim(ch: str) -> bool:
    """Punctuation (P*), symbols and emoji (S*), separators (Z*), format/control characters (C*:
    the zero-width joiner inside emoji sequences) and marks left alone (variation selector 16,
    the keycap mark): what people put around a keyword without changing it."""
    category = unicodedata.category(ch)
    return category[0] in "PSZC" or category in ("Mn", "Me")


def keyword_form(text: str) -> str:
    """The folded message with leading and trailing punctuation, symbols and emoji removed.

    Only the edges are trimmed: inner words stay, so a sentence never reduces to a keyword.
    """
    folded = fold(text)
    start, end = 0, len(folded)
    while start < end and _is_trim(folded[start]):
        start += 1
    while end > start and _is_trim(folded[end - 1]):
        end -= 1
    return " ".join(folded[start:end].split())


def keyword_intent(text: str | None, account: AccountProfile) -> KeywordIntent | None:
    if not text:
        return None
    message = keyword_form(text)
    if not message:
        return None
    if message in _keyword_forms(account.opt_out_keywords or DEFAULT_OPT_OUT_KEYWORDS):
        return KeywordIntent.OPT_OUT
    if message in _keyword_forms(account.opt_in_keywords or DEFAULT_OPT_IN_KEYWORDS):
        return KeywordIntent.OPT_IN
    return None


@lru_cache(maxsize=1024)
def _keyword_forms(keywords: tuple[str, ...]) -> frozenset[str]:
    """An account's keyword list folded once, not once per message (keyed by the list itself)."""
    return frozenset(keyword_form(k) for k in keywords)
