"""Which contact a principal may act on: the tenant gate every contact-level request passes.

Shared by the send gate (``SendService``) and the contacts API (``ContactsService``) so both answer
alike: an unknown account is 404 ``unknown_account``; an account of another tenant is 403
``forbidden_tenant``, logged, counted (``TenantViolations``) and recorded under the *caller's*
tenant as one counter per caller, account and day (``ports.sending.TenantViolations``): never in
the other tenant's space, so no request can create records there; an unknown contact is 404
``unknown_contact``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import Metrics, MetricUnit

from windowkeeper import errors
from windowkeeper.accounts import AccountConfig
from windowkeeper.auth import Principal
from windowkeeper.policy.model import Channel
from windowkeeper.ports.accounts import AccountDirectory
from windowkeeper.ports.contacts import ContactReader
from windowkeeper.ports.sending import TenantViolations
from windowkeeper.store.contact_item import ContactRecord

logger = Logger(child=True)

UNKNOWN_CONTACT_MESSAGE = "This contact has never written to the account."


def audit_actor(principal: Principal, account: AccountConfig, contact_id: str) -> dict[str, Any]:
    """The "who acted, on what" fields of an ``AuditEntry`` (every kind of entry starts with them)."""
    sender = principal.sender()
    return {
        "principal_subject": principal.subject,
        "principal_kind": "human" if sender.is_human else "automation",
        "automation_kind": sender.automation.value if sender.automation else None,
        "tenant_id": principal.tenant_id,
        "account_tenant_id": account.tenant_id,
        "channel": account.channel.value,
        "account_id": account.account_id,
        "contact_id": contact_id,
    }


@dataclass(frozen=True)
class ContactAccess:
    """Loads accounts and contacts for a principal, refusing (and auditing) other tenants'."""

    accounts: AccountDirectory
    contacts: ContactReader
    violations: TenantViolations
    metrics: Metrics | None = None

    def account_for(
        self,
        principal: Principal,
        channel: Channel,
        account_id: str,
        *,
        contact_id: str | None,
        now: datetime,
    ) -> AccountConfig:
        """The account, if the principal's tenant owns it.

        ``now`` is the server's instant, read at the edge: it stamps a violation's audit and its
        expiry. Never an instant the request asks about ("as of"), which a caller controls.
        """
        account = self.accounts.get(channel, account_id)
        if account is None:
            raise errors.NotFound("unknown_account", f"There is no {channel.value} account '{account_id}'.")
        if account.tenant_id != principal.tenant_id:
            self._tenant_violation(principal, account, contact_id, now)
            raise errors.Forbidden("forbidden_tenant", "This account belongs to another tenant.")
        return account

    def contact(
        self, account: AccountConfig, contact_id: str, *, unknown_message: str = UNKNOWN_CONTACT_MESSAGE
    ) -> ContactRecord:
        """The stored contact (read strongly consistent) of an account already checked."""
        record = self.contacts.get(account.channel, account.account_id, contact_id)
        if record is None:
            raise errors.NotFound("unknown_contact", unknown_message)
        if record.tenant_id != account.tenant_id:  # defensive: never show another tenant's item
            raise errors.Forbidden("forbidden_tenant", "This contact belongs to another tenant.")
        return record

    def load(
        self,
        principal: Principal,
        channel: Channel,
        account_id: str,
        contact_id: str,
        now: datetime,
        *,
        unknown_message: str = UNKNOWN_CONTACT_MESSAGE,
    ) -> tuple[AccountConfig, ContactRecord]:
        account = self.account_for(principal, channel, account_id, contact_id=contact_id, now=now)
        return account, self.contact(account, contact_id, unknown_message=unknown_message)

    def _tenant_violation(
        self, principal: Principal, account: AccountConfig, contact_id: str | None, now: datetime
    ) -> None:
        # Counted under the caller's own tenant, one item per caller, account and day: a refused
        # request must not create records in the other tenant's space (windowkeeper.store.violation_table).
        actor = audit_actor(principal, account, contact_id or "")
        audit_id = self.violations.record(
            caller_tenant_id=principal.tenant_id,
            caller_subject=principal.subject,
            caller_kind=actor["principal_kind"],
            channel=account.channel.value,
            account_id=account.account_id,
            account_tenant_id=account.tenant_id,
            contact_id=contact_id,
            now=now,
        )
        logger.warning(
            "cross-tenant attempt refused",
            extra={
                "audit_id": audit_id,
                "channel": account.channel.value,
                "account_id": account.account_id,
                "principal": principal.subject,
            },
        )
        if self.metrics is not None:
            self.metrics.add_metric(name="TenantViolations", unit=MetricUnit.Count, value=1)
