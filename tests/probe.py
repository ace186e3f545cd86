"""A service of its own for testing the consume path: it records each event it applies."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import asyncpg
from aiokafka.structs import ConsumerRecord

from schemas import topics
from schemas.intake import TipReceivedV1
from services.common.consumer import BatchConsumer, DeadLetters, Deferred, Rejected, Route
from services.common.db import apply_migrations, create_pool, service_migrations
from services.common.messaging import PostgresUnitOfWork, Transactions
from services.common.signing import EventVerifier
from tests.factories import tip_received
from tests.keys import signed_headers, stack_keys

SERVICE = "probe"


async def probe_pool(database_url: str, tmp_path: Path) -> asyncpg.Pool:
    """The probe service's schema (inbox, outbox and its effects table) and a pool on it."""
    own = tmp_path / "migrations"
    own.mkdir()
    (own / "0001_effects.sql").write_text(
        "CREATE TABLE effects (seq bigint GENERATED ALWAYS AS IDENTITY, event_id uuid NOT NULL UNIQUE,"
        " tip_id uuid NOT NULL);"
    )
    await apply_migrations(database_url, SERVICE, service_migrations(own))
    return await create_pool(database_url, SERVICE)


class RecordingProducer:
    """Stands in for the broker's producer: what the consumer dead-letters, kept in order."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes, dict[str, bytes]]] = []

    async def send_and_wait(self, topic: str, value: bytes, key: bytes, headers: Any) -> None:
        self.sent.append((topic, value, dict(headers)))


@dataclass
class Probe:
    """A use case that records each event it applies; it fails on the events named poison, defers
    an event until the one it needs is applied, and can find the database unreachable at first."""

    poison: set[uuid.UUID] = field(default_factory=set)
    needs: dict[uuid.UUID, uuid.UUID] = field(default_factory=dict)
    refuse: set[uuid.UUID] = field(default_factory=set)
    unreachable_for: int = 0
    """How many calls, first, find the database unreachable."""
    calls: list[uuid.UUID] = field(default_factory=list)
    batch_tips: list[tuple[uuid.UUID, ...]] = field(default_factory=list)
    """The batch's tips each call was told (``UnitOfWork.batch_tips``)."""

    async def __call__(self, event: TipReceivedV1, uow: PostgresUnitOfWork) -> None:
        self.calls.append(event.event_id)
        self.batch_tips.append(uow.batch_tips)
        if len(self.calls) <= self.unreachable_for:
            raise ConnectionRefusedError("database is restarting")
        if event.event_id in self.poison:
            raise ValueError("this event cannot be handled")
        if event.event_id in self.refuse:
            raise Rejected("this event is refused")
        needed = self.needs.get(event.event_id)
        if needed and not await uow.connection.fetchval("SELECT 1 FROM effects WHERE event_id = $1", needed):
            raise Deferred
        await uow.connection.execute(
            "INSERT INTO effects (event_id, tip_id) VALUES ($1, $2)", event.event_id, event.tip_id
        )
        uow.outbox.stage(
            topics.TIPS_TRIAGED, event.model_copy(update={"event_id": uuid.uuid5(event.event_id, "x")})
        )


def consumer_of(
    pool: asyncpg.Pool,
    probe: Probe,
    producer: Any,
    verifier: EventVerifier | None = None,
    reads_tip: bool = True,
) -> BatchConsumer:
    return BatchConsumer(
        service=SERVICE,
        routes={topics.TIPS_RECEIVED: Route(TipReceivedV1, probe, reads_tip=reads_tip)},
        transactions=Transactions(pool, PostgresUnitOfWork, stack_keys().signer(SERVICE)),
        dead_letters=DeadLetters(producer, SERVICE),  # type: ignore[arg-type]
        verifier=verifier or stack_keys().verifier(),
        max_attempts=3,
        backoff_seconds=0.001,
    )


def records(*events: TipReceivedV1, first_offset: int = 0) -> list[ConsumerRecord[bytes, bytes]]:
    """The events as the broker hands them over, each signed by intake."""
    return [
        signed(record)
        for record in [
            ConsumerRecord(
                topics.TIPS_RECEIVED,
                0,
                first_offset + number,
                0,
                0,
                event.partition_key,
                event.model_dump_json().encode(),
                None,
                0,
                0,
                [],
            )
            for number, event in enumerate(events)
        ]
    ]


def signed(record: ConsumerRecord[bytes, bytes]) -> ConsumerRecord[bytes, bytes]:
    """``record`` with its producer's signature over its topic, key and value, as the relay sends it."""
    return replace(record, headers=signed_headers(record.topic, record.key, record.value or b""))


def of_tip(tip: TipReceivedV1) -> TipReceivedV1:
    """Another event of the same tip."""
    return tip_received().model_copy(update={"tip_id": tip.tip_id})
