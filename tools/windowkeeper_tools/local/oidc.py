"""A local OpenID provider that behaves like the Cognito hosted UI, for the console's sign-in.

The console signs in the same way against both: ``/oauth2/authorize`` (authorization code with
PKCE, S256 only), ``/oauth2/token`` (``authorization_code`` with ``code_verifier``, then
``refresh_token``), ``/oauth2/revoke``, ``/logout``, ``/.well-known/openid-configuration`` and
``/.well-known/jwks.json``. Instead of a password the authorize page is a form that picks one of
the local users (an agent or an automation of tenant acme or globex).

ID tokens are the development tokens of :mod:`windowkeeper_tools.local.tokens` (same key, issuer,
audience and claims), so the local gateway accepts them as it accepts ``windowkeeper token``'s.

Endpoints answer as Cognito's do: RFC 6749 errors (``{"error": "invalid_grant", ...}``, 400) from
the token endpoint; an unknown client or redirect URI gets an error page, never a redirect.
Codes live five minutes and are single-use; refresh tokens thirty days (the template's values).
The provider takes ``now`` (epoch seconds) from its HTTP edge, :meth:`LocalOpenIdProvider.routes`.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from jwt.algorithms import RSAAlgorithm

from windowkeeper_tools.local.apigw import HttpRequest, HttpResponse
from windowkeeper_tools.local.tokens import (
    ALGORITHM,
    KEY_ID,
    LOCAL_AUDIENCE,
    LOCAL_ISSUER,
    LocalKeys,
    development_claims,
    mint,
)

CLIENT_ID = LOCAL_AUDIENCE  # as with Cognito, the ID token's audience is the app client id
SCOPES = ("openid", "email", "profile")
CODE_TTL = timedelta(minutes=5)
TOKEN_TTL = timedelta(minutes=60)
REFRESH_TTL = timedelta(days=30)

AUTHORIZE_PATH = "/oauth2/authorize"
TOKEN_PATH = "/oauth2/token"
REVOKE_PATH = "/oauth2/revoke"
LOGOUT_PATH = "/logout"
DISCOVERY_PATH = "/.well-known/openid-configuration"
JWKS_PATH = "/.well-known/jwks.json"
Route = Callable[[HttpRequest], HttpResponse]
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


@dataclass(frozen=True)
class LocalUser:
    subject: str
    name: str
    email: str
    tenant_id: str
    human: bool
    automation_kind: str | None = None

    @property
    def role(self) -> str:
        return "agent" if self.human else f"automation ({self.automation_kind})"


# The people and machines of the two local tenants (config/accounts.example.json).
LOCAL_USERS: tuple[LocalUser, ...] = (
    LocalUser("agent-1", "Ana Ortiz", "ana.ortiz@acme.example", "acme", human=True),
    LocalUser("agent-2", "Ben Walsh", "ben.walsh@acme.example", "acme", human=True),
    LocalUser("bot-1", "Acme support bot", "bot@acme.example", "acme", human=False, automation_kind="bot"),
    LocalUser("agent-9", "Gus Lindqvist", "gus.lindqvist@globex.example", "globex", human=True),
)


class OAuthError(Exception):
    """An RFC 6749 error: ``error`` is the machine-readable code, the message the description."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.status = status


@dataclass(frozen=True)
class _PendingCode:
    user: LocalUser
    client_id: str
    redirect_uri: str
    code_challenge: str
    scope: str
    nonce: str | None
    expires_at: float


@dataclass(frozen=True)
class _RefreshGrant:
    user: LocalUser
    client_id: str
    scope: str
    expires_at: float


