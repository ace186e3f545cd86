import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer

from schemas import topics
from services.common.db import apply_migrations, create_pool, service_migrations
from services.common.kafka import create_producer
from services.common.messaging import PostgresUnitOfWork, Transactions
from services.common.relay import OutboxRelay
from services.triage.app import SPEC
from tests.factories import tip_received
from tests.helpers import eventually, read_until
from tests.keys import stack_keys


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    await apply_migrations(database_url, SPEC.name, service_migrations(SPEC.migrations))
    pool = await create_pool(database_url, SPEC.name)
    yield pool
    await pool.close()


@pytest.fixture
async def producer(kafka: str) -> AsyncIterator[AIOKafkaProducer]:
    producer = create_producer(kafka, "test", enable_idempotence=False)
    await producer.start()
    yield producer
    await producer.stop()


@contextlib.asynccontextmanager
async def relaying(relay: OutboxRelay) -> AsyncIterator[OutboxRelay]:
    task = asyncio.create_task(relay.run())
    try:
        yield relay
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def relay_for(pool: asyncpg.Pool, database_url: str, producer: AIOKafkaProducer, poll: float) -> OutboxRelay:
    return OutboxRelay(
        pool=pool,
        database_url=database_url,
        schema=SPEC.name,
        producer=producer,
        batch_size=50,
        poll_seconds=poll,
    )


async def stage(pool: asyncpg.Pool, count: int, tip_id: uuid.UUID | None = None) -> list[str]:
    staged = []
    async with Transactions(pool, PostgresUnitOfWork, stack_keys().signer("intake")).begin() as tx:
        for _ in range(count):
            event = tip_received()
            if tip_id is not None:
                event = event.model_copy(update={"tip_id": tip_id})
            tx.outbox.stage(topics.TIPS_RECEIVED, event)
            staged.append(str(event.event_id))
    return staged


async def test_staged_events_are_published_in_order_and_marked_sent(
    pool: asyncpg.Pool, database_url: str, producer: AIOKafkaProducer, kafka: str
) -> None:
    tip_id = uuid.uuid4()
    staged = await stage(pool, 120, tip_id)
    async with relaying(relay_for(pool, database_url, producer, poll=0.2)):
        records = await read_until(kafka, (topics.TIPS_RECEIVED,), lambda rs: len(rs) >= 120)
        assert await eventually(
            lambda: pool.fetchval("SELECT count(*) = 0 FROM outbox WHERE sent_at IS NULL")
        )
    assert [record.json()["event_id"] for record in records] == staged
    assert {record.key for record in records} == {str(tip_id).encode()}


async def test_the_relay_wakes_on_notify_rather_than_waiting_for_its_poll(
    pool: asyncpg.Pool, database_url: str, producer: AIOKafkaProducer, kafka: str
) -> None:
    relay = relay_for(pool, database_url, producer, poll=60)
    async with relaying(relay):
        assert await eventually(lambda: asyncio.sleep(0, relay.leading))
        await stage(pool, 1)
        records = await read_until(kafka, (topics.TIPS_RECEIVED,), lambda rs: len(rs) >= 1, timeout=10)
    assert len(records) == 1, "only a NOTIFY can have woken a relay that polls once a minute"


async def test_only_one_relay_of_a_service_leads_at_a_time(
    pool: asyncpg.Pool, database_url: str, producer: AIOKafkaProducer, kafka: str
) -> None:
    first, second = (relay_for(pool, database_url, producer, poll=0.1) for _ in range(2))
    async with relaying(first), relaying(second):
        staged = await stage(pool, 30)
        records = await read_until(kafka, (topics.TIPS_RECEIVED,), lambda rs: len(rs) >= 30)
        assert await eventually(
            lambda: pool.fetchval("SELECT count(*) = 0 FROM outbox WHERE sent_at IS NULL")
        )
        assert first.leading != second.leading
    assert sorted(record.json()["event_id"] for record in records) == sorted(staged)
    assert first.published + second.published == 30
