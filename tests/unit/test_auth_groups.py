"""``cognito:groups`` read the way Cognito and API Gateway deliver it: a comma is part of a name."""

from __future__ import annotations

from typing import Any

import pytest

from windowkeeper.auth import AuthError, principal_from_event


def event_with(groups: Any) -> dict[str, Any]:
    claims = {"sub": "user-1", "custom:tenant_id": "acme", "cognito:groups": groups}
    return {"requestContext": {"authorizer": {"jwt": {"claims": claims}}}}


@pytest.mark.parametrize(
    "groups",
    [
        "[support,agents]",  # HTTP API JWT authorizer: one group named "support,agents"
        ["support,agents"],  # the JWT's own JSON array
        '["support,agents"]',  # a JSON array passed on as a string
    ],
)
def test_a_group_named_support_comma_agents_makes_no_one_an_agent(groups: Any) -> None:
    with pytest.raises(AuthError) as refused:
        principal_from_event(event_with(groups))
    assert refused.value.reason == "principal_not_authorised"


@pytest.mark.parametrize(
    ("groups", "expected"),
    [
        ("[agents]", {"agents"}),
        ("[agents support,team]", {"agents", "support,team"}),  # API Gateway: space-separated
        (["agents", "support,team"], {"agents", "support,team"}),
        ('["agents", "support,team"]', {"agents", "support,team"}),
        ("agents", {"agents"}),
    ],
)
def test_groups_in_every_shape_they_arrive_in(groups: Any, expected: set[str]) -> None:
    principal = principal_from_event(event_with(groups))
    assert principal.groups == frozenset(expected)
    assert principal.is_human_agent
