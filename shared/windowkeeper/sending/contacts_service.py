"""The contacts API's domain service: window state, handover, consent, audit trail, conversations.

Free of HTTP: ``functions/send/contacts_routes.py`` parses the request, reads the clock once and
calls one method here; each method answers a JSON-ready dict or raises ``errors.DomainError``.

Tenancy is the send path's (``windowkeeper.sending.access``): an unknown account is 404
``unknown_account``; an account of another tenant is 403 ``forbidden_tenant`` and, where a contact
is named, the attempt is written to that contact's audit trail; an unknown contact is 404
``unknown_contact``.

The rules stay in the engine: the window, every path's status and the closing instants come from
``evaluate_paths`` / ``window_closings``; the owner from ``conversations.effective_owner``; the
console's state label from ``conversations.conversation_state``.
"""

from __future__ import annotations

from dataclasses import dataclass

from windowkeeper.sending.contact_commands import ContactCommands
from windowkeeper.sending.contact_views import ContactViews
from windowkeeper.sending.contacts_base import ContactRef, ThreadControl

__all__ = ["ContactRef", "ContactsService", "ThreadControl"]


@dataclass
class ContactsService(ContactViews, ContactCommands):
    """The contacts API's domain service: its views (``contact_views``) and changes (``contact_commands``)."""
