"""One transaction per consumed event: inbox claim, state change and outbox rows commit together.

Delivery on Kafka is at least once; the inbox row ``(consumer, event_id)`` makes the effect happen
once, and the outbox row, written in the same transaction, makes sure the events that the effect
produces are published once the transaction commits and never before.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import asyncpg

from schemas.envelope import EventBase


@dataclass(slots=True)
class Transaction:
    connection: asyncpg.Connection

    async def claim(self, consumer: str, event_id: uuid.UUID) -> bool:
        """Record that ``consumer`` handles ``event_id``; False when it already has."""
        claimed = await self.connection.fetchval(
            "INSERT INTO inbox (consumer, event_id) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING true",
            consumer,
            event_id,
        )
        return bool(claimed)

    async def stage(self, topic: str, event: EventBase) -> None:
        """Queue ``event`` for publication on ``topic`` when this transaction commits."""
        headers = {"event_type": event.event_type, "content-type": "application/json"}
        if event.traceparent:
            headers["traceparent"] = event.traceparent
        await self.connection.execute(
            "INSERT INTO outbox (event_id, topic, key, payload, headers) VALUES ($1, $2, $3, $4, $5)",
            event.event_id,
            topic,
            event.partition_key,
            event.model_dump_json().encode(),
            headers,
        )


class UnitOfWork:
    """Opens the transactions of one service."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[Transaction]:
        async with self.pool.acquire() as connection, connection.transaction():
            yield Transaction(connection)
