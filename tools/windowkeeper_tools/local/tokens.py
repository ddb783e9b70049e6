"""Development identity provider: an RS256 key pair under ``.local-state/`` and Cognito-like JWTs.

The deployed API's JWT authorizer trusts the Cognito user pool; the local gateway trusts this key
instead and checks the same things (signature, issuer, audience, expiry). RS256 rather than HS256
so the verifying side (the gateway) only needs the public key, as with Cognito's JWKS.
"""

from __future__ import annotations

import re
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from windowkeeper.auth import (
    AGENTS_GROUP,
    AUTOMATION_GROUP,
    AUTOMATION_KIND_CLAIM,
    GROUPS_CLAIM,
    TENANT_CLAIM,
)

LOCAL_ISSUER = "https://windowkeeper.local/idp"
LOCAL_AUDIENCE = "windowkeeper-local"
ALGORITHM = "RS256"
PRIVATE_KEY_FILE = "jwt-signing-key.pem"
PUBLIC_KEY_FILE = "jwt-signing-key.pub.pem"
KEY_ID = "windowkeeper-local-1"


class TokenError(Exception):
    """The bearer token is missing, malformed, badly signed, expired or for someone else."""


@dataclass(frozen=True)
class LocalKeys:
    private_pem: bytes
    public_pem: bytes

    @classmethod
    def load_or_create(cls, state_dir: Path) -> LocalKeys:
        """Read the key pair from ``state_dir``, generating it on first use (0600 private key)."""
        private_path = state_dir / PRIVATE_KEY_FILE
        public_path = state_dir / PUBLIC_KEY_FILE
        if private_path.exists() and public_path.exists():
            return cls(private_path.read_bytes(), public_path.read_bytes())
        state_dir.mkdir(parents=True, exist_ok=True)
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        private_pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        public_pem = key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        private_path.touch(mode=0o600)
        private_path.write_bytes(private_pem)
        public_path.write_bytes(public_pem)
        return cls(private_pem, public_pem)


_TTL = re.compile(r"^(\d+)([smhd]?)$")
_TTL_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_ttl(text: str) -> timedelta:
    """``8h``, ``30m``, ``2d``, ``900`` (seconds)."""
    match = _TTL.match(text.strip())
    if not match or int(match.group(1)) <= 0:
        raise ValueError(f"not a duration: {text!r} (use e.g. 8h, 30m, 2d)")
    return timedelta(seconds=int(match.group(1)) * _TTL_UNITS[match.group(2)])


def development_claims(
    *,
    subject: str,
    tenant_id: str,
    human: bool,
    automation_kind: str | None = None,
    ttl: timedelta = timedelta(hours=8),
    now: float | None = None,
    name: str | None = None,
) -> dict[str, Any]:
    """The claims a Cognito ID token carries for an agent or an automation client."""
    issued_at = int(time.time() if now is None else now)
    claims: dict[str, Any] = {
        "sub": subject,
        "iss": LOCAL_ISSUER,
        "aud": LOCAL_AUDIENCE,
        "iat": issued_at,
        "exp": issued_at + int(ttl.total_seconds()),
        "jti": uuid.uuid4().hex,
        "token_use": "id",
        GROUPS_CLAIM: [AGENTS_GROUP if human else AUTOMATION_GROUP],
        TENANT_CLAIM: tenant_id,
    }
    if not human:
        claims[AUTOMATION_KIND_CLAIM] = automation_kind or "bot"
    if name:
        claims["name"] = name
    return claims


def mint(keys: LocalKeys, claims: dict[str, Any]) -> str:
    return jwt.encode(claims, keys.private_pem, algorithm=ALGORITHM, headers={"kid": KEY_ID})


def verify(keys: LocalKeys, token: str) -> dict[str, Any]:
    """Check signature, issuer, audience and expiry as the HTTP API JWT authorizer does."""
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            keys.public_pem,
            algorithms=[ALGORITHM],
            audience=LOCAL_AUDIENCE,
            issuer=LOCAL_ISSUER,
            options={"require": ["exp", "iss", "aud", "sub"]},
        )
    except jwt.PyJWTError as error:
        raise TokenError(str(error)) from error
    return claims


def flatten_claims(claims: dict[str, Any]) -> dict[str, str]:
    """Claims as API Gateway passes them to the Lambda: every value a string, arrays as ``[a b]``."""
    flat: dict[str, str] = {}
    for name, value in claims.items():
        if isinstance(value, list | tuple):
            flat[name] = "[" + " ".join(str(v) for v in value) + "]"
        elif isinstance(value, bool):
            flat[name] = "true" if value else "false"
        else:
            flat[name] = str(value)
    return flat
