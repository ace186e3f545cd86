"""A consumed event has exactly one effect, however often and however concurrently it arrives:
triage's real use case, driven by the runtime's consume path on PostgreSQL."""

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest

from schemas import topics
from schemas.intake import TipReceivedV1
from services.common.consumer import BatchConsumer, DeadLetters, Route
from services.common.db import apply_migrations, apply_shared_migrations, create_pool, service_migrations
from services.common.messaging import Transactions
from services.common.sealing import KeyEncryptionKey, Keystore
from services.triage import handlers
from services.triage.adapters.postgres import TriageUnitOfWork
from services.triage.app import SPEC
from tests.factories import tip_received
from tests.keys import stack_keys
from tests.probe import RecordingProducer, records

KEYSTORE = Keystore(KeyEncryptionKey(bytes(32)), "triage")


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    await apply_shared_migrations(database_url)
    await apply_migrations(database_url, SPEC.name, service_migrations(SPEC.migrations))
    pool = await create_pool(database_url, SPEC.name)
    yield pool
    await pool.close()


def triage(pool: asyncpg.Pool) -> BatchConsumer:
    return BatchConsumer(
        service=SPEC.name,
        routes={topics.TIPS_RECEIVED: Route(TipReceivedV1, handlers.triage_tip)},
        transactions=Transactions(
            pool, TriageUnitOfWork.opening_keys_with(KEYSTORE), stack_keys().signer(SPEC.name)
        ),
        dead_letters=DeadLetters(RecordingProducer(), SPEC.name),  # type: ignore[arg-type]
        verifier=stack_keys().verifier(),
        max_attempts=2,
        backoff_seconds=0.001,
    )


async def effects(pool: asyncpg.Pool) -> tuple[int, int, int]:
    return (
        await pool.fetchval("SELECT count(*) FROM triage_decisions"),
        await pool.fetchval("SELECT count(*) FROM outbox WHERE topic = 'tips.triaged.v1'"),
        await pool.fetchval("SELECT count(*) FROM inbox WHERE status = 'done'"),
    )


async def test_a_redelivered_event_has_exactly_one_effect(pool: asyncpg.Pool) -> None:
    event = tip_received(assessment={"minor_involved": "yes"})
    for _ in range(3):
        await triage(pool).consume(records(event))
    assert await effects(pool) == (1, 1, 1)
    assert await pool.fetchval("SELECT count(*) FROM response_plans") == 1


async def test_two_concurrent_deliveries_of_one_event_have_exactly_one_effect(pool: asyncpg.Pool) -> None:
    event = tip_received()
    await asyncio.gather(*(triage(pool).consume(records(event)) for _ in range(5)))
    assert await effects(pool) == (1, 1, 1)


async def test_distinct_events_in_one_batch_each_have_their_effect(pool: asyncpg.Pool) -> None:
    await triage(pool).consume(records(*(tip_received() for _ in range(10))))
    assert await effects(pool) == (10, 10, 10)


async def test_a_failed_effect_leaves_its_neighbours_applied_and_itself_replayable(
    pool: asyncpg.Pool,
) -> None:
    failing, neighbour = tip_received(), tip_received()
    async with pool.acquire() as connection:
        await connection.execute(
            f"ALTER TABLE triage_decisions ADD CONSTRAINT never CHECK (tip_id <> '{failing.tip_id}') NOT VALID"
        )
    await triage(pool).consume(records(failing, neighbour))
    assert await effects(pool) == (1, 1, 1)
    assert await pool.fetchval("SELECT status FROM inbox WHERE event_id = $1", failing.event_id) == "poisoned"
    async with pool.acquire() as connection:
        await connection.execute("ALTER TABLE triage_decisions DROP CONSTRAINT never")
    await triage(pool).consume(records(failing))
    assert await effects(pool) == (2, 2, 2)
