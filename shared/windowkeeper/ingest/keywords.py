"""Opt-out / opt-in keywords: a whole message that says STOP (or START) changes consent.

Matching is on the whole message (not a word inside a sentence: "don't stop the order" must not
unsubscribe anyone), after folding case and accents and trimming what surrounds the word --
whitespace, punctuation, symbols and emoji -- so "Baja", "bája.", "STOP!" and "UNSUBSCRIBE 🙏"
all match while "stop sending" does not. An account's own keyword lists replace the defaults.
"""

from __future__ import annotations

import unicodedata
from enum import StrEnum

from windowkeeper.policy.model import AccountProfile

DEFAULT_OPT_OUT_KEYWORDS = ("STOP", "UNSUBSCRIBE", "BAJA", "PARAR", "SAIR")
DEFAULT_OPT_IN_KEYWORDS = ("START", "ALTA", "VOLTAR")


class KeywordIntent(StrEnum):
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"


def fold(text: str) -> str:
    """Case- and accent-insensitive form: NFKD, drop combining marks, casefold, squeeze spaces."""
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
    opt_out = account.opt_out_keywords or DEFAULT_OPT_OUT_KEYWORDS
    opt_in = account.opt_in_keywords or DEFAULT_OPT_IN_KEYWORDS
    if message in {keyword_form(k) for k in opt_out}:
        return KeywordIntent.OPT_OUT
    if message in {keyword_form(k) for k in opt_in}:
        return KeywordIntent.OPT_IN
    return None
