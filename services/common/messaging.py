"""Units of work: what one handled event or one request changes commits together, or not at all.

Delivery on Kafka is at least once; the runtime's inbox row ``(consumer, event_id)`` makes each
effect happen once, and the outbox rows, written in the same transaction, make sure the events an
effect produces are published once the transaction commits and never before. Handlers stage events
on ``uow.outbox`` without any I/O; the runtime writes every staged row of a batch in one statement,
each signed by the service (``signing``) over the bytes the relay will publish.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from functools import partial
from typing import Any, Generic, Protocol, TypeVar

import asyncpg

from schemas import cloudevents
from schemas.envelope import Contract, EventBase, utc_now
from services.common.sealing import Keystore
from services.common.signing import EventSigner
from services.common.telemetry import current_traceparent


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    """A message staged for the broker: an event of ours, or a package for an outside recipient."""

    message_id: uuid.UUID
    topic: str
    key: bytes
    payload: bytes
    headers: dict[str, str]
    content: Contract
    scrub_after_send: bool = False
    coalesce: str | None = None
    """Messages of one transaction with the same ``coalesce`` are one: only the last is written."""


class Outbox:
    """The messages one unit of work stages; they reach the outbox table with its transaction."""

    def __init__(self) -> None:
        self.messages: list[OutboxMessage] = []

    def stage(self, topic: str, event: EventBase) -> None:
        """Queue ``event`` for ``topic``; it carries the current span's trace context to the next hop."""
        traceparent = current_traceparent()
        if traceparent:
            event = event.model_copy(update={"traceparent": traceparent})
        headers = {"event_type": event.event_type, **cloudevents.event_headers(event)}
        if event.traceparent:
            headers["traceparent"] = event.traceparent
        self.messages.append(
            OutboxMessage(
                event.event_id, topic, event.partition_key, event.model_dump_json().encode(), headers, event
            )
        )

    def stage_outbound(
        self,
        topic: str,
        message_id: uuid.UUID,
        key: bytes,
        message: Contract,
        message_type: str,
        producer: str,
        scrub_after_send: bool = True,
        coalesce: str | None = None,
    ) -> None:
        """Queue a message that is not one of our events (a package, an audit head); one that carries
        opened data is emptied once the broker has it. A later message of the same transaction with
        the same ``coalesce`` replaces this one (an audit head: the last covers every entry before it)."""
        version = getattr(message, "schema_version", 1)
        headers = {
            "message_type": message_type,
            **cloudevents.headers(
                message_id, message_type, version, cloudevents.source_of(producer), utc_now()
            ),
        }
        self.messages.append(
            OutboxMessage(
                message_id,
                topic,
                key,
                message.model_dump_json().encode(),
                headers,
                message,
                scrub_after_send=scrub_after_send,
                coalesce=coalesce,
            )
        )

    def withdraw(self, message_id: uuid.UUID) -> None:
        """Take a staged message off before its transaction writes it."""
        self.messages[:] = [message for message in self.messages if message.message_id != message_id]

    def events(self, kind: type[Contract] = Contract) -> list[Any]:
        """The staged messages of ``kind``, in order (what handler tests read)."""
        return [message.content for message in self.messages if isinstance(message.content, kind)]


class UnitOfWork:
    """One transaction's work: a service adds its repositories; the outbox and commit hooks are here."""

    def __init__(self) -> None:
        self.outbox = Outbox()
        self.committed: list[Callable[[], None]] = []
        self.flushes: list[Callable[[], Awaitable[None]]] = []
        self.shared: dict[str, Any] = {}
        """What the units of work of one transaction share (a batch's events each have their own, in
        one transaction): the runtime sets it before the handler runs."""
        self.batch_tips: tuple[uuid.UUID, ...] = ()
        """The tips of every event this transaction applies, set by the runtime with ``shared``: a
        repository may read what all of them need in one statement, the first time one is asked for.
        Empty for a request or a clock's tick, which read their one tip as asked."""

    def after_commit(self, action: Callable[[], None]) -> None:
        """Run ``action`` once the transaction has committed (metrics count only what happened)."""
        self.committed.append(action)

    def before_commit(self, flush: Callable[[], Awaitable[None]]) -> None:
        """Await ``flush`` in the transaction, after the handlers and before the outbox is written:
        rows a repository kept to write together."""
        self.flushes.append(flush)


