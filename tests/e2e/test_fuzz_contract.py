"""A bounded schemathesis pass over every documented operation, against the local stack.

As an agent and as a bot, each operation gets generated requests, valid by the document (positive)
and not (negative), half of them aimed at a real account and contact so that they get past the
404s into the services. Every answer must be no 5xx, a documented status, JSON, and conform to
the document's schema for that status. Reproducible: hypothesis is derandomized (the examples are
a function of the schema and the test), with no example database. Prints its figures.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.result import Ok

from tests.e2e.test_local_stack import MESSENGER_PAGE, customer_writes
from windowkeeper.policy.model import Channel
from windowkeeper_tools.local.stack import LocalStack

pytestmark = pytest.mark.e2e

DOCUMENT = Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml"
# Per operation, role and generation mode (15 x 2 x 2 x 12); WINDOWKEEPER_FUZZ_EXAMPLES=200 digs deeper.
EXAMPLES_PER_OPERATION = int(os.environ.get("WINDOWKEEPER_FUZZ_EXAMPLES", "12"))
ANONYMOUS_EXAMPLES = 3  # per operation, without a token
FUZZ_CONTACT = "fuzz-contact-1"
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
REAL = {"channel": Channel.MESSENGER.value, "account_id": MESSENGER_PAGE, "contact_id": FUZZ_CONTACT}


@dataclass
class Tally:
    cases: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    by_operation: dict[str, Counter[int]] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)


def aimed_at_a_real_contact(case: Any) -> Any:
    """The case with its channel/account/contact (path, query or body) set to the seeded ones."""
    for name, value in REAL.items():
        if case.path_parameters and name in case.path_parameters:
            case.path_parameters[name] = value
        if case.query and name in case.query:
            case.query[name] = value
        if isinstance(case.body, dict) and name in case.body:
            case.body[name] = value
    return case


def run_operation(
    operation: Any,
    mode: GenerationMode,
    call: Callable[[Any], Any],
    tally: Tally,
    examples: int = EXAMPLES_PER_OPERATION,
) -> None:
    strategy = st.tuples(operation.as_strategy(generation_mode=mode), st.booleans()).map(
        lambda pair: aimed_at_a_real_contact(pair[0]) if pair[1] else pair[0]
    )

    @settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def fuzz(case: Any) -> None:
        response = call(case)
        tally.cases += 1
        tally.statuses[response.status_code] += 1
        tally.by_operation.setdefault(operation.label, Counter())[response.status_code] += 1
        try:
            case.validate_response(response, checks=CHECKS)
        except (Exception, BaseExceptionGroup) as failure:
            tally.failures.append(
                f"{operation.label} [{mode.value}] {response.status_code}: {str(failure)[:600]}\n"
                f"    {case.as_curl_command()[:600]}"
            )

    fuzz()


def test_the_created_answers_are_as_documented(stack: LocalStack, bot_token: str) -> None:
    """What random bodies rarely reach: a follow-up and a re-engagement really created, then read."""
    customer_writes(
        stack, Channel.MESSENGER, MESSENGER_PAGE, FUZZ_CONTACT, "hello again", ago=timedelta(hours=1)
    )
    schema = schemathesis.openapi.from_path(DOCUMENT)
    headers = {"Authorization": f"Bearer {bot_token}"}

    def answer(method: str, path: str, **parts: Any) -> Any:
        case = schema[path][method].Case(**parts)
        response = case.call(base_url=stack.api_url, headers=headers, timeout=30)
        case.validate_response(response, checks=CHECKS)
        return response

    # The local stack reads the process clock, as a deployed function does.
    send_at = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
    followup = {**REAL, "send_at": send_at, "content": {"type": "text", "text": "Any news on your order?"}}
    created = answer("POST", "/v1/followups", body=followup)
    assert created.status_code == 201, created.text
    followup_id = created.json()["followup"]["followup_id"]
    assert answer("POST", "/v1/followups", body=followup).status_code == 200  # the same body: the same one
    assert (
        answer("GET", "/v1/followups/{followup_id}", path_parameters={"followup_id": followup_id}).status_code
        == 200
    )
    assert answer("GET", "/v1/followups", query=REAL).status_code == 200
    assert (
        answer(
            "DELETE", "/v1/followups/{followup_id}", path_parameters={"followup_id": followup_id}
        ).status_code
        == 200
    )

    job = {
        "channel": REAL["channel"],
        "account_id": REAL["account_id"],
        "purpose": "support",
        "content_by_path": {"free_form": {"type": "text", "text": "We are here if you need us."}},
        "contact_ids": [FUZZ_CONTACT],
    }
    started = answer("POST", "/v1/reengagements", body=job)
    assert started.status_code == 202, started.text
    job_id = started.json()["job"]["job_id"]
    assert answer("GET", "/v1/reengagements/{job_id}", path_parameters={"job_id": job_id}).status_code == 200


def test_every_operation_answers_as_documented_under_fuzzing(
    stack: LocalStack, agent_token: str, bot_token: str, capsys: pytest.CaptureFixture[str]
) -> None:
    customer_writes(stack, Channel.MESSENGER, MESSENGER_PAGE, FUZZ_CONTACT, "hi", ago=timedelta(hours=1))
    schema = schemathesis.openapi.from_path(DOCUMENT)
    results = list(schema.get_all_operations())
    operations = [result.ok() for result in results if isinstance(result, Ok)]
    assert len(operations) == len(results), "the document has operations schemathesis cannot read"
    tally = Tally()
    started = time.monotonic()
    for token in (agent_token, bot_token):
        headers = {"Authorization": f"Bearer {token}"}

        def call(case: Any, headers: dict[str, str] = headers) -> Any:
            return case.call(base_url=stack.api_url, headers=headers, timeout=30)

        for operation in operations:
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                run_operation(operation, mode, call, tally)

    def anonymous(case: Any) -> Any:
        case.headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"}
        return case.call(base_url=stack.api_url, timeout=30)

    for operation in operations:  # no token: the authorizer's 401 must be the documented one too
        run_operation(operation, GenerationMode.POSITIVE, anonymous, tally, examples=ANONYMOUS_EXAMPLES)
    seconds = time.monotonic() - started
    server_errors = sum(n for status, n in tally.statuses.items() if status >= 500)
    with capsys.disabled():  # the figures show in CI's log, even under -q
        print(
            f"\nschemathesis {schemathesis.__version__}: {tally.cases} cases over {len(operations)}"
            f" operations x 2 roles (agent, bot) x 2 modes, and without a token, in {seconds:.0f} s; "
            f"statuses {dict(sorted(tally.statuses.items()))}; "
            f"{server_errors} 5xx; {len(tally.failures)} off the document"
        )
        for label, statuses in tally.by_operation.items():
            print(f"  {label}: {dict(sorted(statuses.items()))}")
    assert len(operations) == 17
    assert tally.failures == [], "\n".join(tally.failures[:20])
    assert server_errors == 0
    assert tally.statuses[401] >= len(operations) * ANONYMOUS_EXAMPLES
