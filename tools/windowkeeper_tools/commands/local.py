"""``windowkeeper local``: start the whole service on this machine (what ``scripts/run`` runs)."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from dataclasses import replace
from types import FrameType


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "local",
        help="run the service locally: AWS on moto, API gateway, agent console, Meta simulator",
        description=(
            "Start moto, create the template's resources, load accounts, and serve the API, the "
            "agent console and the Meta simulator until Ctrl-C. Settings come from WINDOWKEEPER_HOST, "
            "WINDOWKEEPER_PORT, WINDOWKEEPER_APP_SECRET, WINDOWKEEPER_VERIFY_TOKEN and "
            "WINDOWKEEPER_ACCOUNTS_FILE; the options below override them."
        ),
    )
    parser.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="API and console port (default 8787; 0 picks one)")
    parser.add_argument("--accounts", help="accounts JSON file (default config/accounts.example.json)")
    parser.add_argument("--verbose", action="store_true", help="debug logging")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from windowkeeper_tools.local.settings import LocalSettings
    from windowkeeper_tools.local.stack import LocalStack

    # botocore logs every endpoint lookup at INFO; only our own loggers speak at INFO.
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("windowkeeper").setLevel(logging.DEBUG if args.verbose else logging.INFO)
    settings = LocalSettings.from_env()
    overrides: dict[str, object] = {}
    if args.host:
        overrides["host"] = args.host
    if args.port is not None:
        overrides["port"] = args.port
    if args.accounts:
        overrides["accounts_file"] = Path(args.accounts).resolve()
    settings = replace(settings, **overrides)  # type: ignore[arg-type]

    stopping = threading.Event()

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)

    stack = LocalStack(settings)
    try:
        stack.start()
    except Exception as error:
        print(f"windowkeeper local: could not start: {error}", file=sys.stderr)
        stack.stop()
        return 1
    print(stack.banner(), flush=True)
    try:
        while not stopping.wait(0.5):
            pass
    finally:
        print("\nstopping...", flush=True)
        stack.stop()
    return 0
