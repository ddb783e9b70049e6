"""Local stack settings, from ``WINDOWKEEPER_*`` environment variables with printed defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8787
DEFAULT_APP_SECRET = "local-app-secret"
DEFAULT_VERIFY_TOKEN = "local-verify-token"
DEFAULT_ACCOUNTS_FILE = "config/accounts.example.json"
DEFAULT_STATE_DIR = ".local-state"
# The development principals the banner's token commands (and `windowkeeper token`) use.
DEFAULT_DEV_AGENT = "agent-1"
DEFAULT_DEV_AUTOMATION = "bot-1"
DEFAULT_DEV_TENANT = "acme"


def repo_root() -> Path:
    """The checkout this package runs from (tools/windowkeeper_tools/local -> repo)."""
    return Path(__file__).resolve().parents[3]


@dataclass(frozen=True)
class LocalSettings:
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT  # gateway port; 0 picks a free one (tests)
    simulator_port: int = 0  # 0: a free port
    moto_port: int = 0
    app_secret: str = DEFAULT_APP_SECRET
    verify_token: str = DEFAULT_VERIFY_TOKEN
    accounts_file: Path = field(default_factory=lambda: repo_root() / DEFAULT_ACCOUNTS_FILE)
    state_dir: Path = field(default_factory=lambda: repo_root() / DEFAULT_STATE_DIR)
    template_file: Path = field(default_factory=lambda: repo_root() / "infra" / "template.yaml")
    dev_agent: str = DEFAULT_DEV_AGENT
    dev_automation: str = DEFAULT_DEV_AUTOMATION
    dev_tenant: str = DEFAULT_DEV_TENANT
    scheduler_interval_seconds: float = 2.0
    sweep_interval_seconds: float = 60.0

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> LocalSettings:
        env = dict(os.environ if environ is None else environ)
        root = repo_root()

        def path(name: str, default: Path) -> Path:
            value = env.get(name)
            if not value:
                return default
            candidate = Path(value)
            return candidate if candidate.is_absolute() else Path.cwd() / candidate

        return cls(
            host=env.get("WINDOWKEEPER_HOST") or DEFAULT_HOST,
            port=int(env.get("WINDOWKEEPER_PORT") or DEFAULT_PORT),
            simulator_port=int(env.get("WINDOWKEEPER_SIMULATOR_PORT") or 0),
            moto_port=int(env.get("WINDOWKEEPER_MOTO_PORT") or 0),
            app_secret=env.get("WINDOWKEEPER_APP_SECRET") or DEFAULT_APP_SECRET,
            verify_token=env.get("WINDOWKEEPER_VERIFY_TOKEN") or DEFAULT_VERIFY_TOKEN,
            accounts_file=path("WINDOWKEEPER_ACCOUNTS_FILE", root / DEFAULT_ACCOUNTS_FILE),
            state_dir=path("WINDOWKEEPER_STATE_DIR", root / DEFAULT_STATE_DIR),
            template_file=path("WINDOWKEEPER_TEMPLATE_FILE", root / "infra" / "template.yaml"),
            dev_agent=env.get("WINDOWKEEPER_DEV_AGENT") or DEFAULT_DEV_AGENT,
            dev_automation=env.get("WINDOWKEEPER_DEV_AUTOMATION") or DEFAULT_DEV_AUTOMATION,
            dev_tenant=env.get("WINDOWKEEPER_DEV_TENANT") or DEFAULT_DEV_TENANT,
        )
