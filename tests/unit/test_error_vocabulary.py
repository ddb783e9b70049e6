"""Every 4xx the code raises carries a machine-readable reason and a sentence a person understands."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from windowkeeper.http import STATUS_OF, ErrorBody

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted(
    [*ROOT.joinpath("shared", "windowkeeper").rglob("*.py"), *ROOT.joinpath("functions").rglob("*.py")]
)
# Errors answered as 4xx/5xx, and where their (reason, message) arguments are. Domain errors
# (``windowkeeper.errors``) are raised as ``errors.<Kind>(reason, message)``; the edge's mapping
# (``http.STATUS_OF``) gives their status.
ERRORS = {"ApiError": (1, 2), "AuthError": (0, 1), "ScheduleError": (0, 1)}
DOMAIN_ERRORS = {kind.__name__: status for kind, status in STATUS_OF.items()}
REASON = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")


def api_errors() -> list[tuple[str, int, str, str]]:
    """(where, status, reason, message with ``{}`` placeholders) of every error raised in the code."""
    found: list[tuple[str, int, str, str]] = []
    for source in SOURCES:
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            if isinstance(node.func, ast.Name) and node.func.id in ERRORS:
                at_reason, at_message = ERRORS[node.func.id]
                status = node.args[0] if node.func.id == "ApiError" and node.args else ast.Constant(400)
            elif isinstance(node.func, ast.Attribute) and node.func.attr in DOMAIN_ERRORS:
                at_reason, at_message = 0, 1
                status = ast.Constant(DOMAIN_ERRORS[node.func.attr])
            else:
                continue
            if len(node.args) <= at_message or not isinstance(node.args[at_reason], ast.Constant):
                continue  # forwarded from a typed error (AuthError, ScheduleError): checked where raised
            reason, message = node.args[at_reason], node.args[at_message]
            if isinstance(message, ast.JoinedStr):
                text = "".join(str(v.value) if isinstance(v, ast.Constant) else "{}" for v in message.values)
            else:
                text = str(message.value) if isinstance(message, ast.Constant) else "{}"
            code = (
                int(status.value) if isinstance(status, ast.Constant) and isinstance(status.value, int) else 0
            )
            where = f"{source.relative_to(ROOT)}:{node.lineno}"
            found.append((where, code, str(getattr(reason, "value", "")), text))
    return found


def test_the_code_raises_api_errors() -> None:
    assert len(api_errors()) > 30


def test_the_domain_raises_domain_errors_not_http_ones() -> None:
    """Below the handlers, the code says what went wrong, not which HTTP status to answer."""
    below_the_edge = [
        where
        for where, *_ in api_errors()
        if where.startswith(("shared/windowkeeper/sending", "shared/windowkeeper/scheduling"))
        and "ApiError" in ROOT.joinpath(where.split(":")[0]).read_text(encoding="utf-8")
    ]
    assert below_the_edge == []
    domain = [where for where, *_ in api_errors() if where.startswith("shared/windowkeeper/sending")]
    assert len(domain) > 15


@pytest.mark.parametrize(("where", "status", "reason", "message"), api_errors(), ids=str)
def test_each_error_has_a_reason_code_and_a_sentence(
    where: str, status: int, reason: str, message: str
) -> None:
    assert 400 <= status <= 599, where
    assert REASON.match(reason), f"{where}: reason {reason!r} is not a snake_case code"
    first_word = message.split(" ", 1)[0]
    # A sentence: a capital, a quoted value, or the field it is about (``send_at must be...``).
    assert message[:1].isupper() or message.startswith(("'", "{", "`")) or "_" in first_word, (
        f"{where}: {message!r}"
    )
    assert message.rstrip("'\"`").endswith((".", "?")) or message.endswith("{}"), f"{where}: {message!r}"


def test_an_error_body_without_reason_or_message_cannot_be_built() -> None:
    with pytest.raises(ValueError, match="reason"):
        ErrorBody(reason="", message="A sentence.")
    with pytest.raises(ValueError, match="message"):
        ErrorBody(reason="invalid_json", message="")
