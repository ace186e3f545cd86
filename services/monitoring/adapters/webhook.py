"""Pages to a paging system over a signed webhook, sent from the paging outbox after commit.

Each request is a POST of the alert's JSON with three headers: ``X-Lantern-Alert-Id`` (the receiver
deduplicates on it: a page whose answer was lost is sent again), ``X-Lantern-Timestamp`` (Unix
seconds) and ``X-Lantern-Signature: sha256=<hex>``, the HMAC-SHA256 under the shared secret of
``<timestamp>.<body>``. The receiver recomputes it over the raw body, compares in constant time and
refuses a timestamp more than five minutes from its clock, so a captured request cannot be replayed.

A round tries a page a few times with a doubling back-off; a round that fails leaves the page
``failed`` with its attempts and last error (a status code or an error class, never a body), and the
dispatcher tries it again after a back-off that doubles up to an hour, while its alert is open.
Claimed pages are leased (their next attempt pushed past the round's longest time), so two monitoring
processes never send the same page at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import asyncpg
import httpx

from services.common.logging import get_logger

log = get_logger(__name__)

ALERT_HEADER = "X-Lantern-Alert-Id"
TIMESTAMP_HEADER = "X-Lantern-Timestamp"
SIGNATURE_HEADER = "X-Lantern-Signature"
MAX_RETRY_SECONDS = 3600.0
RETRIED_STATUSES = frozenset({408, 425, 429})


def signature(secret: bytes, timestamp: str, body: bytes) -> str:
    """``sha256=`` and the hex HMAC-SHA256 of ``<timestamp>.<body>`` under ``secret``."""
    return "sha256=" + hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


@dataclass(frozen=True, slots=True)
class Round:
    """What one round of attempts at a page came to."""

    delivered: bool
    attempts: int
    error: str | None = None


class WebhookSender:
    """Signs and posts a page, trying again with a doubling back-off on a network error or a 5xx."""

    def __init__(
        self,
        url: str,
        secret: bytes,
        *,
        attempts: int = 3,
        backoff_seconds: float = 1.0,
        timeout_seconds: float = 5.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.url = url
        self.secret = secret
        self.attempts = attempts
        self.backoff_seconds = backoff_seconds
        self.timeout_seconds = timeout_seconds
        self.clock = clock

    @property
    def longest_round_seconds(self) -> float:
        """The longest a round can take: every attempt timing out, and every back-off between them."""
        backoffs = sum(self.backoff_seconds * 2.0**attempt for attempt in range(self.attempts - 1))
        return self.attempts * self.timeout_seconds + backoffs

    async def send(self, client: httpx.AsyncClient, alert_id: uuid.UUID, body: bytes) -> Round:
        error = None
        for attempt in range(1, self.attempts + 1):
            timestamp = str(int(self.clock()))
            headers = {
                "Content-Type": "application/json",
                ALERT_HEADER: str(alert_id),
                TIMESTAMP_HEADER: timestamp,
                SIGNATURE_HEADER: signature(self.secret, timestamp, body),
            }
            try:
                answer = await client.post(
                    self.url, content=body, headers=headers, timeout=self.timeout_seconds
                )
            except httpx.HTTPError as failure:
                error = type(failure).__name__
            else:
                if answer.is_success:
                    return Round(delivered=True, attempts=attempt)
                error = f"http_{answer.status_code}"
                if answer.status_code < 500 and answer.status_code not in RETRIED_STATUSES:
                    return Round(delivered=False, attempts=attempt, error=error)
            if attempt < self.attempts:
                await asyncio.sleep(self.backoff_seconds * 2.0 ** (attempt - 1))
        return Round(delivered=False, attempts=self.attempts, error=error)


CANCEL_CLOSED = """
UPDATE deliveries d SET status = 'cancelled' FROM alerts a
WHERE a.alert_id = d.alert_id AND a.closed_at IS NOT NULL AND d.status IN ('pending', 'failed')
"""
CLAIM_DUE = """
WITH due AS (
    SELECT d.alert_id FROM deliveries d JOIN alerts a USING (alert_id)
    WHERE d.status IN ('pending', 'failed') AND d.next_attempt_at <= now() AND a.closed_at IS NULL
    ORDER BY d.next_attempt_at LIMIT $1 FOR UPDATE OF d SKIP LOCKED
)
UPDATE deliveries d SET next_attempt_at = now() + make_interval(secs => $2)
FROM due WHERE d.alert_id = due.alert_id
RETURNING d.alert_id, d.body
"""
RECORD_DELIVERED = """
UPDATE deliveries SET status = 'delivered', attempts = attempts + $2, last_attempt_at = now(),
    delivered_at = now(), last_error = NULL
WHERE alert_id = $1
"""
RECORD_FAILED = """
UPDATE deliveries SET status = 'failed', attempts = attempts + $2, rounds = rounds + 1,
    last_attempt_at = now(), last_error = $3,
    next_attempt_at = now() + make_interval(secs => least($4 * 2 ^ rounds, $5))
WHERE alert_id = $1
"""


class PageDispatcher:
    """Sends the due pages of the paging outbox: woken after each commit that staged one, and every
    ``poll_seconds`` for pages that failed before."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        sender: WebhookSender,
        *,
        poll_seconds: float = 5.0,
        retry_seconds: float = 60.0,
        batch_size: int = 50,
    ) -> None:
        self.pool = pool
        self.sender = sender
        self.poll_seconds = poll_seconds
        self.retry_seconds = retry_seconds
        self.batch_size = batch_size
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Look for due pages now (called after a commit that staged one)."""
        self._wake.set()

    async def run(self) -> None:
        """Send due pages until cancelled."""
        async with httpx.AsyncClient(follow_redirects=False) as client:
            while True:
                self._wake.clear()
                try:
                    while await self.dispatch_due(client) == self.batch_size:
                        pass
                except asyncio.CancelledError:
                    raise
                except Exception as error:
                    log.warning("pages not dispatched", error_type=type(error).__name__)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.poll_seconds)

    async def dispatch_due(self, client: httpx.AsyncClient) -> int:
        """Claim the due pages, send them side by side, record each outcome; return how many."""
        lease = self.sender.longest_round_seconds + 30.0
        async with self.pool.acquire() as connection, connection.transaction():
            await connection.execute(CANCEL_CLOSED)
            due = await connection.fetch(CLAIM_DUE, self.batch_size, lease)
        if not due:
            return 0
        rounds = await asyncio.gather(
            *(self.sender.send(client, row["alert_id"], bytes(row["body"])) for row in due)
        )
        async with self.pool.acquire() as connection:
            for row, outcome in zip(due, rounds, strict=True):
                if outcome.delivered:
                    await connection.execute(RECORD_DELIVERED, row["alert_id"], outcome.attempts)
                else:
                    await connection.execute(
                        RECORD_FAILED, row["alert_id"], outcome.attempts, outcome.error,
                        self.retry_seconds, MAX_RETRY_SECONDS,
                    )  # fmt: skip
                    log.warning(
                        "page not delivered", status="failed", reason=outcome.error, attempt=outcome.attempts
                    )
        return len(due)
