"""``python -m windowkeeper_tools.simulator``: run the Meta simulator on its own.

Example::

    python -m windowkeeper_tools.simulator --port 8765 \\
        --webhook-url http://127.0.0.1:3000/webhook --app-secret "$WINDOWKEEPER_APP_SECRET" \\
        --accounts config/accounts.example.json

then point ``GRAPH_API_BASE_URL`` at http://127.0.0.1:8765 and play customers with
``POST /_sim/customer``.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Sequence
from types import FrameType

from windowkeeper.accounts import load_accounts_file
from windowkeeper_tools.simulator.server import SimulatorServer
from windowkeeper_tools.simulator.simulator import DEFAULT_APP_SECRET, Simulator


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m windowkeeper_tools.simulator", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8765, help="port (0: any free port)")
    parser.add_argument(
        "--webhook-url", default=os.environ.get("WINDOWKEEPER_WEBHOOK_URL"), help="where customer webhooks go"
    )
    parser.add_argument(
        "--app-secret",
        default=os.environ.get("WINDOWKEEPER_APP_SECRET", DEFAULT_APP_SECRET),
        help="Meta app secret that signs the webhooks (env WINDOWKEEPER_APP_SECRET)",
    )
    parser.add_argument(
        "--accounts",
        default=os.environ.get("WINDOWKEEPER_ACCOUNTS_FILE"),
        help="accounts JSON file: gives WABA ids and template lists to check sends against",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")

    accounts = load_accounts_file(args.accounts) if args.accounts else []
    simulator = Simulator(webhook_url=args.webhook_url, app_secret=args.app_secret, accounts=accounts)
    server = SimulatorServer(simulator, host=args.host, port=args.port)

    def stop(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    print(
        f"Meta Graph API simulator on {server.url} (webhooks to {args.webhook_url or 'nowhere'})", flush=True
    )
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
