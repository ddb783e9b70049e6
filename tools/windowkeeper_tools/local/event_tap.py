"""The local event tap: every bus event of the local stack, kept for people to see. Never deployed.

A rule on the local (moto) bus sends every ``source: windowkeeper`` event to an SQS queue in the
same moto server, the way a team subscribes in AWS (docs/events/README.md). A thread drains the
queue into a bounded, numbered list; ``GET /_local/events?after=<cursor>`` on the local gateway
returns what came after a cursor. The console's notifications panel and ``windowkeeper events
--follow`` poll it.

With a bearer token the answer holds the token's tenant's events only (the console's view);
without one, every tenant's (a developer's terminal on their own machine).
"""

from __future__ import annotations

import json
import logging
import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from windowkeeper_tools.local.apigw import HttpRequest, HttpResponse
from windowkeeper_tools.local.tokens import LocalKeys, TokenError, flatten_claims, verify

logger = logging.getLogger("windowkeeper.local.events")

EVENTS_PATH = "/_local/events"
QUEUE_NAME = "local-event-tap"
RULE_NAME = "local-event-tap"
KEEP = 1000  # recent events kept; older ones drop off (the cursor says how many were missed)
MAX_PAGE = 200
JSON_HEADERS = [("Content-Type", "application/json"), ("Cache-Control", "no-store")]


@dataclass
class EventTap:
    bus_name: str
    poll_seconds: float = 0.5
    keep: int = KEEP
    queue_url: str | None = None
    _events: deque[dict[str, Any]] = field(default_factory=deque)
    _next_cursor: int = 1
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def subscribe(self) -> None:
        """Rule on the bus -> queue, as a consumer would do it in AWS."""
        from windowkeeper import aws

        sqs = aws.client("sqs")
        self.queue_url = sqs.create_queue(QueueName=QUEUE_NAME)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        events = aws.client("events")
        events.put_rule(
            Name=RULE_NAME, EventBusName=self.bus_name, EventPattern=json.dumps({"source": ["windowkeeper"]})
        )
        events.put_targets(Rule=RULE_NAME, EventBusName=self.bus_name, Targets=[{"Id": "tap", "Arn": arn}])

    def start(self) -> EventTap:
        self.subscribe()
        self._thread = threading.Thread(target=self._run, name="local-event-tap", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                received = self.drain_once()
            except Exception:  # the moto server going away at shutdown, a hiccup: try again
                logger.debug("event tap poll failed", exc_info=True)
                received = 0
            if not received:
                self._stop.wait(self.poll_seconds)

    def drain_once(self) -> int:
        """Move what the queue holds into the list; how many events came."""
        from windowkeeper import aws

        assert self.queue_url is not None, "subscribe() first"
        sqs = aws.client("sqs")
        messages = sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get("Messages", [])
        for message in messages:
            try:
                self.add(json.loads(message["Body"]))
            except (ValueError, KeyError):
                logger.warning("event tap: a message that is no EventBridge event was dropped")
            sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
        return len(messages)

    def add(self, envelope: dict[str, Any]) -> None:
        detail = envelope.get("detail") or {}
        event_id = detail.get("event_id")
        with self._lock:
            # Delivery is at least once; the tap shows each event once.
            if event_id is not None and any(e["event_id"] == event_id for e in self._events):
                return
            self._events.append(
                {
                    "cursor": self._next_cursor,
                    "event_id": event_id,
                    "detail_type": envelope.get("detail-type"),
                    "time": envelope.get("time"),
                    "tenant_id": detail.get("tenant_id"),
                    "detail": detail,
                }
            )
            self._next_cursor += 1
            while len(self._events) > self.keep:
                self._events.popleft()

    def after(self, cursor: int, *, tenant_id: str | None = None, limit: int = MAX_PAGE) -> dict[str, Any]:
        """Events after ``cursor`` (oldest first) and the cursor to ask from next time."""
        with self._lock:
            newer = [e for e in self._events if e["cursor"] > cursor]
            latest = self._next_cursor - 1
        page = newer[:limit]
        # The next cursor passes events of other tenants too, so a poll never sees them again.
        next_cursor = page[-1]["cursor"] if len(newer) > limit else max(cursor, latest)
        if tenant_id is not None:
            page = [e for e in page if e["tenant_id"] == tenant_id]
        return {"events": page, "cursor": next_cursor, "more": len(newer) > limit}

    def handle(self, request: HttpRequest, keys: LocalKeys) -> HttpResponse:
        """``GET /_local/events?after=<cursor>&limit=<n>``."""
        if request.method != "GET":
            return _error(405, "method_not_allowed", "Only GET is served here.")
        query = parse_qs(request.raw_query)
        try:
            cursor = int((query.get("after") or ["0"])[0])
            limit = int((query.get("limit") or [str(MAX_PAGE)])[0])
        except ValueError:
            return _error(400, "invalid_cursor", "after and limit are whole numbers.")
        if cursor < 0 or not 1 <= limit <= MAX_PAGE:
            return _error(400, "invalid_cursor", f"after is 0 or more and limit from 1 to {MAX_PAGE}.")
        tenant_id = None
        authorization = next((v for n, v in request.headers if n.lower() == "authorization"), "")
        if authorization:
            scheme, _, token = authorization.partition(" ")
            try:
                if scheme.lower() != "bearer":
                    raise TokenError("not a bearer token")
                claims = flatten_claims(verify(keys, token.strip()))
            except TokenError:
                return _error(401, "unauthorized", "The token is not valid here.")
            tenant_id = claims.get("custom:tenant_id")
        body = self.after(cursor, tenant_id=tenant_id, limit=limit)
        return HttpResponse(200, list(JSON_HEADERS), json.dumps(body, default=str).encode("utf-8"))


def _error(status: int, reason: str, message: str) -> HttpResponse:
    body = {"status": "error", "reason": reason, "message": message}
    return HttpResponse(status, list(JSON_HEADERS), json.dumps(body).encode("utf-8"))
