"""Engine outputs as the send path hands them to the Graph client."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from windowkeeper.policy.model import Decision, Path, RuleRef


def allowed_decision(path: Path, at: datetime, **send_fields: Any) -> Decision:
    """An allowed decision for ``path`` with the engine's ``send_fields`` (rule ``test.<path>``)."""
    return Decision(
        allowed=True,
        path=path,
        send_fields=send_fields,
        rule=RuleRef(rule_id=f"test.{path.value}", sources=("M1",), confidence="H", summary="test"),
        explanation="allowed for the test",
        decided_at=at,
        valid_until=None,
    )
