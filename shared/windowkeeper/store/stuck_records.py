"""The "check back at" kinds the due-index carries for sends that may never finish (no I/O)."""

from __future__ import annotations

from datetime import timedelta

STUCK_AFTER = timedelta(minutes=15)
CHECK_FOLLOWUP = "followup.stuck_check"
CHECK_RESULT = "reengagement.stuck_check"
CHECK_KINDS = frozenset({CHECK_FOLLOWUP, CHECK_RESULT})
