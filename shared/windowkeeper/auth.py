"""Who is calling: the authenticated principal from the API Gateway JWT authorizer's claims.

The sender of a message is this principal, never a field of the request body. In AWS the HTTP
API's JWT authorizer (Cognito user pool) has verified the token before the Lambda runs; locally
the gateway verifies a token signed with a local key and passes the same claims.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict

from windowkeeper.policy.model import AutomationKind, Sender, SenderKind

GROUPS_CLAIM = "cognito:groups"
TENANT_CLAIM = "custom:tenant_id"
AUTOMATION_KIND_CLAIM = "custom:automation"  # bot | schedule | job (automation clients only)
AGENTS_GROUP = "agents"
AUTOMATION_GROUP = "automation"


class AuthError(Exception):
    """The request carries no usable principal (answered 401/403 by the handler)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


class Principal(BaseModel):
    model_config = ConfigDict(frozen=True)

    subject: str
    tenant_id: str
    groups: frozenset[str]
    automation_kind: AutomationKind | None = None
    display_name: str | None = None

    @property
    def is_human_agent(self) -> bool:
        return AGENTS_GROUP in self.groups

    def sender(self) -> Sender:
        if self.is_human_agent:
            return Sender(kind=SenderKind.HUMAN, principal_id=self.subject)
        return Sender(
            kind=SenderKind.AUTOMATION,
            principal_id=self.subject,
            automation=self.automation_kind or AutomationKind.BOT,
        )

    @classmethod
    def system(cls, tenant_id: str, kind: AutomationKind, subject: str) -> Principal:
        """An internal principal (the scheduler acting for a tenant): always automation."""
        return cls(
            subject=subject, tenant_id=tenant_id, groups=frozenset({AUTOMATION_GROUP}), automation_kind=kind
        )


def _groups(raw: Any) -> frozenset[str]:
    """``cognito:groups`` as it reaches the function, split only where Cognito's names cannot be.

    In the JWT Cognito emits a JSON array of group names. The HTTP API JWT authorizer flattens an
    array claim into one string, ``"[agents support]"``: names joined by a space inside brackets.
    A Cognito group name may hold commas and brackets' contents but never whitespace
    (``[\\p{L}\\p{M}\\p{S}\\p{N}\\p{P}]+``), so whitespace is the only separator: a group named
    ``"support,agents"`` stays one group and makes no one an agent. A JSON array in a string
    (a direct invocation, another authorizer) is read as JSON.
    """
    if isinstance(raw, list | tuple | set | frozenset):
        return frozenset(str(g) for g in raw if str(g))
    if not isinstance(raw, str):
        return frozenset()
    text = raw.strip()
    if text.startswith("[") and text.endswith("]"):
        try:
            parsed = json.loads(text)
        except ValueError:
            text = text[1:-1]
        else:
            if isinstance(parsed, list):
                return frozenset(str(g) for g in parsed if str(g))
    return frozenset(text.split())


def principal_from_event(event: dict[str, Any]) -> Principal:
    """Read the principal from an HTTP API v2 event's ``requestContext.authorizer.jwt.claims``."""
    claims = (((event.get("requestContext") or {}).get("authorizer") or {}).get("jwt") or {}).get("claims")
    if not claims:
        raise AuthError("unauthenticated", "This endpoint needs a bearer token from the identity provider.")
    groups = _groups(claims.get(GROUPS_CLAIM))
    tenant = claims.get(TENANT_CLAIM)
    subject = claims.get("sub")
    if not subject or not tenant:
        raise AuthError("principal_incomplete", "The token has no subject or no tenant claim.")
    if not groups & {AGENTS_GROUP, AUTOMATION_GROUP}:
        raise AuthError(
            "principal_not_authorised",
            "The token's user is neither in the 'agents' nor in the 'automation' group.",
        )
    kind_claim = claims.get(AUTOMATION_KIND_CLAIM)
    automation_kind = AutomationKind(kind_claim) if kind_claim in set(AutomationKind) else None
    return Principal(
        subject=str(subject),
        tenant_id=str(tenant),
        groups=groups,
        automation_kind=automation_kind,
        display_name=claims.get("name") or claims.get("email"),
    )
