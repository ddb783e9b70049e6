"""The local gateway turns HTTP requests into API Gateway HTTP API v2 events as AWS does, routes
them as the template declares, and enforces the JWT authorizer."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from windowkeeper.auth import principal_from_event
from windowkeeper_tools.local.apigw import HttpRequest, http_api_event, lambda_result_to_response
from windowkeeper_tools.local.gateway import Gateway
from windowkeeper_tools.local.template import TemplateModel, parse_template
from windowkeeper_tools.local.tokens import LocalKeys, development_claims, flatten_claims, mint, parse_ttl

SAM_DOCUMENT: dict[str, Any] = {
    "Globals": {"Function": {"Timeout": 10, "MemorySize": 512}},
    "Resources": {
        "HttpApi": {
            "Type": "AWS::Serverless::HttpApi",
            "Properties": {
                "Auth": {
                    "DefaultAuthorizer": "CognitoJwt",
                    "Authorizers": {
                        "CognitoJwt": {
                            "IdentitySource": "$request.header.Authorization",
                            "JwtConfiguration": {"issuer": {"Fn::Sub": "https://cognito"}, "audience": ["x"]},
                        }
                    },
                }
            },
        },
        "WebhookFunction": {
            "Type": "AWS::Serverless::Function",
            "Properties": {
                "CodeUri": "../functions/webhook/",
                "Handler": "webhook_app.handler",
                "Events": {
                    "Verify": {
                        "Type": "HttpApi",
                        "Properties": {
                            "ApiId": {"Ref": "HttpApi"},
                            "Path": "/webhook",
                            "Method": "GET",
                            "Auth": {"Authorizer": "NONE"},
                        },
                    },
                    "Receive": {
                        "Type": "HttpApi",
                        "Properties": {
                            "ApiId": {"Ref": "HttpApi"},
                            "Path": "/webhook",
                            "Method": "POST",
                            "Auth": {"Authorizer": "NONE"},
                        },
                    },
                },
            },
        },
        "SendFunction": {
            "Type": "AWS::Serverless::Function",
            "Properties": {
                "CodeUri": "../functions/send/",
                "Handler": "send_app.handler",
                "Timeout": 15,
                "Events": {
                    "Contact": {
                        "Type": "HttpApi",
                        "Properties": {
                            "ApiId": {"Ref": "HttpApi"},
                            "Path": "/v1/contacts/{channel}/{account_id}/{contact_id}",
                            "Method": "GET",
                        },
                    },
                    "Messages": {
                        "Type": "HttpApi",
                        "Properties": {
                            "ApiId": {"Ref": "HttpApi"},
                            "Path": "/v1/contacts/{channel}/{account_id}/{contact_id}/messages",
                            "Method": "GET",
                        },
                    },
                    "Check": {
                        "Type": "HttpApi",
                        "Properties": {
                            "ApiId": {"Ref": "HttpApi"},
                            "Path": "/v1/messages/check",
                            "Method": "POST",
                        },
                    },
                    "MessageById": {
                        "Type": "HttpApi",
                        "Properties": {
                            "ApiId": {"Ref": "HttpApi"},
                            "Path": "/v1/messages/{message_id}",
                            "Method": "ANY",
                        },
                    },
                },
            },
        },
        "SchedulerFunction": {
            "Type": "AWS::Serverless::Function",
            "Properties": {
                "CodeUri": "../functions/scheduler/",
                "Handler": "scheduler_app.handler",
                "Events": {
                    "Sweep": {
                        "Type": "ScheduleV2",
                        "Properties": {"ScheduleExpression": "rate(1 minute)", "Input": '{"kind": "sweep"}'},
                    }
                },
            },
        },
    },
}


@pytest.fixture
def template() -> TemplateModel:
    return parse_template(SAM_DOCUMENT, Path("/repo/infra"))


class RecordingPool:
    """Stands in for the function pool: records the event each function got."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def get(self, logical_id: str) -> Any:
        pool = self

        class _Function:
            def invoke(self, event: dict[str, Any]) -> Any:
                pool.calls.append((logical_id, event))
                return {
                    "statusCode": 200,
                    "headers": {"Content-Type": "application/json"},
                    "body": '{"ok": true}',
                }

        return _Function()


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> LocalKeys:
    return LocalKeys.load_or_create(tmp_path_factory.mktemp("state"))