class Staged(Protocol):
    """Rows a repository keeps for the whole transaction and writes together before it commits."""

    async def flush(self, connection: asyncpg.Connection) -> None: ...


StagedT = TypeVar("StagedT", bound=Staged)


class PostgresUnitOfWork(UnitOfWork):
    """A unit of work inside one PostgreSQL transaction on ``connection``; ``keystore`` opens tips'
    data keys for the services that hold sealed data."""

    def __init__(self, connection: asyncpg.Connection, keystore: Keystore | None = None) -> None:
        super().__init__()
        self.connection = connection
        self.keystore = keystore

    def staged(self, key: str, make: Callable[[], StagedT]) -> StagedT:
        """The transaction's rows kept under ``key``, shared by its units of work: the first to ask
        makes them and has them flushed before the commit."""
        state: StagedT | None = self.shared.get(key)
        if state is None:
            state = self.shared[key] = make()
            self.before_commit(partial(state.flush, self.connection))
        return state


UnitOfWorkT = TypeVar("UnitOfWorkT", bound=PostgresUnitOfWork)

WRITE_OUTBOX = """
INSERT INTO outbox (event_id, topic, key, payload, headers, scrub_after_send)
SELECT * FROM unnest($1::uuid[], $2::text[], $3::bytea[], $4::bytea[], $5::jsonb[], $6::boolean[])
"""


async def write_outbox(
    connection: asyncpg.Connection, messages: list[OutboxMessage], signer: EventSigner | None
) -> None:
    """Insert every staged message in one statement (one relay wake-up, one round trip).

    Each row is signed here, over its final bytes, rather than by the relay: a row written into the
    table by anyone else carries no valid signature, so the relay is no signing oracle. Without a
    signer (tests of storage alone) rows go unsigned, and any consumer refuses them.
    """
    if not messages:
        return
    if any(message.coalesce for message in messages):
        last = {message.coalesce: message for message in messages if message.coalesce}
        messages = [
            message for message in messages if not message.coalesce or last[message.coalesce] is message
        ]
    if signer is not None:
        messages = [
            replace(
                message,
                headers={**message.headers, **signer.headers(message.topic, message.key, message.payload)},
            )
            for message in messages
        ]
    await connection.execute(
        WRITE_OUTBOX,
        [message.message_id for message in messages],
        [message.topic for message in messages],
        [message.key for message in messages],
        [message.payload for message in messages],
        [message.headers for message in messages],
        [message.scrub_after_send for message in messages],
    )


class Transactions(Generic[UnitOfWorkT]):
    """Opens a service's transactions, each with a unit of work of the service's own kind."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        unit_of_work: Callable[[asyncpg.Connection], UnitOfWorkT],
        signer: EventSigner | None,
    ) -> None:
        self.pool = pool
        self.unit_of_work = unit_of_work
        self.signer = signer

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[UnitOfWorkT]:
        async with self.pool.acquire() as connection:
            async with connection.transaction():
                uow = self.unit_of_work(connection)
                yield uow
                for flush in uow.flushes:
                    await flush()
                await write_outbox(connection, uow.outbox.messages, self.signer)
            for action in uow.committed:
                action()

    @asynccontextmanager
    async def snapshot(self) -> AsyncIterator[UnitOfWorkT]:
        """A read-only transaction whose statements all see the database as of its first one.

        For a view that reads one record from several tables: under ``begin`` (read committed) each
        statement sees what committed before it, so a change committed between two of them would show
        in one table and not the other (a case's new audit entry beside its old permitted fields).
        """
        async with (
            self.pool.acquire() as connection,
            connection.transaction(isolation="repeatable_read", readonly=True),
        ):
            yield self.unit_of_work(connection)
