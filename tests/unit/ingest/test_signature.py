from __future__ import annotations

import hashlib
import hmac

import pytest

from tests.unit.ingest.meta_fixtures import raw, unescaped_utf8
from windowkeeper.ingest.signature import SignatureProblem, check_signature, check_subscription, sign

SECRET = "app-secret-for-unit-tests"


def test_sign_is_hmac_sha256_of_the_exact_bytes_in_lowercase_hex() -> None:
    body = raw("instagram_text_non_ascii.json")
    expected = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert sign(body, SECRET) == f"sha256={expected}"


def test_a_body_signed_with_the_app_secret_is_authentic() -> None:
    body = raw("messenger_text_batched_two_entries.json")
    assert check_signature(body, sign(body, SECRET), SECRET) is None


def test_uppercase_hex_from_a_proxy_is_still_accepted() -> None:
    body = b'{"object":"page","entry":[]}'
    header = "sha256=" + sign(body, SECRET).removeprefix("sha256=").upper()
    assert check_signature(body, header, SECRET) is None


@pytest.mark.parametrize("header", [None, "", "   "])
def test_missing_signature(header: str | None) -> None:
    assert check_signature(b"{}", header, SECRET) is SignatureProblem.MISSING


def test_signature_made_with_another_secret_is_invalid() -> None:
    body = raw("messenger_text_batched_two_entries.json")
    assert check_signature(body, sign(body, "someone-else"), SECRET) is SignatureProblem.INVALID


def test_sha1_header_format_is_invalid() -> None:
    body = b"{}"
    sha1 = hmac.new(SECRET.encode(), body, hashlib.sha1).hexdigest()
    assert check_signature(body, f"sha1={sha1}", SECRET) is SignatureProblem.INVALID


def test_re_serialised_non_ascii_body_no_longer_matches() -> None:
    """Meta signs the escaped form (\\u00e4); decoding and re-encoding as UTF-8 changes the bytes."""
    escaped = raw("instagram_text_non_ascii.json")
    assert b"\\u00e4" in escaped
    header = sign(escaped, SECRET)
    re_encoded = unescaped_utf8(escaped)
    assert re_encoded != escaped
    assert check_signature(re_encoded, header, SECRET) is SignatureProblem.INVALID
    assert check_signature(escaped, header, SECRET) is None


def test_one_flipped_byte_is_invalid() -> None:
    body = bytearray(raw("whatsapp_text_with_bsuid.json"))
    header = sign(bytes(body), SECRET)
    body[10] ^= 0x01
    assert check_signature(bytes(body), header, SECRET) is SignatureProblem.INVALID


def test_subscription_echoes_the_challenge_when_the_token_matches() -> None:
    params = {"hub.mode": "subscribe", "hub.verify_token": "tok-123", "hub.challenge": "1158201444"}
    assert check_subscription(params, "tok-123") == "1158201444"


@pytest.mark.parametrize(
    "params",
    [
        {"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1"},
        {"hub.mode": "unsubscribe", "hub.verify_token": "tok-123", "hub.challenge": "1"},
        {"hub.mode": "subscribe", "hub.verify_token": "tok-123"},
        {},
    ],
)
def test_subscription_refused(params: dict[str, str]) -> None:
    assert check_subscription(params, "tok-123") is None


def test_subscription_refused_when_no_token_is_configured() -> None:
    assert (
        check_subscription({"hub.mode": "subscribe", "hub.verify_token": "", "hub.challenge": "1"}, "")
        is None
    )
