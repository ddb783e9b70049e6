"""``POST /v1/events``: customer actions and consent from a platform that receives a channel itself.

A multi-channel inbox, a BSP or a site's own chat backend already hears the customer; it tells the
gate what happened so sends are decided on the same state a webhook would keep. The caller is an
automation principal of the account's tenant (the JWT's, never the body's); each event carries its
own instant and a stable id (the caller's), so a retried or reordered request lands once and the
newest fact wins, exactly as on the webhook path (the same ``ChannelEvents`` and write).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from windowkeeper.ingest.channels.base import ChannelEvents
from windowkeeper.instants import to_ms
from windowkeeper.policy.model import Channel, ConsentScope, CustomerActionKind, Instant

MAX_EVENTS = 100

EventKind = Literal["message", "button", "follow", "unfollow", "opt_out", "opt_in", "consent_on_record"]


class CustomerEvent(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Annotated[str, Field(min_length=1, max_length=200)]  # the caller's stable id for the event
    kind: EventKind
    at: Instant  # when the customer did it (UTC, with its offset): the window runs from here
    text: Annotated[str, Field(max_length=4096)] | None = None
    display_name: Annotated[str, Field(max_length=200)] | None = None
    # opt_out / opt_in: which messages (default all). consent_on_record: the business holds
    # the customer's consent (SMS, e-mail), e.g. from a signed-up form.
    scope: ConsentScope = ConsentScope.ALL


class CustomerEventsRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    channel: Channel
    account_id: Annotated[str, Field(min_length=1, max_length=200)]
    contact_id: Annotated[str, Field(min_length=1, max_length=200)]
    events: Annotated[list[CustomerEvent], Field(min_length=1, max_length=MAX_EVENTS)]


def file_events(request: CustomerEventsRequest, out: ChannelEvents) -> None:
    """Each event as the webhook path files the same fact (ids prefixed: they are the caller's)."""
    contact = request.contact_id
    for event in request.events:
        at_ms = to_ms(event.at)
        event_id = f"api:{event.id}"
        if event.kind in ("message", "button"):
            action = CustomerActionKind.MESSAGE if event.kind == "message" else CustomerActionKind.POSTBACK
            out.customer_message(
                contact,
                at_ms=at_ms,
                event_id=event_id,
                text=event.text,
                action=action,
                display_name=event.display_name,
            )
        elif event.kind == "follow":
            out.followed(contact, at_ms=at_ms, event_id=event_id, display_name=event.display_name)
        elif event.kind == "unfollow":
            out.unfollowed(contact, at_ms=at_ms, event_id=event_id, source="api_unfollow")
        elif event.kind == "opt_out":
            out.consent(
                contact, at_ms=at_ms, event_id=event_id, opt_out=frozenset({event.scope}), source="api"
            )
        elif event.kind == "opt_in":
            out.consent(
                contact, at_ms=at_ms, event_id=event_id, opt_in=frozenset({event.scope}), source="api"
            )
        else:  # consent_on_record
            out.consent(
                contact,
                at_ms=at_ms,
                event_id=event_id,
                opt_in=frozenset({event.scope}),
                source="api_consent",
                consent_on_record=True,
            )
