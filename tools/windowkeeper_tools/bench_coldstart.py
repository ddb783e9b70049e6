"""Cold-start benchmark: what a fresh Lambda container pays before its first request.

Each scenario runs in a new interpreter (as a container's init does), 3 times; the figure is the
median CPU time (user + system) and peak RSS of that process, with the spread. Floors measured in
the same run: ``import boto3`` (the least any function does) and ``import boto3`` plus one
DynamoDB client (the least a function that touches the table does). The functions' rows import
the handler module, then build the clients their first request builds (through
``windowkeeper.aws``, as the code does). One more row imports the webhook with no bytecode to read
or write (an empty ``PYTHONPYCACHEPREFIX``): what a layer shipped without .pyc pays on Lambda.
Fake credentials and names only: nothing is called.
Prints figures; asserts nothing.

Run: ``scripts/bench-coldstart [--repeat 3]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FLOOR_IMPORT = "import boto3"
FLOOR_CLIENT = "import boto3\nboto3.session.Session().client('dynamodb', region_name='eu-west-1')"
WEBHOOK_CLIENTS = (
    "from windowkeeper import aws\n"
    "aws.client('secretsmanager'); aws.table('bench-table'); aws.client('events')"
)
SEND_CLIENTS = (
    "from windowkeeper import aws\n"
    "aws.client('dynamodb'); aws.client('secretsmanager'); aws.table('bench-table')"
)
SCENARIOS: tuple[tuple[str, str], ...] = (
    ("floor: import boto3", FLOOR_IMPORT),
    ("floor: import boto3 + DynamoDB client", FLOOR_CLIENT),
    ("webhook: import", "import webhook_app"),
    ("webhook: import + first clients", "import webhook_app\n" + WEBHOOK_CLIENTS),
    ("send: import", "import send_app"),
    ("send: import + first clients", "import send_app\n" + SEND_CLIENTS),
    ("webhook: import, no .pyc shipped", "import webhook_app"),
)
NO_BYTECODE = "webhook: import, no .pyc shipped"
ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_DEFAULT_REGION": "eu-west-1",
    "AWS_REGION": "eu-west-1",
    "TABLE_NAME": "bench-table",
    "IDEMPOTENCY_TABLE_NAME": "bench-idempotency",
    "EVENT_BUS_NAME": "bench-bus",
    "QUARANTINE_BUCKET": "bench-quarantine",
    "WEBHOOK_SECRET_ID": "bench-secret",
    "POWERTOOLS_SERVICE_NAME": "windowkeeper",
    "POWERTOOLS_METRICS_NAMESPACE": "Windowkeeper",
}


def run_once(code: str, bytecode: bool = True) -> tuple[float, float]:
    """CPU ms and peak RSS MiB of a fresh interpreter running ``code``."""
    paths = [REPO / "shared", REPO / "functions" / "webhook", REPO / "functions" / "send"]
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
        **ENVIRONMENT,
        "PYTHONPATH": os.pathsep.join(str(p) for p in paths),
    }
    if not bytecode:
        env.update(PYTHONDONTWRITEBYTECODE="1", PYTHONPYCACHEPREFIX=tempfile.mkdtemp(prefix="no-pyc-"))
    process = subprocess.Popen([sys.executable, "-c", code], env=env, cwd=REPO)
    _, status, usage = os.wait4(process.pid, 0)
    if status != 0:
        raise RuntimeError(f"cold-start scenario failed ({status}): {code!r}")
    return (usage.ru_utime + usage.ru_stime) * 1000, usage.ru_maxrss / 1024


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeat", type=int, default=3, help="fresh processes per scenario (default 3)")
    parser.add_argument("--quick", action="store_true", help="smoke run: one process per scenario")
    args = parser.parse_args(argv)
    repeat = 1 if args.quick else args.repeat
    if not args.quick:
        for name, code in SCENARIOS:  # warm the file cache and write any missing bytecode first
            run_once(code, bytecode=name != NO_BYTECODE)
    results: dict[str, list[tuple[float, float]]] = {name: [] for name, _ in SCENARIOS}
    for _ in range(repeat):  # interleaved, so every scenario sees the same machine load
        for name, code in SCENARIOS:
            results[name].append(run_once(code, bytecode=name != NO_BYTECODE))

    def median_cpu(name: str) -> float:
        return statistics.median(cpu for cpu, _ in results[name])

    floor_import = median_cpu(SCENARIOS[0][0])
    floor_client = median_cpu(SCENARIOS[1][0])
    print(f"Cold start, fresh interpreter, median of {repeat} (CPU = user + system)")
    print(f"  {'scenario':40} {'CPU ms':>7} {'spread':>13} {'x floor':>8} {'peak MiB':>9}")
    for index, (name, _) in enumerate(SCENARIOS):
        cpus = sorted(cpu for cpu, _ in results[name])
        rss = statistics.median(mib for _, mib in results[name])
        floor = floor_client if "clients" in name or index == 1 else floor_import
        print(
            f"  {name:40} {median_cpu(name):7.0f} {cpus[0]:6.0f}-{cpus[-1]:<6.0f} "
            f"{median_cpu(name) / floor:8.2f} {rss:9.0f}"
        )
    print("  x floor: imports against `import boto3`; with clients against boto3 + one DynamoDB client")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
