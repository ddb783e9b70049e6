"""The platforms' API base URLs from the environment, and the router the send core uses.

``<CHANNEL>_API_BASE_URL`` (``TELEGRAM_API_BASE_URL``...) defaults to the platform's own; the local
stack points each at the simulator (``{simulator}/<channel>``). Credentials are the JSON object in
the account's Secrets Manager secret, read through ``windowkeeper.secrets`` (cached, never logged).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

from windowkeeper import secrets
from windowkeeper.accounts import AccountConfig
from windowkeeper.delivery.platform import PlatformSender
from windowkeeper.delivery.router import ChannelRouter, MetaSender
from windowkeeper.policy.model import Channel

# Channel -> module under windowkeeper.delivery; its ``from_env()`` builds the channel's sender.
SENDER_MODULES: Mapping[Channel, str] = {
    Channel.TELEGRAM: "telegram",
    Channel.VIBER: "viber",
    Channel.LINE: "line",
    Channel.WECHAT: "wechat",
    Channel.WEBCHAT: "webchat",  # no platform API: the conversation log the widget reads
    Channel.SMS: "sms",  # SNS Publish (boto3); SMS_API_BASE_URL, if set, is its endpoint
    Channel.EMAIL: "mail",  # SESv2 SendEmail (boto3); EMAIL_API_BASE_URL likewise
}


def account_credentials(account: AccountConfig) -> Mapping[str, Any]:
    if not account.access_token_secret_id:
        raise LookupError(f"account {account.channel.value}/{account.account_id} names no credentials secret")
    return secrets.get_json_secret(account.access_token_secret_id)


def _factory(module_name: str) -> Callable[[], PlatformSender]:
    def build() -> PlatformSender:
        sender: PlatformSender = importlib.import_module(f"windowkeeper.delivery.{module_name}").from_env()
        return sender

    return build


def router_from_env(graph: MetaSender) -> ChannelRouter:
    """Meta through ``graph``; every other channel through its sender, configured from the environment."""
    return ChannelRouter(
        graph,
        account_credentials,
        {channel: _factory(module) for channel, module in SENDER_MODULES.items()},
    )
