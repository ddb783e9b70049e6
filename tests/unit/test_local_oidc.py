"""The local OpenID provider the console signs in with: PKCE code exchange, refresh, logout,
discovery, and tokens the local gateway accepts like any development token."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import time_machine

from windowkeeper_tools.local.apigw import HttpRequest, HttpResponse
from windowkeeper_tools.local.oidc import CLIENT_ID, LocalOpenIdProvider, s256
from windowkeeper_tools.local.tokens import LOCAL_ISSUER, LocalKeys, verify

NOW = 1_795_000_000.0  # 2026-11-18, the suite's fixed instant (never the wall clock)
BASE = "http://127.0.0.1:8787"
CONSOLE = f"{BASE}/console/"
VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> LocalKeys:
    return LocalKeys.load_or_create(tmp_path_factory.mktemp("state"))


@pytest.fixture
def provider(keys: LocalKeys) -> LocalOpenIdProvider:
    return LocalOpenIdProvider(keys, BASE)


def _call(
    provider: LocalOpenIdProvider, method: str, path: str, *, query: str = "", form: Any = None
) -> HttpResponse:
    body = urlencode(form).encode() if form is not None else b""
    headers = [("Content-Type", "application/x-www-form-urlencoded")] if form is not None else []
    return provider.routes(clock=lambda: NOW)[path](HttpRequest(method, path, query, headers, body))


def _verify_at_now(keys: LocalKeys, token: str) -> dict[str, Any]:
    """The gateway's check, with its clock at the suite's NOW."""
    with time_machine.travel(NOW, tick=False):
        return verify(keys, token)


def _authorize_params(**overrides: str) -> dict[str, str]:
    params = {
        "client_id": CLIENT_ID,
        "response_type": "code",
        "redirect_uri": CONSOLE,
        "scope": "openid email profile",
        "state": "st-123",
        "code_challenge": s256(VERIFIER),
        "code_challenge_method": "S256",
    }
    return {**params, **overrides}


def _sign_in(provider: LocalOpenIdProvider, user: str = "agent-1") -> str:
    response = _call(provider, "POST", "/oauth2/authorize", form={**_authorize_params(), "user": user})
    assert response.status == 302
    location = urlsplit(dict(response.headers)["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == CONSOLE
    query = parse_qs(location.query)
    assert query["state"] == ["st-123"]
    return query["code"][0]


def _exchange(provider: LocalOpenIdProvider, code: str, verifier: str = VERIFIER) -> HttpResponse:
    form = {
        "grant_type": "authorization_code",
        "client_id": CLIENT_ID,
        "code": code,
        "redirect_uri": CONSOLE,
        "code_verifier": verifier,
    }
    return _call(provider, "POST", "/oauth2/token", form=form)


def test_s256_matches_the_rfc_7636_example() -> None:
    assert s256(VERIFIER) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_authorize_page_offers_the_local_users_of_both_tenants(provider: LocalOpenIdProvider) -> None:
    response = _call(provider, "GET", "/oauth2/authorize", query=urlencode(_authorize_params()))
    assert response.status == 200
    page = response.body.decode()
    assert 'value="agent-1"' in page and "tenant acme" in page and "tenant globex" in page
    assert "automation (bot)" in page


@pytest.mark.parametrize(
    ("override", "error"),
    [
        ({"client_id": "someone-else"}, "invalid_client"),
        ({"redirect_uri": "https://evil.example/console/"}, "invalid_request"),
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"response_type": "token"}, "unsupported_response_type"),
    ],
)
def test_authorize_refuses_on_the_page_without_redirecting(
    provider: LocalOpenIdProvider, override: dict[str, str], error: str
) -> None:
    response = _call(provider, "GET", "/oauth2/authorize", query=urlencode(_authorize_params(**override)))
    assert response.status == 400
    assert "Location" not in dict(response.headers)
    assert error in response.body.decode()


def test_code_with_the_right_verifier_gives_tokens_the_gateway_accepts(
    provider: LocalOpenIdProvider, keys: LocalKeys
) -> None:
    response = _exchange(provider, _sign_in(provider, "agent-9"))
    assert response.status == 200, response.body
    answer = json.loads(response.body)
    assert answer["token_type"] == "Bearer" and answer["expires_in"] == 3600 and answer["refresh_token"]
    claims = _verify_at_now(keys, answer["id_token"])  # the gateway's own check
    assert claims["sub"] == "agent-9"
    assert claims["custom:tenant_id"] == "globex"
    assert claims["cognito:groups"] == ["agents"]
    assert claims["iss"] == LOCAL_ISSUER and claims["aud"] == CLIENT_ID
    assert claims["exp"] == int(NOW) + 3600


def test_wrong_verifier_is_invalid_grant(provider: LocalOpenIdProvider) -> None:
    response = _exchange(provider, _sign_in(provider), verifier="x" * 43)
    assert response.status == 400
    assert json.loads(response.body)["error"] == "invalid_grant"


def test_code_is_single_use(provider: LocalOpenIdProvider) -> None:
    code = _sign_in(provider)
    assert _exchange(provider, code).status == 200
    again = _exchange(provider, code)
    assert again.status == 400
    assert json.loads(again.body)["error"] == "invalid_grant"


def test_code_expires_after_five_minutes(provider: LocalOpenIdProvider) -> None:
    code = _sign_in(provider)
    form = {"grant_type": "authorization_code", "client_id": CLIENT_ID, "code": code}
    form |= {"redirect_uri": CONSOLE, "code_verifier": VERIFIER}
    late = provider.routes(clock=lambda: NOW + 301)["/oauth2/token"](
        HttpRequest("POST", "/oauth2/token", "", [], urlencode(form).encode())
    )
    assert late.status == 400
    assert "expired" in json.loads(late.body)["error_description"]


def test_refresh_gives_new_tokens_until_revoked(provider: LocalOpenIdProvider, keys: LocalKeys) -> None:
    refresh_token = json.loads(_exchange(provider, _sign_in(provider)).body)["refresh_token"]
    form = {"grant_type": "refresh_token", "client_id": CLIENT_ID, "refresh_token": refresh_token}
    refreshed = _call(provider, "POST", "/oauth2/token", form=form)
    assert refreshed.status == 200
    assert _verify_at_now(keys, json.loads(refreshed.body)["id_token"])["custom:tenant_id"] == "acme"
    assert (
        _call(
            provider, "POST", "/oauth2/revoke", form={"client_id": CLIENT_ID, "token": refresh_token}
        ).status
        == 200
    )
    refused = _call(provider, "POST", "/oauth2/token", form=form)
    assert (refused.status, json.loads(refused.body)["error"]) == (400, "invalid_grant")


def test_unknown_grant_type_is_named(provider: LocalOpenIdProvider) -> None:
    form = {"grant_type": "password", "client_id": CLIENT_ID}
    response = _call(provider, "POST", "/oauth2/token", form=form)
    assert (response.status, json.loads(response.body)["error"]) == (400, "unsupported_grant_type")


def test_logout_sends_back_only_to_the_console(provider: LocalOpenIdProvider) -> None:
    ok = _call(provider, "GET", "/logout", query=urlencode({"client_id": CLIENT_ID, "logout_uri": CONSOLE}))
    assert (ok.status, dict(ok.headers)["Location"]) == (302, CONSOLE)
    bad = _call(
        provider,
        "GET",
        "/logout",
        query=urlencode({"client_id": CLIENT_ID, "logout_uri": "https://x.example/"}),
    )
    assert bad.status == 400


def test_discovery_and_jwks_describe_this_provider(provider: LocalOpenIdProvider, keys: LocalKeys) -> None:
    discovery = json.loads(_call(provider, "GET", "/.well-known/openid-configuration").body)
    assert discovery["issuer"] == LOCAL_ISSUER
    assert discovery["token_endpoint"] == f"{BASE}/oauth2/token"
    assert discovery["code_challenge_methods_supported"] == ["S256"]
    jwks = json.loads(_call(provider, "GET", "/.well-known/jwks.json").body)
    assert [(k["kid"], k["kty"], k["alg"]) for k in jwks["keys"]] == [
        ("windowkeeper-local-1", "RSA", "RS256")
    ]
