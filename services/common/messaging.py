"""One transaction per consumed event: inbox claim, state change and outbox rows commit together.

Delivery on Kafka is at least once; the inbox row ``(consumer, event_id)`` makes the effect happen
once, and the outbox row, written in the same transaction, makes sure the events that the effect
produces are published once the transaction commits and never before.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import asyncpg

from schemas.envelope import Contract, EventBase
from services.common.telemetry import current_traceparent


@dataclass(slots=True)
class Transaction:
    connection: asyncpg.Connection
    committed: list[Callable[[], None]] = field(default_factory=list)

    def after_commit(self, action: Callable[[], None]) -> None:
        """Run ``action`` once the transaction has committed (metrics count only what happened)."""
        self.committed.append(action)

    async def claim(self, consumer: str, event_id: uuid.UUID) -> bool:
        """Record that ``consumer`` handles ``event_id``; False when it already has."""
        claimed = await self.connection.fetchval(
            "INSERT INTO inbox (consumer, event_id) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING true",
            consumer,
            event_id,
        )
        return bool(claimed)

    async def stage(self, topic: str, event: EventBase) -> None:
        """Queue ``event`` for publication on ``topic`` when this transaction commits.

        The event carries the trace context of the span that produced it, so the next hop joins the trace.
        """
        traceparent = current_traceparent()
        if traceparent:
            event = event.model_copy(update={"traceparent": traceparent})
        headers = {"event_type": event.event_type, "content-type": "application/json"}
        if event.traceparent:
            headers["traceparent"] = event.traceparent
        await self._insert(
            event.event_id, topic, event.partition_key, event.model_dump_json().encode(), headers
        )

    async def stage_outbound(
        self, topic: str, message_id: uuid.UUID, key: bytes, message: Contract, message_type: str
    ) -> None:
        """Queue a message that leaves Lantern (for an outside recipient) with opened data in it.

        Its payload is emptied in the outbox as soon as the broker has it.
        """
        headers = {"message_type": message_type, "content-type": "application/json"}
        await self._insert(message_id, topic, key, message.model_dump_json().encode(), headers, scrub=True)

    async def _insert(
        self,
        message_id: uuid.UUID,
        topic: str,
        key: bytes,
        payload: bytes,
        headers: dict[str, str],
        scrub: bool = False,
    ) -> None:
        await self.connection.execute(
            "INSERT INTO outbox (event_id, topic, key, payload, headers, scrub_after_send)"
            " VALUES ($1, $2, $3, $4, $5, $6)",
            message_id, topic, key, payload, headers, scrub,
        )  # fmt: skip


class UnitOfWork:
    """Opens the transactions of one service."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[Transaction]:
        async with self.pool.acquire() as connection:
            async with connection.transaction():
                transaction = Transaction(connection)
                yield transaction
            for action in transaction.committed:
                action()