def s256(verifier: str) -> str:
    """The PKCE S256 challenge of ``verifier``: base64url(sha256(verifier)), unpadded."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class LocalOpenIdProvider:
    """Codes and refresh tokens in memory (a restart signs everyone out, as a dev server may)."""

    def __init__(self, keys: LocalKeys, base_url: str, users: tuple[LocalUser, ...] = LOCAL_USERS) -> None:
        self.keys = keys
        self.base_url = base_url.rstrip("/")
        self.users = {user.subject: user for user in users}
        self._codes: dict[str, _PendingCode] = {}
        self._refresh: dict[str, _RefreshGrant] = {}
        self._lock = threading.Lock()

    # -- checks shared by the endpoints ---------------------------------------------------------
    @staticmethod
    def redirect_allowed(uri: str) -> bool:
        """The console on this machine: http(s) on a loopback host, under /console/."""
        parts = urlsplit(uri)
        return (
            parts.scheme in {"http", "https"}
            and (parts.hostname or "") in _LOOPBACK
            and parts.path.startswith("/console/")
            and not parts.fragment
        )

    def _check_client(self, client_id: str) -> None:
        if client_id != CLIENT_ID:
            raise OAuthError("invalid_client", f"Unknown client_id {client_id!r}.")

    # -- authorize -------------------------------------------------------------------------------
    def check_authorize(self, params: dict[str, str]) -> None:
        """Errors to show on the page (no redirect): bad client or redirect URI, or a bad request."""
        self._check_client(params.get("client_id", ""))
        if not self.redirect_allowed(params.get("redirect_uri", "")):
            raise OAuthError("invalid_request", "redirect_uri is not a registered callback URL.")
        if params.get("response_type") != "code":
            raise OAuthError("unsupported_response_type", "Only response_type=code is supported.")
        if params.get("code_challenge_method") != "S256" or not params.get("code_challenge"):
            raise OAuthError("invalid_request", "PKCE is required: a code_challenge with method S256.")
        if "openid" not in params.get("scope", "openid").split():
            raise OAuthError("invalid_scope", "The openid scope is required.")

    def issue_code(self, params: dict[str, str], subject: str, *, now: float) -> str:
        self.check_authorize(params)
        user = self.users.get(subject)
        if user is None:
            raise OAuthError("invalid_request", f"No local user {subject!r}.")
        code = secrets.token_urlsafe(32)
        with self._lock:
            self._codes[code] = _PendingCode(
                user=user,
                client_id=params["client_id"],
                redirect_uri=params["redirect_uri"],
                code_challenge=params["code_challenge"],
                scope=params.get("scope") or " ".join(SCOPES),
                nonce=params.get("nonce") or None,
                expires_at=now + CODE_TTL.total_seconds(),
            )
        return code

    # -- token -----------------------------------------------------------------------------------
    def token(self, form: dict[str, str], *, now: float) -> dict[str, Any]:
        grant_type = form.get("grant_type", "")
        self._check_client(form.get("client_id", ""))
        if grant_type == "authorization_code":
            return self._exchange_code(form, now=now)
        if grant_type == "refresh_token":
            return self._refresh_tokens(form, now=now)
        raise OAuthError("unsupported_grant_type", f"grant_type {grant_type!r} is not supported.")

    def _exchange_code(self, form: dict[str, str], *, now: float) -> dict[str, Any]:
        code, verifier = form.get("code", ""), form.get("code_verifier", "")
        if not code or not verifier:
            raise OAuthError("invalid_request", "code and code_verifier are required.")
        with self._lock:
            # Single use whatever happens next: a replayed or intercepted code is worth nothing.
            pending = self._codes.pop(code, None)
        if pending is None:
            raise OAuthError("invalid_grant", "The code is unknown or was already used.")
        if now >= pending.expires_at:
            raise OAuthError("invalid_grant", "The code expired; sign in again.")
        if form.get("redirect_uri", "") != pending.redirect_uri or form["client_id"] != pending.client_id:
            raise OAuthError("invalid_grant", "redirect_uri or client_id differ from the authorize request.")
        if not secrets.compare_digest(s256(verifier), pending.code_challenge):
            raise OAuthError("invalid_grant", "The code_verifier does not match the code_challenge.")
        refresh_token = secrets.token_urlsafe(48)
        with self._lock:
            self._refresh[refresh_token] = _RefreshGrant(
                pending.user, pending.client_id, pending.scope, now + REFRESH_TTL.total_seconds()
            )
        answer = self._tokens(pending.user, pending.scope, pending.nonce, now=now)
        answer["refresh_token"] = refresh_token
        return answer

    def _refresh_tokens(self, form: dict[str, str], *, now: float) -> dict[str, Any]:
        with self._lock:
            grant = self._refresh.get(form.get("refresh_token", ""))
        if grant is None or now >= grant.expires_at or grant.client_id != form["client_id"]:
            raise OAuthError("invalid_grant", "The refresh token is unknown, revoked or expired.")
        # Like Cognito without rotation: new ID and access tokens, the same refresh token.
        return self._tokens(grant.user, grant.scope, None, now=now)

    def revoke(self, form: dict[str, str]) -> None:
        self._check_client(form.get("client_id", ""))
        with self._lock:
            self._refresh.pop(form.get("token", ""), None)

    def _tokens(self, user: LocalUser, scope: str, nonce: str | None, *, now: float) -> dict[str, Any]:
        claims = development_claims(
            subject=user.subject,
            tenant_id=user.tenant_id,
            human=user.human,
            automation_kind=user.automation_kind,
            ttl=TOKEN_TTL,
            now=now,
            name=user.name,
        )
        claims["email"] = user.email
        if nonce:
            claims["nonce"] = nonce
        access = {k: v for k, v in claims.items() if k not in {"aud", "name", "email", "nonce"}}
        access.update(token_use="access", client_id=CLIENT_ID, scope=scope)
        return {
            "id_token": mint(self.keys, claims),
            "access_token": mint(self.keys, access),
            "token_type": "Bearer",
            "expires_in": int(TOKEN_TTL.total_seconds()),
        }

    # -- discovery -------------------------------------------------------------------------------
    def discovery(self) -> dict[str, Any]:
        return {
            # The issuer the gateway checks (the tokens' iss); the endpoints are this server's.
            "issuer": LOCAL_ISSUER,
            "authorization_endpoint": self.base_url + AUTHORIZE_PATH,
            "token_endpoint": self.base_url + TOKEN_PATH,
            "revocation_endpoint": self.base_url + REVOKE_PATH,
            "end_session_endpoint": self.base_url + LOGOUT_PATH,
            "jwks_uri": self.base_url + JWKS_PATH,
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "code_challenge_methods_supported": ["S256"],
            "scopes_supported": list(SCOPES),
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": [ALGORITHM],
            "token_endpoint_auth_methods_supported": ["none"],
        }

    def jwks(self) -> dict[str, Any]:
        jwk: dict[str, Any] = json.loads(RSAAlgorithm.to_jwk(_load_public(self.keys)))
        jwk.update(kid=KEY_ID, alg=ALGORITHM, use="sig")
        return {"keys": [jwk]}

    # -- HTTP edge -------------------------------------------------------------------------------
    def routes(self, clock: Callable[[], float] = time.time) -> dict[str, Route]:
        """The gateway's local routes; ``clock`` is read once per request, here at the edge."""
        return {
            AUTHORIZE_PATH: lambda request: self._http_authorize(request, clock()),
            TOKEN_PATH: lambda request: self._http_token(request, clock()),
            REVOKE_PATH: self._http_revoke,
            LOGOUT_PATH: self._http_logout,
            DISCOVERY_PATH: lambda _request: _json(200, self.discovery()),
            JWKS_PATH: lambda _request: _json(200, self.jwks()),
        }

    def _http_authorize(self, request: HttpRequest, now: float) -> HttpResponse:
        if request.method == "GET":
            params = dict(parse_qsl(request.raw_query))
            try:
                self.check_authorize(params)
            except OAuthError as error:
                return _error_page("Cannot sign in", error)
            return _page(200, "Sign in to Windowkeeper (local)", self._picker(params))
        if request.method != "POST":
            return _json(405, {"error": "invalid_request", "error_description": "GET or POST only."})
        form = _form(request)
        subject = form.pop("user", "")
        try:
            code = self.issue_code(form, subject, now=now)
        except OAuthError as error:
            return _error_page("Cannot sign in", error)
        query = {"code": code, **({"state": form["state"]} if form.get("state") else {})}
        return _redirect(f"{form['redirect_uri']}?{urlencode(query)}")

    def _picker(self, params: dict[str, str]) -> str:
        hidden = "".join(
            f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
            for k, v in params.items()
        )
        choices = "".join(
            f'<li><label><input type="radio" name="user" value="{html.escape(u.subject)}"'
            f"{' checked' if index == 0 else ''}> {html.escape(u.name)} "
            f"<small>({html.escape(u.subject)}, {html.escape(u.role)}, "
            f"tenant {html.escape(u.tenant_id)})</small>"
            "</label></li>"
            for index, u in enumerate(self.users.values())
        )
        return (
            "<p>Local stand-in for the Cognito hosted UI: pick who you are (no password).</p>"
            f'<form method="post" action="{AUTHORIZE_PATH}">{hidden}'
            f'<fieldset><legend>Sign in as</legend><ul class="users">{choices}</ul></fieldset>'
            '<button type="submit">Sign in</button></form>'
        )

    def _http_token(self, request: HttpRequest, now: float) -> HttpResponse:
        if request.method != "POST":
            return _json(405, {"error": "invalid_request", "error_description": "POST a form here."})
        try:
            return _json(200, self.token(_form(request), now=now))
        except OAuthError as error:
            return _json(error.status, {"error": error.error, "error_description": str(error)})

    def _http_revoke(self, request: HttpRequest) -> HttpResponse:
        if request.method != "POST":
            return _json(405, {"error": "invalid_request", "error_description": "POST a form to revoke."})
        try:
            self.revoke(_form(request))
        except OAuthError as error:
            return _json(error.status, {"error": error.error, "error_description": str(error)})
        return HttpResponse(200, [("Cache-Control", "no-store")])

    def _http_logout(self, request: HttpRequest) -> HttpResponse:
        # No session cookie to end here (every sign-in shows the picker); check and send back.
        params = dict(parse_qsl(request.raw_query))
        try:
            self._check_client(params.get("client_id", ""))
        except OAuthError as error:
            return _page(error.status, "Cannot sign out", f"<p>{html.escape(str(error))}</p>")
        target = params.get("logout_uri", "")
        if not self.redirect_allowed(target):
            return _page(400, "Cannot sign out", "<p>logout_uri is not a registered sign-out URL.</p>")
        return _redirect(target)


