"""Shared fixtures. moto is imported first so that no boto3 client is ever created unmocked."""

from __future__ import annotations

import os

# Fake credentials and a fixed region before anything imports boto3: a test that escapes moto
# fails on a bad signature instead of reaching a real account.
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SECURITY_TOKEN": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_REGION": "eu-west-1",
        "POWERTOOLS_SERVICE_NAME": "windowkeeper-tests",
        "POWERTOOLS_METRICS_NAMESPACE": "WindowkeeperTests",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_DEV": "false",
    }
)
os.environ.pop("AWS_ENDPOINT_URL", None)
os.environ.pop("AWS_PROFILE", None)

import moto  # noqa: F401  (must precede every handler import)
