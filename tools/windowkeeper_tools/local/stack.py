"""The whole service on one machine: moto server, resources, accounts, gateway, simulator, scheduler.

``LocalStack(settings).start()`` returns once everything answers; ``stop()`` undoes it, including
the process environment it changed (tests start and stop stacks in one process).
"""

from __future__ import annotations

import json
import logging
import os
import shlex
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from windowkeeper.policy.model import META_CHANNELS
from windowkeeper_tools.local.event_tap import EVENTS_PATH, EventTap
from windowkeeper_tools.local.functions import FunctionPool
from windowkeeper_tools.local.gateway import Gateway, GatewayServer
from windowkeeper_tools.local.oidc import CLIENT_ID as OIDC_CLIENT_ID
from windowkeeper_tools.local.oidc import LocalOpenIdProvider
from windowkeeper_tools.local.scheduler_loop import Periodic, SchedulerLoop
from windowkeeper_tools.local.settings import DEFAULT_APP_SECRET, LocalSettings
from windowkeeper_tools.local.sns_bridge import INBOUND_MODULE, SNS_BRIDGE_PATH, SnsBridge
from windowkeeper_tools.local.template import TemplateModel, load_template
from windowkeeper_tools.local.tokens import LOCAL_AUDIENCE, LOCAL_ISSUER, LocalKeys
from windowkeeper_tools.simulator.platforms import PLATFORM_MODULES, credentials_for
from windowkeeper_tools.simulator.platforms.aws_sns import topic_arn

if TYPE_CHECKING:
    from windowkeeper_tools.simulator import SimulatorServer

logger = logging.getLogger("windowkeeper.local")

CONSOLE_DIR = Path(__file__).resolve().parent.parent / "console"
STACK_FILE = "stack.json"
SWEEP_INPUT = {"kind": "sweep"}
LOCAL_REGION = "eu-west-1"
# Fake credentials: the moto server accepts anything, and a real key must never be used locally.
FAKE_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_SESSION_TOKEN": "local",
    "AWS_DEFAULT_REGION": LOCAL_REGION,
    "AWS_REGION": LOCAL_REGION,
}
FUNCTION_ENV = {
    "POWERTOOLS_SERVICE_NAME": "windowkeeper",
    "POWERTOOLS_METRICS_NAMESPACE": "Windowkeeper",
    "POWERTOOLS_TRACE_DISABLED": "true",
    # EMF metric blobs on stdout drown the start-up banner locally; CloudWatch is not here anyway.
    "POWERTOOLS_METRICS_DISABLED": "true",
}


_handlers_started = False


def read_stack_file(state_dir: Path) -> dict[str, Any] | None:
    """What a running ``windowkeeper local`` wrote about itself (URLs), for the other commands."""
    path = state_dir / STACK_FILE
    if not path.exists():
        return None
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def cli_command(cwd: Path | None = None) -> str:
    """The ``windowkeeper`` command as a new terminal in ``cwd`` can run it.

    The script is on PATH only where the virtualenv is activated, so the banner names it by its
    path: ``.venv/bin/windowkeeper`` from the repository root, the absolute path elsewhere, or
    ``python -m windowkeeper_tools.cli`` when no script was installed beside the interpreter.
    """
    here = Path.cwd() if cwd is None else cwd
    script = Path(sys.executable).parent / "windowkeeper"
    if not script.is_file():
        return f"{shlex.quote(sys.executable)} -m windowkeeper_tools.cli"
    path = script.absolute()
    try:
        return shlex.quote(str(path.relative_to(here.absolute())))
    except ValueError:
        return shlex.quote(str(path))


def dummy_access_token(account: Any) -> str:
    """The fake Page/number token the local stack stores (and the simulator expects)."""
    return f"local-access-token-{account.channel.value}-{account.account_id}"


