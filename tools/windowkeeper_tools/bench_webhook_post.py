"""Wall time of whole webhook POSTs on moto in-process: the question "does one invocation finish?".

``scripts/bench-ingest`` measures the CPU of ingestion without storage; this one runs
``windowkeeper.ingest.webhook_wiring.handle_post`` end to end (signature, parse, one ``UpdateItem`` per
contact, the conversation log, ``PutEvents``, S3) against moto in this process, for a signed
Messenger body of ``--events`` events over ``--contacts`` customers, and prints how long the POST
took, how many contacts it wrote and how many it deferred. moto's per-call cost is not
DynamoDB's (a real ``UpdateItem`` is a network round trip of a few milliseconds, so the AWS
figure is higher, not lower), which is why the service bounds each invocation by the time the
Lambda has left rather than by a count measured here.

Run: ``scripts/bench-webhook-post [--events 3900 --contacts 3900 400 --budget 10]``. Prints figures;
asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Sequence

from moto import mock_aws

from windowkeeper import aws, secrets
from windowkeeper.store.account_table import AccountStore
from windowkeeper.wiring import webhook as webhook_wiring
from windowkeeper_tools.aws_resources import create_all
from windowkeeper_tools.bench_ingest import ACCOUNTS, APP_SECRET, NOW, messenger_batch


def run(events: int, contacts: int, budget_s: float) -> None:
    os.environ.setdefault("AWS_DEFAULT_REGION", "eu-west-1")
    os.environ.pop("AWS_ENDPOINT_URL", None)
    with mock_aws():
        resources = create_all(app_secret=APP_SECRET, verify_token="bench")
        os.environ.update(resources.environment())
        aws.reset_clients()
        secrets.clear_cache()
        webhook_wiring.reset_caches()
        AccountStore(resources.table_name).put_all([a for accounts in ACCOUNTS.values() for a in accounts])
        batch = messenger_batch(events, contacts)
        settings = webhook_wiring.WebhookSettings.from_env()
        headers = {"x-hub-signature-256": batch.signature}
        started = time.perf_counter()
        deadline = started + budget_s

        def time_left() -> float:
            return deadline - time.perf_counter()

        outcome = webhook_wiring.handle_post(batch.body, headers, settings, now=NOW, time_left=time_left)
        elapsed = time.perf_counter() - started
        print(
            f"{events} events over {contacts} contacts, {len(batch.body) / 1e6:.2f} MB: "
            f"{elapsed:.2f} s wall, answer {outcome.status} {json.dumps(outcome.body)}"
        )
        print("  " + ", ".join(f"{k}={v}" for k, v in sorted(outcome.metrics.items()) if v))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=3900)  # 4,000 of these exceed the 1 MB body limit
    parser.add_argument("--contacts", type=int, nargs="*", default=[3900, 400])
    parser.add_argument("--budget", type=float, default=10.0, help="the Lambda's timeout, seconds")
    args = parser.parse_args(argv)
    for contacts in args.contacts:
        run(args.events, contacts, args.budget)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
