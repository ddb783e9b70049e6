"""What the scheduler needs from the send core and the engine, as structural types.

The scheduler never decides or delivers by itself: it asks ``SendService.check`` / ``.send`` (the
send core, which runs the engine and the Graph client) and ``window_closings`` (the engine).
Typing those as Protocols keeps the scheduler's unit tests on small fakes and its production
wiring on the real objects, with mypy checking that both fit.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from windowkeeper.auth import Principal
from windowkeeper.policy.model import AccountProfile, ContactState, Decision
from windowkeeper.sending.api_models import SendRequest


class SendOutcomeLike(Protocol):
    """``windowkeeper.sending.service.SendOutcome`` as far as the scheduler reads it."""

    @property
    def status(self) -> str: ...  # "sent" | "refused" | "failed" | "unknown" (may have been delivered)

    @property
    def decision(self) -> Decision | None: ...

    @property
    def platform_message_id(self) -> str | None: ...


class SendPort(Protocol):
    def send(self, principal: Principal, request: SendRequest, now: datetime) -> SendOutcomeLike: ...

    def check(
        self, principal: Principal, request: SendRequest, *, at: datetime, now: datetime
    ) -> Decision: ...


class WindowClosingsLike(Protocol):
    """``windowkeeper.policy.engine.WindowClosings`` as far as the sweep reads it."""

    @property
    def free_form_closes_at(self) -> datetime | None: ...

    @property
    def human_agent_closes_at(self) -> datetime | None: ...


class WindowClosingsFn(Protocol):
    def __call__(self, contact: ContactState, account: AccountProfile, /) -> WindowClosingsLike: ...
