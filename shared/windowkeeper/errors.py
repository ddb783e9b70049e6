"""What the domain says when it cannot do what was asked, free of any transport.

Services (sending, scheduling, contacts, "as of" answers) raise these; they never know about HTTP,
so a job, the CLI or a test can call them and read ``reason`` and ``message``. Each edge maps
them once: ``windowkeeper.http.STATUS_OF`` turns the kind into a status code for the APIs.

Every error carries a machine-readable ``reason`` (the closed vocabulary the API documents, e.g.
``unknown_contact``), a sentence a person understands, and optional context (``extra``) that the
answer carries as extra fields (a refused send carries its decision).
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base of every domain error: a reason, a sentence, optional context."""

    def __init__(self, reason: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.extra = extra


class InvalidInput(DomainError):
    """The request names something malformed or contradictory (the caller must change it)."""


class NotFound(DomainError):
    """What the request names does not exist (or is not visible to the caller)."""


class Forbidden(DomainError):
    """The caller may not act on what it names (another tenant's account, an agent-only action)."""


class Conflict(DomainError):
    """The request is well formed but the current state refuses it (a send refused by the policy,
    a follow-up already fired, the same idempotency key still running)."""


class Unprocessable(DomainError):
    """Well formed, but cannot be answered as asked (an "as of" instant older than the history
    kept, an idempotency key reused with another body)."""


class Unavailable(DomainError):
    """A dependency certainly did not do it (throttled, unreachable): retrying later is safe."""


class UpstreamFailed(DomainError):
    """A dependency answered with something we cannot act on, or may have done it without telling
    us (the send may have been delivered): the caller must not blindly retry."""
