"""Opt-out keywords as people really type them: with a full stop, an exclamation mark or an emoji."""

from __future__ import annotations

import pytest

from windowkeeper.ingest.keywords import KeywordIntent, keyword_form, keyword_intent
from windowkeeper.policy.model import AccountProfile, Channel

WHATSAPP_DEFAULTS = AccountProfile(channel=Channel.WHATSAPP, account_id="3333", tenant_id="acme")
GERMAN_PAGE = AccountProfile(
    channel=Channel.MESSENGER,
    account_id="1111",
    tenant_id="acme",
    opt_out_keywords=("Abmelden",),
    opt_in_keywords=("Anmelden",),
)


@pytest.mark.parametrize(
    "text",
    [
        "Stop.",
        "STOP!",
        "stop!!!",
        "Baja.",
        "¡Baja!",
        "UNSUBSCRIBE 🙏",
        "unsubscribe 🙏🏽",  # emoji with a skin-tone modifier
        "🛑 STOP 🛑",
        "«parar»",
        '"Sair"',
        "stop ❤️",  # heart with variation selector 16
        "STOP\u200d",  # a stray zero-width joiner from an emoji keyboard
    ],
)
def test_opt_out_keyword_wrapped_in_punctuation_or_emoji_opts_out(text: str) -> None:
    assert keyword_intent(text, WHATSAPP_DEFAULTS) is KeywordIntent.OPT_OUT


@pytest.mark.parametrize("text", ["Start!", "ALTA.", "voltar 👍"])
def test_opt_in_keyword_wrapped_in_punctuation_opts_in(text: str) -> None:
    assert keyword_intent(text, WHATSAPP_DEFAULTS) is KeywordIntent.OPT_IN


def test_account_keywords_are_trimmed_the_same_way() -> None:
    assert keyword_intent("Abmelden!", GERMAN_PAGE) is KeywordIntent.OPT_OUT
    assert keyword_intent("anmelden 😊", GERMAN_PAGE) is KeywordIntent.OPT_IN


@pytest.mark.parametrize(
    "text",
    [
        "don't stop sending me updates",
        "Please stop.",
        "stop sending!",
        "Stop, I meant the order",
        "STOP-LOSS",
        "s.t.o.p",
        "🙏",
        "!!!",
    ],
)
def test_sentences_and_bare_punctuation_are_not_keywords(text: str) -> None:
    assert keyword_intent(text, WHATSAPP_DEFAULTS) is None


def test_only_the_edges_are_trimmed() -> None:
    assert keyword_form("  ¡Hola, amigo!  ") == "hola, amigo"