@dataclass
class LocalStack:
    settings: LocalSettings
    write_stack_file: bool = True
    start_scheduler: bool = True
    keys: LocalKeys | None = None
    template: TemplateModel | None = None
    resources: Any = None  # windowkeeper_tools.aws_resources.Resources
    accounts: list[Any] = field(default_factory=list)
    gateway_server: GatewayServer | None = None
    simulator: SimulatorServer | None = None
    scheduler: SchedulerLoop | None = None
    functions: FunctionPool | None = None
    event_tap: EventTap | None = None
    identity_provider: LocalOpenIdProvider | None = None
    _moto: Any = None
    _saved_env: dict[str, str | None] = field(default_factory=dict)

    # -- URLs -------------------------------------------------------------------------------
    @property
    def api_url(self) -> str:
        assert self.gateway_server is not None, "start() first"
        return self.gateway_server.url

    @property
    def console_url(self) -> str:
        return f"{self.api_url}/console/"

    @property
    def webhook_url(self) -> str:
        return f"{self.api_url}/webhook"

    @property
    def simulator_url(self) -> str:
        return str(self.simulator.url) if self.simulator is not None else ""

    @property
    def events_url(self) -> str:
        return f"{self.api_url}{EVENTS_PATH}"

    @property
    def moto_url(self) -> str:
        host, port = self._moto.get_host_and_port()
        return f"http://{host}:{port}"

    # -- lifecycle --------------------------------------------------------------------------
    def _set_env(self, values: dict[str, str]) -> None:
        for name, value in values.items():
            if name not in self._saved_env:
                self._saved_env[name] = os.environ.get(name)
            os.environ[name] = value

    def _restore_env(self) -> None:
        for name, value in self._saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._saved_env.clear()

    def start(self) -> LocalStack:
        from moto.server import ThreadedMotoServer

        from windowkeeper import aws, secrets

        global _handlers_started  # noqa: PLW0603
        if _handlers_started:
            # Handler modules (and the shared code's per-container caches) keep the clients and
            # URLs of their first use, as warm Lambda containers do; a second stack in this
            # process would silently talk to the first one's simulator and endpoints.
            raise RuntimeError("one local stack per process: the handlers are already bound to another one")
        _handlers_started = True
        settings = self.settings
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self.template = load_template(settings.template_file)
        self.keys = LocalKeys.load_or_create(settings.state_dir)

        self._moto = ThreadedMotoServer(ip_address="127.0.0.1", port=settings.moto_port, verbose=False)
        self._moto.start()
        # Before any client exists: every boto3 client in this process now talks to moto.
        self._set_env({**FAKE_AWS_ENV, "AWS_ENDPOINT_URL": self.moto_url})
        aws.reset_clients()
        secrets.clear_cache()

        from windowkeeper_tools.aws_resources import create_all

        self.resources = create_all(
            settings.template_file, app_secret=settings.app_secret, verify_token=settings.verify_token
        )
        self.functions = FunctionPool(self.template.functions, aws.region())
        self.event_tap = EventTap(self.resources.bus_name).start()
        keys = self.keys
        tap = self.event_tap
        gateway = Gateway(
            template=self.template,
            functions=self.functions,
            keys=self.keys,
            console_dir=CONSOLE_DIR,
            console_config_js=self._console_config_js(),
            local_routes={EVENTS_PATH: lambda request: tap.handle(request, keys)},
        )
        # Bound now (port 0 resolved) so the simulator can be told where to post webhooks.
        self.gateway_server = GatewayServer(settings.host, settings.port, gateway)
        # The console signs in here as it does on the Cognito hosted UI (same code path).
        self.identity_provider = LocalOpenIdProvider(self.keys, self.api_url)
        gateway.local_routes.update(self.identity_provider.routes())
        gateway.console_config_js = self._console_config_js()
        self.simulator = self._start_simulator()
        gateway.local_routes[SNS_BRIDGE_PATH] = self._sns_bridge().handle
        self._set_env(
            {
                **self.resources.environment(),
                **FUNCTION_ENV,
                # SMS and e-mail in: the topics the simulator publishes to (created in moto).
                **self._inbound_topics(),
                "GRAPH_API_BASE_URL": self.simulator.url,
                # The other platforms' APIs, played by the same simulator under /<channel>/.
                **{
                    f"{channel.value.upper()}_API_BASE_URL": f"{self.simulator.url}/{channel.value}"
                    for channel in PLATFORM_MODULES
                },
            }
        )
        self._load_accounts()
        failed = self.functions.preload()
        if failed:
            logger.warning("handlers that failed to import (their routes answer 500): %s", ", ".join(failed))
        self.gateway_server.start()
        if self.start_scheduler:
            self.scheduler = self._make_scheduler()
            self.scheduler.start()
        if self.write_stack_file:
            self._write_stack_file()
        return self

    def stop(self) -> None:
        from windowkeeper import aws, secrets

        if self.scheduler is not None:
            self.scheduler.stop()
        if self.gateway_server is not None:
            self.gateway_server.stop()
        if self.event_tap is not None:
            self.event_tap.stop()
        if self.simulator is not None:
            self.simulator.stop()
        if self._moto is not None:
            self._moto.stop()
        if self.write_stack_file:
            (self.settings.state_dir / STACK_FILE).unlink(missing_ok=True)
        self._restore_env()
        aws.reset_clients()
        secrets.clear_cache()

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    # -- pieces -----------------------------------------------------------------------------
    def _console_config_js(self) -> str:
        # Same origin as the API locally; a deployed console gets its own config.js.
        config: dict[str, Any] = {
            "apiBaseUrl": "",
            "environment": "local",
            "pollSeconds": 3,
            "eventsPath": EVENTS_PATH,
        }
        if self.gateway_server is not None:
            # Sign-in: the local OpenID provider on this server, as config.js names Cognito's.
            config["auth"] = {"domain": self.api_url, "clientId": OIDC_CLIENT_ID, "issuer": LOCAL_ISSUER}
        return f"window.WINDOWKEEPER_CONFIG = {json.dumps(config)};\n"

    def _start_simulator(self) -> SimulatorServer:
        from windowkeeper.accounts import load_accounts_file
        from windowkeeper_tools.simulator import Simulator, SimulatorServer

        accounts = load_accounts_file(self.settings.accounts_file)
        simulator = Simulator(
            webhook_url=self.webhook_url,
            app_secret=self.settings.app_secret,
            accounts=accounts,
            # The simulator refuses a send with another token than the one we stored, which
            # proves the send path reads the right secret.
            expected_tokens={a.account_id: dummy_access_token(a) for a in accounts},
        )
        server = SimulatorServer(simulator, host="127.0.0.1", port=self.settings.simulator_port)
        return server.start()

    def _inbound_topics(self) -> dict[str, str]:
        """The SMS and e-mail inbound topics, created in moto, as the inbound function's env."""
        from windowkeeper import aws
        from windowkeeper.policy.model import Channel

        sns = aws.client("sns")
        env = {}
        for channel, variable in (
            (Channel.SMS, "SMS_INBOUND_TOPIC_ARN"),
            (Channel.EMAIL, "EMAIL_INBOUND_TOPIC_ARN"),
        ):
            name = topic_arn(channel, aws.region()).rsplit(":", 1)[-1]
            env[variable] = str(sns.create_topic(Name=name)["TopicArn"])
        return env

    def _sns_bridge(self) -> SnsBridge:
        """SNS invoking the inbound function, played in process (moto cannot invoke a Lambda)."""
        functions = self.functions
        assert functions is not None

        def invoke(event: dict[str, Any]) -> Any:
            function = functions.by_module(INBOUND_MODULE)
            if function is None:
                raise RuntimeError("the template has no SMS and e-mail inbound function")
            return function.invoke(event)

        return SnsBridge(invoke)

    def _load_accounts(self) -> None:
        from windowkeeper import aws
        from windowkeeper.accounts import load_accounts_file
        from windowkeeper.store.account_table import AccountStore

        self.accounts = load_accounts_file(self.settings.accounts_file)
        AccountStore(self.resources.table_name).put_all(self.accounts)
        secrets_client = aws.client("secretsmanager")
        for account in self.accounts:
            if not account.access_token_secret_id:
                continue
            dummy = dummy_access_token(account)
            if account.channel not in META_CHANNELS:  # the platform's credentials, as JSON
                dummy = json.dumps(credentials_for(account.channel, account.account_id))
            try:
                secrets_client.create_secret(Name=account.access_token_secret_id, SecretString=dummy)
            except secrets_client.exceptions.ResourceExistsException:
                secrets_client.put_secret_value(SecretId=account.access_token_secret_id, SecretString=dummy)

    def scheduler_function_id(self) -> str:
        from windowkeeper_tools.aws_resources import SCHEDULER_FUNCTION

        assert self.template is not None
        if SCHEDULER_FUNCTION in self.template.functions:
            return SCHEDULER_FUNCTION
        found = self.template.function_by_module("scheduler_app")
        if found is None:
            raise RuntimeError("the template has no scheduler function")
        return found.logical_id

    def invoke_scheduler(self, payload: dict[str, Any]) -> Any:
        assert self.functions is not None
        return self.functions.get(self.scheduler_function_id()).invoke(payload)

    def _make_scheduler(self) -> SchedulerLoop:
        from datetime import timedelta

        assert self.template is not None and self.functions is not None
        functions = self.functions

        def invoker(function_id: str) -> Callable[[dict[str, Any]], Any]:
            return lambda payload: functions.get(function_id).invoke(payload)

        periodic = [
            Periodic(
                name=f"{s.function}:{json.dumps(s.input)}",
                every=timedelta(seconds=s.every_seconds),
                payload=s.input,
                invoke=invoker(s.function),
            )
            for s in self.template.schedules
        ]
        if not periodic:
            try:
                scheduler_id = self.scheduler_function_id()
            except RuntimeError:
                scheduler_id = None
            if scheduler_id is not None:
                periodic.append(
                    Periodic(
                        name="sweep",
                        every=timedelta(seconds=self.settings.sweep_interval_seconds),
                        payload=dict(SWEEP_INPUT),
                        invoke=self.invoke_scheduler,
                    )
                )
        return SchedulerLoop(
            group_name=self.resources.schedule_group_name,
            # Every schedule in the group targets the scheduler function (SCHEDULER_TARGET_ARN).
            invoke_target=lambda _arn, payload: self.invoke_scheduler(payload),
            interval_seconds=self.settings.scheduler_interval_seconds,
            periodic=periodic,
        )

    def _write_stack_file(self) -> None:
        data = {
            "pid": os.getpid(),
            "api_url": self.api_url,
            "console_url": self.console_url,
            "webhook_url": self.webhook_url,
            "simulator_url": self.simulator_url,
            "events_url": self.events_url,
            "moto_url": self.moto_url,
            "table_name": self.resources.table_name,
            "issuer": LOCAL_ISSUER,
            "audience": LOCAL_AUDIENCE,
        }
        self.settings.state_dir.mkdir(parents=True, exist_ok=True)
        (self.settings.state_dir / STACK_FILE).write_text(json.dumps(data, indent=2), encoding="utf-8")

    def _app_secret_hint(self) -> str:
        # The default is a public development value; a secret someone set stays off the screen.
        secret = self.settings.app_secret
        return (
            secret if secret == DEFAULT_APP_SECRET else f"(from WINDOWKEEPER_APP_SECRET, {len(secret)} chars)"
        )

    def banner(self) -> str:
        accounts = ", ".join(f"{a.tenant_id}/{a.channel.value}:{a.account_id}" for a in self.accounts)
        cli = cli_command()
        lines = [
            "Windowkeeper local stack is running",
            f"  API            {self.api_url}",
            f"  Agent console  {self.console_url}",
            f"  Webhook        {self.webhook_url}   (verify token: {self.settings.verify_token})",
            f"  App secret     {self._app_secret_hint()}   (signs the simulator's webhooks)",
            f"  Meta simulator {self.simulator_url or '(not available)'}",
            f"  Bus events     {self.events_url}",
            f"  AWS (moto)     {self.moto_url}",
            f"  Accounts       {self.settings.accounts_file} -> {accounts}",
            f"  State          {self.settings.state_dir}",
            "",
            f"In another terminal, from {Path.cwd()}"
            f" (or `source {Path(sys.prefix) / 'bin' / 'activate'}` first, then plain `windowkeeper`):",
            "Mint a development token (signed with the local key, RS256):",
            f"  {cli} token --human {self.settings.dev_agent} --tenant {self.settings.dev_tenant}",
            f"  {cli} token --automation {self.settings.dev_automation} --kind bot"
            f" --tenant {self.settings.dev_tenant}",
            "Play a customer:",
            f'  {cli} simulate --channel messenger --account 1111 --contact psid-1 --text "hi"',
            "Watch the bus events (window closing soon, follow-ups, stuck sends):",
            f"  {cli} events --follow",
            "",
            "Defaults come from WINDOWKEEPER_HOST, WINDOWKEEPER_PORT, WINDOWKEEPER_APP_SECRET,",
            "WINDOWKEEPER_VERIFY_TOKEN, WINDOWKEEPER_ACCOUNTS_FILE and, for the development",
            "principals, WINDOWKEEPER_DEV_AGENT, WINDOWKEEPER_DEV_AUTOMATION, WINDOWKEEPER_DEV_TENANT.",
            "Ctrl-C stops everything.",
        ]
        return "\n".join(lines)