@pytest.fixture
def gateway(template: TemplateModel, keys: LocalKeys) -> tuple[Gateway, RecordingPool]:
    pool = RecordingPool()
    return Gateway(template=template, functions=pool, keys=keys), pool


def agent_token(keys: LocalKeys, **overrides: Any) -> str:
    claims = development_claims(subject="agent-1", tenant_id="acme", human=True)
    claims.update(overrides)
    return mint(keys, claims)


def request(
    method: str,
    path: str,
    *,
    query: str = "",
    headers: list[tuple[str, str]] | None = None,
    body: bytes = b"",
) -> HttpRequest:
    return HttpRequest(
        method=method,
        raw_path=path,
        raw_query=query,
        headers=headers or [],
        body=body,
        source_ip="192.0.2.10",
    )


# -- template ---------------------------------------------------------------------------------


def test_template_routes_carry_function_handler_and_authorizer(template: TemplateModel) -> None:
    keys = {(r.route_key, r.function, r.authorizer) for r in template.routes}
    assert ("GET /webhook", "WebhookFunction", None) in keys
    assert ("POST /v1/messages/check", "SendFunction", "CognitoJwt") in keys
    send = template.functions["SendFunction"]
    assert (send.module, send.attribute, send.timeout_seconds, send.memory_mb) == (
        "send_app",
        "handler",
        15,
        512,
    )
    assert send.code_dir == Path("/repo/functions/send")
    assert [(s.function, s.every_seconds, s.input) for s in template.schedules] == [
        ("SchedulerFunction", 60.0, {"kind": "sweep"})
    ]


def test_literal_route_wins_over_path_variable(template: TemplateModel) -> None:
    route, params = template.resolve("POST", "/v1/messages/check") or (None, None)
    assert route is not None and route.path == "/v1/messages/check" and params == {}
    route, params = template.resolve("DELETE", "/v1/messages/m-42") or (None, None)
    assert route is not None and route.method == "ANY" and params == {"message_id": "m-42"}


def test_path_parameters_are_extracted_and_extra_segments_do_not_match(template: TemplateModel) -> None:
    resolved = template.resolve("GET", "/v1/contacts/whatsapp/3333/447700900123/messages")
    assert resolved is not None
    route, params = resolved
    assert route.path.endswith("/messages")
    assert params == {"channel": "whatsapp", "account_id": "3333", "contact_id": "447700900123"}
    assert template.resolve("GET", "/v1/contacts/whatsapp/3333/447700900123/messages/extra") is None
    assert template.resolve("POST", "/v1/contacts/whatsapp/3333/447700900123") is None


# -- event translation ------------------------------------------------------------------------


def test_event_has_the_http_api_v2_shape() -> None:
    received = datetime(2026, 11, 19, 10, 0, 5, 123000, tzinfo=UTC)
    event = http_api_event(
        request(
            "POST",
            "/v1/messages/check",
            query="dry=1&tag=A&tag=B&empty=&name=J%C3%BCrgen",
            headers=[
                ("Content-Type", "application/json"),
                ("User-Agent", "console/1.0"),
                ("X-Trace", "one"),
                ("X-Trace", "two"),
                ("Cookie", "theme=dark; session=abc"),
                ("Host", "127.0.0.1:8787"),
            ],
            body='{"text": "Grüße"}'.encode(),
        ),
        route_key="POST /v1/messages/check",
        path_parameters=None,
        claims={"sub": "agent-1"},
        request_id="req-1",
        received_at=received,
    )
    assert event["version"] == "2.0"
    assert event["routeKey"] == "POST /v1/messages/check"
    assert event["rawPath"] == "/v1/messages/check"
    assert event["rawQueryString"] == "dry=1&tag=A&tag=B&empty=&name=J%C3%BCrgen"
    assert event["queryStringParameters"] == {"dry": "1", "tag": "A,B", "empty": "", "name": "Jürgen"}
    assert event["headers"]["x-trace"] == "one,two"
    assert "cookie" not in event["headers"]
    assert event["cookies"] == ["theme=dark", "session=abc"]
    assert event["headers"]["content-type"] == "application/json"
    assert "pathParameters" not in event
    http = event["requestContext"]["http"]
    assert http == {
        "method": "POST",
        "path": "/v1/messages/check",
        "protocol": "HTTP/1.1",
        "sourceIp": "192.0.2.10",
        "userAgent": "console/1.0",
    }
    context = event["requestContext"]
    assert context["requestId"] == "req-1"
    assert context["time"] == "19/Nov/2026:10:00:05 +0000"
    assert context["timeEpoch"] == 1795082405123
    assert context["authorizer"] == {"jwt": {"claims": {"sub": "agent-1"}, "scopes": None}}
    assert event["isBase64Encoded"] is False
    assert json.loads(event["body"]) == {"text": "Grüße"}


