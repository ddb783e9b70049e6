"""What the local stack needs from ``infra/template.yaml``: functions, HTTP routes, schedules.

The SAM template is the one definition of the API: the gateway routes exactly the ``HttpApi``
events declared there (path, method, authorizer) to the function whose ``Handler`` they belong to,
so a route added to the template works locally without a second list.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from samtranslator.yaml_helper import yaml_parse

SERVERLESS_FUNCTION = "AWS::Serverless::Function"
SERVERLESS_HTTP_API = "AWS::Serverless::HttpApi"
IMPLICIT_HTTP_API = "ServerlessHttpApi"
NO_AUTHORIZER = "NONE"
DEFAULT_TIMEOUT_SECONDS = 3
DEFAULT_MEMORY_MB = 128


class TemplateError(ValueError):
    """The template lacks something the local stack needs."""


@dataclass(frozen=True)
class FunctionDef:
    logical_id: str
    handler: str  # "module.function", as Lambda's Handler property
    code_dir: Path
    timeout_seconds: int = DEFAULT_TIMEOUT_SECONDS
    memory_mb: int = DEFAULT_MEMORY_MB

    @property
    def module(self) -> str:
        return self.handler.rsplit(".", 1)[0]

    @property
    def attribute(self) -> str:
        return self.handler.rsplit(".", 1)[1]


@dataclass(frozen=True)
class RouteDef:
    method: str  # upper case, or "ANY"
    path: str  # "/v1/contacts/{channel}/{account_id}/{contact_id}", "/{proxy+}"
    function: str  # logical id
    authorizer: str | None  # None: public route
    segments: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "segments", tuple(s for s in self.path.split("/") if s))

    @property
    def route_key(self) -> str:
        return f"{self.method} {self.path}"

    def match(self, method: str, path: str) -> dict[str, str] | None:
        """Path parameters when this route serves ``method path``, else None."""
        if self.method not in {"ANY", method.upper()}:
            return None
        parts = [p for p in path.split("/") if p]
        params: dict[str, str] = {}
        for index, segment in enumerate(self.segments):
            if segment.startswith("{") and segment.endswith("+}"):
                if index >= len(parts):
                    return None
                params[segment[1:-2]] = "/".join(parts[index:])
                return params
            if index >= len(parts):
                return None
            if segment.startswith("{") and segment.endswith("}"):
                params[segment[1:-1]] = parts[index]
            elif segment != parts[index]:
                return None
        return params if len(parts) == len(self.segments) else None

    def specificity(self) -> tuple[int, int, int, tuple[int, ...]]:
        """Sort key, most specific first: API Gateway prefers literal paths, then path variables,
        then greedy variables, and an exact method over ANY."""
        greedy = int(any(s.endswith("+}") for s in self.segments))
        variables = tuple(int(s.startswith("{")) for s in self.segments)
        return (greedy, sum(variables), int(self.method == "ANY"), variables)


@dataclass(frozen=True)
class ScheduledInvocation:
    """A function's ``Schedule``/``ScheduleV2`` event (the minute sweep)."""

    function: str
    every_seconds: float
    input: dict[str, Any]


@dataclass(frozen=True)
class AuthorizerDef:
    name: str
    issuer: Any = None
    audience: Any = None


@dataclass
class TemplateModel:
    functions: dict[str, FunctionDef]
    routes: list[RouteDef]
    schedules: list[ScheduledInvocation]
    authorizers: dict[str, AuthorizerDef]

    def resolve(self, method: str, path: str) -> tuple[RouteDef, dict[str, str]] | None:
        for route in sorted(self.routes, key=RouteDef.specificity):
            params = route.match(method, path)
            if params is not None:
                return route, params
        return None

    def function_by_module(self, module: str) -> FunctionDef | None:
        return next((f for f in self.functions.values() if f.module == module), None)


_RATE = re.compile(r"^rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)$")
_RATE_SECONDS = {"minute": 60, "minutes": 60, "hour": 3600, "hours": 3600, "day": 86400, "days": 86400}


def _rate_seconds(expression: str) -> float | None:
    match = _RATE.match(expression.strip())
    return float(int(match.group(1)) * _RATE_SECONDS[match.group(2)]) if match else None


