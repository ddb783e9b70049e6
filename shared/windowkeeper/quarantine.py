"""Authentic webhook bodies we could not (fully) use, kept whole in S3 for inspection and replay.

Key ``quarantine/<yyyy>/<mm>/<dd>/<sha256 of the body>.json``: the same body quarantined twice
(Meta retries) lands on the same key. The exact bytes are kept, so a body can be replayed through
the handler once the cause is fixed (e.g. the account was added). Only bodies whose signature was
verified get here: an unsigned sender cannot fill the bucket.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from windowkeeper import aws


def quarantine_key(body: bytes, received_at: datetime) -> str:
    digest = hashlib.sha256(body).hexdigest()
    return f"quarantine/{received_at:%Y/%m/%d}/{digest}.json"


def quarantine(bucket: str, body: bytes, *, reason: str, received_at: datetime, detail: str = "") -> str:
    """Store ``body`` with its reason as object metadata; returns the key."""
    key = quarantine_key(body, received_at)
    metadata = {"reason": reason, "received-at": received_at.isoformat()}
    if detail:
        # S3 metadata is ASCII-only and size-limited; the detail is ids and field paths, no content.
        metadata["detail"] = detail.encode("ascii", "replace").decode()[:1024]
    aws.client("s3").put_object(
        Bucket=bucket,
        Key=key,
        Body=body,
        ContentType="application/json",
        Metadata=metadata,
    )
    return key


@dataclass(frozen=True)
class QuarantineBucket:
    """``ports.webhook.Quarantine`` on the S3 bucket."""

    bucket: str

    def put(self, body: bytes, *, reason: str, received_at: datetime, detail: str = "") -> str:
        return quarantine(self.bucket, body, reason=reason, received_at=received_at, detail=detail)
