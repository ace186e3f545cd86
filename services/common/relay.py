"""The outbox relay: publishes committed outbox rows to Kafka and marks them sent.

One relay per service schema leads at a time (a session advisory lock), so events of one tip leave
in the order they were staged; rows are still claimed with ``FOR UPDATE SKIP LOCKED`` so that a
relay that loses its lock mid-batch can never send the rows another relay is sending. A crash
between the send and the commit re-sends those rows: consumers deduplicate on ``event_id``.
"""

from __future__ import annotations

import asyncio
import contextlib

import asyncpg
from aiokafka import AIOKafkaProducer

from services.common.logging import get_logger

log = get_logger(__name__)

CLAIM_BATCH = """
SELECT id, topic, key, payload, headers FROM outbox
WHERE sent_at IS NULL ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED
"""


class OutboxRelay:
    def __init__(
        self,
        *,
        pool: asyncpg.Pool,
        database_url: str,
        schema: str,
        producer: AIOKafkaProducer,
        batch_size: int,
        poll_seconds: float,
    ) -> None:
        self.pool = pool
        self.database_url = database_url
        self.schema = schema
        self.producer = producer
        self.batch_size = batch_size
        self.poll_seconds = poll_seconds
        self.leading = False
        self.published = 0

    async def run(self) -> None:
        """Relay until cancelled, reconnecting after any failure."""
        failures = 0
        while True:
            try:
                await self._lead_and_relay()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                self.leading = False
                failures += 1
                delay = min(0.2 * 2**failures, 10.0)
                log.warning(
                    "outbox relay failed, restarting",
                    schema=self.schema,
                    error_type=type(error).__name__,
                    delay_seconds=delay,
                )
                await asyncio.sleep(delay)
            else:
                failures = 0

    async def _lead_and_relay(self) -> None:
        listener = await asyncpg.connect(self.database_url)
        try:
            await self._wait_for_leadership(listener)
            wake = asyncio.Event()
            await listener.add_listener(f"{self.schema}_outbox", lambda *_: wake.set())
            self.leading = True
            log.info("outbox relay leading", schema=self.schema)
            while not listener.is_closed():
                wake.clear()
                sent = await self.publish_batch()
                if sent < self.batch_size:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(wake.wait(), self.poll_seconds)
        finally:
            self.leading = False
            with contextlib.suppress(Exception):
                await listener.close()

    async def _wait_for_leadership(self, listener: asyncpg.Connection) -> None:
        """Hold the schema's relay lock on ``listener``; a standby retries once per poll."""
        lock = f"relay:{self.schema}"
        while True:
            if await listener.fetchval("SELECT pg_try_advisory_lock(hashtext($1))", lock):
                return
            await asyncio.sleep(self.poll_seconds)

    async def publish_batch(self) -> int:
        """Send one batch of unsent rows and mark them sent; return how many were sent."""
        async with self.pool.acquire() as connection, connection.transaction():
            rows = await connection.fetch(CLAIM_BATCH, self.batch_size)
            if not rows:
                return 0
            deliveries = [
                await self.producer.send(
                    row["topic"],
                    value=row["payload"],
                    key=row["key"],
                    headers=[(name, value.encode()) for name, value in row["headers"].items()],
                )
                for row in rows
            ]
            await asyncio.gather(*deliveries)
            await connection.execute(
                "UPDATE outbox SET sent_at = now(),"
                " payload = CASE WHEN scrub_after_send THEN ''::bytea ELSE payload END"
                " WHERE id = ANY($1::bigint[])",
                [row["id"] for row in rows],
            )
        self.published += len(rows)
        return len(rows)