def _literal(value: Any) -> Any:
    """Plain values pass; intrinsic functions (``{"Ref": ...}``) are unresolvable here."""
    if isinstance(value, dict) and len(value) == 1 and next(iter(value)).startswith(("Ref", "Fn::")):
        return None
    return value


def load_template(path: Path) -> TemplateModel:
    if not path.exists():
        raise TemplateError(f"{path} does not exist")
    document: dict[str, Any] = yaml_parse(path.read_text(encoding="utf-8"))
    return parse_template(document, path.parent)


def parse_template(document: dict[str, Any], base_dir: Path) -> TemplateModel:
    resources: dict[str, Any] = document.get("Resources") or {}
    globals_ = document.get("Globals") or {}
    function_globals: dict[str, Any] = globals_.get("Function") or {}
    api_globals: dict[str, Any] = globals_.get("HttpApi") or {}

    def default_authorizer(api_properties: dict[str, Any]) -> str | None:
        auth = api_properties.get("Auth") or api_globals.get("Auth") or {}
        value = _literal(auth.get("DefaultAuthorizer"))
        return str(value) if value else None

    apis: dict[str, str | None] = {IMPLICIT_HTTP_API: default_authorizer({})}
    authorizers: dict[str, AuthorizerDef] = {}
    for logical_id, resource in resources.items():
        if resource.get("Type") == SERVERLESS_HTTP_API:
            properties = resource.get("Properties") or {}
            apis[logical_id] = default_authorizer(properties)
            declared = ((properties.get("Auth") or {}).get("Authorizers")) or {}
            for name, spec in declared.items():
                jwt_config = (spec or {}).get("JwtConfiguration") or {}
                authorizers[name] = AuthorizerDef(
                    name=name,
                    issuer=_literal(jwt_config.get("issuer")),
                    audience=_literal(jwt_config.get("audience")),
                )

    functions: dict[str, FunctionDef] = {}
    routes: list[RouteDef] = []
    schedules: list[ScheduledInvocation] = []
    for logical_id, resource in resources.items():
        if resource.get("Type") != SERVERLESS_FUNCTION:
            continue
        properties = {**function_globals, **(resource.get("Properties") or {})}
        handler = properties.get("Handler")
        code_uri = _literal(properties.get("CodeUri"))
        if not isinstance(handler, str) or not isinstance(code_uri, str):
            continue  # image or inline functions cannot run in-process
        functions[logical_id] = FunctionDef(
            logical_id=logical_id,
            handler=handler,
            code_dir=(base_dir / code_uri).resolve(),
            timeout_seconds=int(_literal(properties.get("Timeout")) or DEFAULT_TIMEOUT_SECONDS),
            memory_mb=int(_literal(properties.get("MemorySize")) or DEFAULT_MEMORY_MB),
        )
        for event in (properties.get("Events") or {}).values():
            event_type = event.get("Type")
            event_properties = event.get("Properties") or {}
            if event_type == "HttpApi":
                api_ref = event_properties.get("ApiId")
                api_id = api_ref.get("Ref") if isinstance(api_ref, dict) else IMPLICIT_HTTP_API
                authorizer = (event_properties.get("Auth") or {}).get("Authorizer") or apis.get(str(api_id))
                routes.append(
                    RouteDef(
                        method=str(event_properties.get("Method", "ANY"))
                        .upper()
                        .replace("X-AMAZON-APIGATEWAY-ANY-METHOD", "ANY"),
                        path=str(event_properties.get("Path", "/{proxy+}")),
                        function=logical_id,
                        authorizer=None if authorizer in (None, NO_AUTHORIZER) else str(authorizer),
                    )
                )
            elif event_type in {"Schedule", "ScheduleV2"}:
                every = _rate_seconds(
                    str(
                        _literal(
                            event_properties.get("Schedule") or event_properties.get("ScheduleExpression")
                        )
                        or ""
                    )
                )
                raw_input = _literal(event_properties.get("Input"))
                if every is None:
                    continue
                parsed = json.loads(raw_input) if isinstance(raw_input, str) else {}
                schedules.append(ScheduledInvocation(function=logical_id, every_seconds=every, input=parsed))
    return TemplateModel(functions=functions, routes=routes, schedules=schedules, authorizers=authorizers)
