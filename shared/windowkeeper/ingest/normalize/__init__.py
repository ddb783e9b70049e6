"""Meta webhook payloads -> ``Observation``s: one per thing an event tells us about a contact.

The normaliser names what the customer did (``CustomerActionKind``: message, quick reply,
postback, reaction, referral into a thread, plugin opt-in, story reply or mention, WhatsApp call
or the customer accepting our call); whether that kind opens or renews the window on that channel
is the engine's dated rule data (``policy.engine.moves_last_action``), not decided here. Echoes of
sends (ours, other apps', Meta's inbox), deliveries, reads, statuses, marketing opt-ins, comments
(one private reply, README decision) and un-reactions are no customer window action at all.

Contacts are keyed per business account: Messenger/Instagram ``(page or IG account id, PSID or
IGSID)``; WhatsApp ``(metadata.phone_number_id, wa_id or the business-scoped user_id)``. An entry
whose account we do not know is refused here (never filed under another tenant).
"""

from __future__ import annotations

from windowkeeper.ingest.models import Envelope
from windowkeeper.ingest.normalize.common import OBJECT_CHANNEL, AccountResolver
from windowkeeper.ingest.normalize.messaging import MessagingEvents
from windowkeeper.ingest.normalize.whatsapp import WhatsAppEvents
from windowkeeper.ingest.observations import Normalized
from windowkeeper.policy.model import Channel

__all__ = ["OBJECT_CHANNEL", "AccountResolver", "normalize"]


class _Normalizer(MessagingEvents, WhatsAppEvents):
    """Both readers on one builder: a POST carries one object, but the builder is shared."""


def normalize(envelope: Envelope, resolve: AccountResolver) -> Normalized:
    """Every entry and event of one POST; refused entries and unknown kinds are reported, not raised."""
    builder = _Normalizer(resolve)
    channel = OBJECT_CHANNEL[envelope.object]
    for raw in envelope.entry:
        if channel is Channel.WHATSAPP:
            builder.whatsapp_entry(raw)
        else:
            builder.messaging_entry(envelope.object, channel, raw)
    return builder.out