def test_binary_body_is_base64_encoded_and_empty_body_is_absent() -> None:
    png = b"\x89PNG\r\n\x1a\n\x00\x00"
    event = http_api_event(
        request("POST", "/upload", headers=[("Content-Type", "image/png")], body=png),
        route_key="POST /upload",
        path_parameters=None,
        claims=None,
    )
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == png
    assert "authorizer" not in event["requestContext"]
    empty = http_api_event(
        request("GET", "/webhook"), route_key="GET /webhook", path_parameters=None, claims=None
    )
    assert "body" not in empty and "queryStringParameters" not in empty


def test_webhook_body_reaches_the_function_byte_for_byte(gateway: tuple[Gateway, RecordingPool]) -> None:
    # Meta signs the raw body with escaped unicode; re-serialising would break the signature.
    raw = b'{"object":"page","entry":[{"id":"1111","messaging":[{"message":{"text":"\\u00e4\\u00f6"}}]}]}'
    gw, pool = gateway
    response = gw.handle(
        request(
            "POST",
            "/webhook",
            headers=[("Content-Type", "application/json"), ("X-Hub-Signature-256", "sha256=ab")],
            body=raw,
        )
    )
    assert response.status == 200
    function, event = pool.calls[-1]
    assert function == "WebhookFunction"
    assert event["body"].encode() == raw
    assert event["headers"]["x-hub-signature-256"] == "sha256=ab"


def test_inferred_and_explicit_lambda_responses() -> None:
    inferred = lambda_result_to_response({"status": "ok"})
    assert (inferred.status, json.loads(inferred.body)) == (200, {"status": "ok"})
    explicit = lambda_result_to_response(
        {
            "statusCode": 403,
            "body": "Forbidden",
            "headers": {"Content-Type": "text/plain"},
            "cookies": ["a=1"],
        }
    )
    assert explicit.status == 403 and explicit.body == b"Forbidden"
    assert ("Set-Cookie", "a=1") in explicit.headers
    binary = lambda_result_to_response(
        {"statusCode": 200, "body": base64.b64encode(b"\x00\x01").decode(), "isBase64Encoded": True}
    )
    assert binary.body == b"\x00\x01"


# -- authorizer -------------------------------------------------------------------------------


def test_valid_token_passes_claims_flattened_like_api_gateway(
    gateway: tuple[Gateway, RecordingPool], keys: LocalKeys
) -> None:
    gw, pool = gateway
    token = agent_token(keys)
    response = gw.handle(
        request("GET", "/v1/contacts/messenger/1111/psid-1", headers=[("Authorization", f"Bearer {token}")])
    )
    assert response.status == 200
    _, event = pool.calls[-1]
    claims = event["requestContext"]["authorizer"]["jwt"]["claims"]
    assert claims["cognito:groups"] == "[agents]"
    assert claims["custom:tenant_id"] == "acme"
    assert isinstance(claims["exp"], str)
    assert event["pathParameters"] == {"channel": "messenger", "account_id": "1111", "contact_id": "psid-1"}
    principal = principal_from_event(event)
    assert principal.is_human_agent and principal.tenant_id == "acme" and principal.subject == "agent-1"


