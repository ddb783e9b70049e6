"""One sender for every channel: Meta's through the Graph client, the others through theirs.

``SendService`` delivers through a ``ChannelRouter``; it picks the channel's sender (built on first
use, so a container that only ever sends on Messenger never loads another platform's client) and
hands it the account's credentials (the JSON object in the secret its ``access_token_secret_id``
names). A channel with no sender is refused locally: nothing is sent.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

from windowkeeper.accounts import AccountConfig
from windowkeeper.delivery.platform import PlatformSender, local_refusal
from windowkeeper.graph.results import DeliveryResult
from windowkeeper.policy.model import META_CHANNELS, Channel, ContactState, Content, Decision, ReasonCode


class MetaSender(Protocol):
    def send(
        self, account: AccountConfig, contact: ContactState, decision: Decision, content: Content
    ) -> DeliveryResult: ...


class ChannelRouter:
    def __init__(
        self,
        graph: MetaSender,
        credentials: Callable[[AccountConfig], Mapping[str, Any]],
        senders: Mapping[Channel, Callable[[], PlatformSender]],
    ) -> None:
        self.graph = graph
        self._credentials = credentials
        self._factories = dict(senders)
        self._built: dict[Channel, PlatformSender] = {}

    def send(
        self, account: AccountConfig, contact: ContactState, decision: Decision, content: Content
    ) -> DeliveryResult:
        if not decision.allowed:
            raise ValueError("refusing to deliver a message the policy engine did not allow")
        if contact.channel in META_CHANNELS:
            return self.graph.send(account, contact, decision, content)
        if account.channel is not contact.channel:
            return local_refusal(
                ReasonCode.CHANNEL_UNSUPPORTED, "the account and the contact are on different channels"
            )
        sender = self.sender(contact.channel)
        if sender is None:
            return local_refusal(
                ReasonCode.CHANNEL_UNSUPPORTED, f"no delivery is configured for {contact.channel.value}"
            )
        return sender.send(account, contact, decision, content, self._credentials(account))

    def sender(self, channel: Channel) -> PlatformSender | None:
        built = self._built.get(channel)
        if built is None and channel in self._factories:
            built = self._built[channel] = self._factories[channel]()
        return built
