"""Meta's webhook authentication: the GET subscription handshake and ``X-Hub-Signature-256``.

The HMAC is computed over the raw body bytes exactly as received (Meta signs the escaped-unicode
form, e.g. ``\\u00e4``; re-serialising the JSON would change the bytes, M6). Comparisons are
constant-time so the response time says nothing about how much of a guess was right.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from enum import StrEnum

SIGNATURE_HEADER = "x-hub-signature-256"
SIGNATURE_PREFIX = "sha256="


class SignatureProblem(StrEnum):
    MISSING = "signature_missing"
    INVALID = "signature_invalid"


def sign(body: bytes, app_secret: str) -> str:
    """The header value Meta would send for ``body`` (also used by tests and the simulator)."""
    digest = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    return f"{SIGNATURE_PREFIX}{digest}"


def check_signature(body: bytes, header_value: str | None, app_secret: str) -> SignatureProblem | None:
    """``None`` when the body is authentic, else what is wrong with the signature."""
    if not header_value or not header_value.strip():
        return SignatureProblem.MISSING
    value = header_value.strip()
    if not value.lower().startswith(SIGNATURE_PREFIX):
        return SignatureProblem.INVALID
    expected = sign(body, app_secret)
    # Meta sends lowercase hex; lowering ours-and-theirs keeps the comparison constant-time.
    received = SIGNATURE_PREFIX + value[len(SIGNATURE_PREFIX) :].lower()
    if not hmac.compare_digest(expected.encode(), received.encode()):
        return SignatureProblem.INVALID
    return None


def check_subscription(params: Mapping[str, str], verify_token: str) -> str | None:
    """The ``hub.challenge`` to echo when the handshake is genuine, else ``None``."""
    mode = params.get("hub.mode", "")
    token = params.get("hub.verify_token", "")
    challenge = params.get("hub.challenge")
    token_ok = hmac.compare_digest(token.encode(), verify_token.encode())
    if mode != "subscribe" or not token_ok or not challenge or not verify_token:
        return None
    return challenge
