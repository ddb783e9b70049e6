"""Business accounts: the engine's ``AccountProfile`` plus what delivery needs.

An account is one Page, Instagram account, WhatsApp phone number (``account_id`` is the
``phone_number_id``; ``waba_id`` is the webhook's entry id) or other-channel bot. Accounts come
from a JSON file (``WINDOWKEEPER_ACCOUNTS_FILE``) locally and live as ``PROFILE`` items in the
table when deployed (``windowkeeper accounts load FILE`` writes them).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path as FsPath
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from windowkeeper.policy.model import AccountProfile, Channel, Template

if TYPE_CHECKING:
    from windowkeeper.store.template_records import TemplateState

WEBHOOK_OBJECT = {
    Channel.MESSENGER: "page",
    Channel.INSTAGRAM: "instagram",
    Channel.WHATSAPP: "whatsapp_business_account",
}
"""Meta's webhook ``object`` value for each channel whose webhooks name the account."""


class AccountConfig(AccountProfile):
    """An account as configured: the engine's profile plus templates and delivery settings."""

    templates: tuple[Template, ...] = ()
    # Secrets Manager secret id holding the Page / number access token. Never the token itself.
    access_token_secret_id: str | None = None
    waba_id: str | None = None  # WhatsApp Business Account id (the webhook's entry.id)
    app_id: str | None = None  # our Meta app id (conversation routing, echo detection)

    def profile(self) -> AccountProfile:
        """The engine's view of the account, built once per distinct account (see ``_profile``)."""
        return _profile(self)

    def with_template_states(self, states: Mapping[tuple[str, str], TemplateState]) -> AccountConfig:
        """This account with Meta's newer facts about its templates (status, category) applied."""
        if not states:
            return self
        templates = tuple(
            states[(t.name, t.language)].over(t) if (t.name, t.language) in states else t
            for t in self.templates
        )
        return self if templates == self.templates else self.model_copy(update={"templates": templates})

    def template(self, name: str, language: str) -> Template | None:
        for template in self.templates:
            if template.name == name and template.language == language:
                return template
        return None

    @property
    def webhook_account_id(self) -> str:
        """The id Meta puts in ``entry[].id``: the Page/IG account id, or the WABA id."""
        if self.channel is Channel.WHATSAPP:
            return self.waba_id or self.account_id
        return self.account_id


@lru_cache(maxsize=256)
def _profile(account: AccountConfig) -> AccountProfile:
    """Keyed by the frozen account's fields: the webhook asks for the profile for every contact of
    a batch, and dumping and re-validating it each time cost more than the engine's answer."""
    return AccountProfile.model_validate(account.model_dump(include=set(AccountProfile.model_fields)))


class AccountsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    accounts: list[AccountConfig] = Field(min_length=1)


def load_accounts_file(path: str | FsPath) -> list[AccountConfig]:
    """Read and validate an accounts file; raises ``ValueError`` with the offending field."""
    raw: Any = json.loads(FsPath(path).read_text(encoding="utf-8"))
    return AccountsFile.model_validate(raw).accounts
