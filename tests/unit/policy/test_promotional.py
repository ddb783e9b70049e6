"""The promotional-phrase screen: EN/ES/PT, whole words, case and accents folded."""

from __future__ import annotations

import pytest

from windowkeeper.policy.promotional import find_promotional_phrase


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ("Get 20% OFF your next order", "20% OFF"),
        ("Use promo code WELCOME at checkout", "promo code"),
        ("Black Friday starts now", "Black Friday"),
        ("Free shipping on orders over $50", "Free shipping"),
        ("Here is a coupon for your trouble", "coupon"),
        ("Everything is on sale this week", "on sale"),
        ("Check our special offers", "offers"),
        ("Aprovecha el 15% de descuento", "15% de descuento"),
        ("Nueva oferta para ti", "oferta"),
        ("Tu CUPON de bienvenida", "CUPON"),
        ("Envio gratis en 24 h", "Envio gratis"),
        ("Llegaron las rebajas", "rebajas"),
        ("Aproveite a promoção de inverno", "promoção"),
        ("Frete Grátis para todo o Brasil", "Frete Grátis"),
        ("Use o cupom BEMVINDO", "cupom"),
        ("Liquidação total", "Liquidação"),
        ("PROMOCAO relâmpago", "PROMOCAO"),
    ],
)
def test_promotional_phrases_are_found_as_written(text: str, phrase: str) -> None:
    assert find_promotional_phrase(text) == phrase


@pytest.mark.parametrize(
    "text",
    [
        "Your order #4411 has shipped and should arrive on Monday.",
        "Tu pedido sale hoy del almacén.",  # Spanish "sale" = leaves
        "Your wholesale account was approved.",
        "We can offer a replacement or a refund, whichever you prefer.",
        "Seu pedido foi entregue.",
        "Your salesperson will call you back.",
        "The discountenanced policy",  # substring of a longer word
        "",
    ],
)
def test_service_messages_are_not_flagged(text: str) -> None:
    assert find_promotional_phrase(text) is None
