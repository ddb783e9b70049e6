"""Accounts and payload files shared by the ingest unit tests and the webhook integration tests."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from windowkeeper.accounts import AccountConfig
from windowkeeper.policy.model import Channel

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "meta"

PAGE_ID = "104800000000001"
IG_ID = "17841400000000002"
WABA_ID = "102290000000003"
PHONE_NUMBER_ID = "106540000000004"
OUR_APP_ID = "424242424242"
PSID_A = "7300000000000101"
PSID_B = "7300000000000102"
IGSID = "5600000000000201"
WA_ID = "447700900123"
WA_ID_US = "15551234567"
BASE_MS = 1795298400000  # 2026-11-21T22:00:00Z, the fixtures' clock
BASE_S = BASE_MS // 1000

MESSENGER = AccountConfig(
    tenant_id="acme",
    channel=Channel.MESSENGER,
    account_id=PAGE_ID,
    app_id=OUR_APP_ID,
    permissions=frozenset({"human_agent"}),
    expiry_lead_time_seconds=3600,
    message_retention_days=30,
)
INSTAGRAM = AccountConfig(
    tenant_id="acme", channel=Channel.INSTAGRAM, account_id=IG_ID, app_id=OUR_APP_ID, permissions=frozenset()
)
WHATSAPP = AccountConfig(
    tenant_id="globex",
    channel=Channel.WHATSAPP,
    account_id=PHONE_NUMBER_ID,
    waba_id=WABA_ID,
    app_id=OUR_APP_ID,
    opt_out_keywords=("STOP", "BAJA", "ABMELDEN"),
)
ALL_ACCOUNTS = (MESSENGER, INSTAGRAM, WHATSAPP)


def raw(name: str) -> bytes:
    """The fixture's exact bytes (what Meta would sign)."""
    return (FIXTURES / name).read_bytes()


def payload(name: str) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(raw(name))
    return parsed


def resolver(accounts: tuple[AccountConfig, ...] = ALL_ACCOUNTS) -> Any:
    """A stand-in for ``AccountStore.get_for_webhook``."""
    objects = {
        Channel.MESSENGER: "page",
        Channel.INSTAGRAM: "instagram",
        Channel.WHATSAPP: "whatsapp_business_account",
    }

    def resolve(webhook_object: str, entry_id: str) -> list[AccountConfig]:
        return [
            a for a in accounts if objects[a.channel] == webhook_object and a.webhook_account_id == entry_id
        ]

    return resolve


def unescaped_utf8(body: bytes) -> bytes:
    """The same JSON with Meta's \\uXXXX escapes written as UTF-8 (what a re-encoding proxy sends)."""
    text = body.decode("ascii")
    return re.sub(r"(\\u[0-9a-fA-F]{4})+", lambda m: json.loads(f'"{m.group(0)}"'), text).encode("utf-8")
