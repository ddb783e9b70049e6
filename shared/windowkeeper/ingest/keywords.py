"""Opt-out / opt-in keywords: a whole message that says STOP (or START) changes consent.

Matching is on the whole message (not a word inside a sentence: "don't stop the order" must not
unsubscribe anyone), after trimming whitespace and folding case and accents, so "Baja", "BAJA"
and "bája" all match. An account's own keyword lists replace the defaults.
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


def keyword_intent(text: str | None, account: AccountProfile) -> KeywordIntent | None:
    if not text:
        return None
    folded = fold(text)
    opt_out = account.opt_out_keywords or DEFAULT_OPT_OUT_KEYWORDS
    opt_in = account.opt_in_keywords or DEFAULT_OPT_IN_KEYWORDS
    if folded in {fold(k) for k in opt_out}:
        return KeywordIntent.OPT_OUT
    if folded in {fold(k) for k in opt_in}:
        return KeywordIntent.OPT_IN
    return None
