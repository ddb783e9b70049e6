from __future__ import annotations

import pytest

from windowkeeper.ingest.keywords import KeywordIntent, fold, keyword_intent
from windowkeeper.policy.model import AccountProfile, Channel

DEFAULTS = AccountProfile(channel=Channel.WHATSAPP, account_id="1", tenant_id="t")
CUSTOM = AccountProfile(
    channel=Channel.WHATSAPP,
    account_id="1",
    tenant_id="t",
    opt_out_keywords=("Abmelden",),
    opt_in_keywords=("Anmelden",),
)


def test_fold_drops_case_accents_and_extra_spaces() -> None:
    assert fold("  Bájá ") == "baja"
    assert fold("VOLTÁR") == "voltar"
    assert fold("\uff33\uff54\uff4f\uff50") == "stop"  # full-width letters from some keyboards


@pytest.mark.parametrize("text", ["STOP", "stop", " Stop\n", "Unsubscribe", "baja", "BAJÁ", "parar", "Sair"])
def test_default_opt_out_words_match_the_whole_message(text: str) -> None:
    assert keyword_intent(text, DEFAULTS) is KeywordIntent.OPT_OUT


@pytest.mark.parametrize("text", ["start", "ALTA", "Voltar"])
def test_default_opt_in_words(text: str) -> None:
    assert keyword_intent(text, DEFAULTS) is KeywordIntent.OPT_IN


@pytest.mark.parametrize("text", ["please stop the order", "stopp", "don't stop", "", None, "STOP-LOSS"])
def test_words_inside_a_sentence_or_variants_do_not_match(text: str | None) -> None:
    assert keyword_intent(text, DEFAULTS) is None


def test_account_keywords_replace_the_defaults() -> None:
    assert keyword_intent("abmelden", CUSTOM) is KeywordIntent.OPT_OUT
    assert keyword_intent("ANMELDEN", CUSTOM) is KeywordIntent.OPT_IN
    assert keyword_intent("STOP", CUSTOM) is None