def _error_page(title: str, error: OAuthError) -> HttpResponse:
    return _page(error.status, title, f"<p>{html.escape(str(error))} ({html.escape(error.error)})</p>")


def _load_public(keys: LocalKeys) -> Any:
    from cryptography.hazmat.primitives import serialization

    return serialization.load_pem_public_key(keys.public_pem)


def _form(request: HttpRequest) -> dict[str, str]:
    return dict(parse_qsl(request.body.decode("utf-8", errors="replace"), keep_blank_values=True))


def _json(status: int, body: dict[str, Any]) -> HttpResponse:
    return HttpResponse(
        status,
        [("Content-Type", "application/json"), ("Cache-Control", "no-store")],
        json.dumps(body).encode("utf-8"),
    )


def _redirect(location: str) -> HttpResponse:
    return HttpResponse(302, [("Location", location), ("Cache-Control", "no-store")])


def _page(status: int, title: str, body: str) -> HttpResponse:
    document = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title>"
        "<style>body{font:16px system-ui,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem}"
        "ul.users{list-style:none;padding:0}li{margin:.5rem 0}small{color:#555}"
        "button{font:inherit;padding:.4rem 1.2rem;margin-top:.5rem}</style></head>"
        f"<body><h1>{html.escape(title)}</h1>{body}</body></html>"
    )
    return HttpResponse(
        status,
        [("Content-Type", "text/html; charset=utf-8"), ("Cache-Control", "no-store")],
        document.encode("utf-8"),
    )