@pytest.mark.parametrize(
    "authorization",
    ["", "Bearer", "Basic YWdlbnQ6cHc=", "Bearer not-a-jwt"],
    ids=["missing", "empty-bearer", "basic-auth", "garbage"],
)
def test_missing_or_malformed_token_is_401_like_api_gateway(
    gateway: tuple[Gateway, RecordingPool], authorization: str
) -> None:
    gw, pool = gateway
    headers = [("Authorization", authorization)] if authorization else []
    response = gw.handle(request("POST", "/v1/messages/check", headers=headers, body=b"{}"))
    assert (response.status, json.loads(response.body)) == (401, {"message": "Unauthorized"})
    assert pool.calls == []


def test_expired_foreign_audience_and_foreign_key_tokens_are_refused(
    gateway: tuple[Gateway, RecordingPool], keys: LocalKeys, tmp_path: Path
) -> None:
    gw, pool = gateway
    past = datetime.now(UTC) - timedelta(hours=10)
    expired = mint(
        keys,
        development_claims(
            subject="a", tenant_id="acme", human=True, ttl=timedelta(hours=1), now=past.timestamp()
        ),
    )
    other_audience = agent_token(keys, aud="someone-else")
    other_key = mint(
        LocalKeys.load_or_create(tmp_path / "other"),
        development_claims(subject="a", tenant_id="acme", human=True),
    )
    for token in (expired, other_audience, other_key):
        response = gw.handle(
            request(
                "GET", "/v1/contacts/messenger/1111/psid-1", headers=[("Authorization", f"Bearer {token}")]
            )
        )
        assert response.status == 401
    assert pool.calls == []


def test_automation_token_carries_its_kind(keys: LocalKeys) -> None:
    claims = flatten_claims(
        development_claims(subject="bot-1", tenant_id="acme", human=False, automation_kind="schedule")
    )
    assert claims["cognito:groups"] == "[automation]"
    assert claims["custom:automation"] == "schedule"


def test_unknown_route_is_404_and_root_redirects_to_console(gateway: tuple[Gateway, RecordingPool]) -> None:
    gw, _ = gateway
    assert gw.handle(request("GET", "/v2/nothing")).status == 404
    root = gw.handle(request("GET", "/"))
    assert root.status == 302 and ("Location", "/console/") in root.headers


def test_handler_exception_becomes_a_bare_500(template: TemplateModel, keys: LocalKeys) -> None:
    class Failing:
        def get(self, _: str) -> Any:
            class _F:
                def invoke(self, _event: dict[str, Any]) -> Any:
                    raise RuntimeError("boom")

            return _F()

    gw = Gateway(template=template, functions=Failing(), keys=keys)
    response = gw.handle(request("GET", "/webhook", query="hub.mode=subscribe"))
    assert (response.status, json.loads(response.body)) == (500, {"message": "Internal Server Error"})


def test_console_files_are_served_without_path_traversal(
    template: TemplateModel, keys: LocalKeys, tmp_path: Path
) -> None:
    console = tmp_path / "console"
    console.mkdir()
    (console / "index.html").write_text("<!doctype html><title>Console</title>")
    (tmp_path / "secret.txt").write_text("nope")
    gw = Gateway(
        template=template,
        functions=RecordingPool(),
        keys=keys,
        console_dir=console,
        console_config_js="window.X=1;",
    )
    index = gw.handle(request("GET", "/console/"))
    assert index.status == 200 and b"<title>Console</title>" in index.body
    assert ("Content-Type", "text/html; charset=utf-8") in index.headers
    assert gw.handle(request("GET", "/console/config.js")).body == b"window.X=1;"
    assert gw.handle(request("GET", "/console/../secret.txt")).status == 404


def test_ttl_parsing() -> None:
    assert parse_ttl("8h") == timedelta(hours=8)
    assert parse_ttl("30m") == timedelta(minutes=30)
    assert parse_ttl("900") == timedelta(seconds=900)
    with pytest.raises(ValueError, match="not a duration"):
        parse_ttl("soon")
