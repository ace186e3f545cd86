"""A consumed event has exactly one effect, however often and however concurrently it arrives."""

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest

from schemas.intake import TipReceivedV1
from services.common.db import apply_migrations, apply_shared_migrations, create_pool, service_migrations
from services.common.messaging import UnitOfWork
from services.common.sealing import KeyEncryptionKey, Keystore
from services.triage import handlers
from services.triage.app import SPEC
from tests.factories import tip_received


@pytest.fixture
async def triage_uow(database_url: str) -> AsyncIterator[UnitOfWork]:
    await apply_shared_migrations(database_url)
    await apply_migrations(database_url, SPEC.name, service_migrations(SPEC.migrations))
    pool = await create_pool(database_url, SPEC.name)
    try:
        yield UnitOfWork(pool)
    finally:
        await pool.close()


KEYSTORE = Keystore(KeyEncryptionKey(bytes(32)), "triage")


async def triage_tip(event: TipReceivedV1, uow: UnitOfWork) -> None:
    await handlers.triage_tip(event, uow, KEYSTORE)


async def effects(pool: asyncpg.Pool) -> tuple[int, int, int]:
    return (
        await pool.fetchval("SELECT count(*) FROM triage_decisions"),
        await pool.fetchval("SELECT count(*) FROM outbox WHERE topic = 'tips.triaged.v1'"),
        await pool.fetchval("SELECT count(*) FROM inbox"),
    )


async def test_a_redelivered_event_has_exactly_one_effect(triage_uow: UnitOfWork) -> None:
    event = tip_received(assessment={"minor_involved": "yes"})
    for _ in range(3):
        await triage_tip(event, triage_uow)
    assert await effects(triage_uow.pool) == (1, 1, 1)


async def test_two_concurrent_deliveries_of_one_event_have_exactly_one_effect(
    triage_uow: UnitOfWork,
) -> None:
    event = tip_received()
    await asyncio.gather(*(triage_tip(event, triage_uow) for _ in range(5)))
    assert await effects(triage_uow.pool) == (1, 1, 1)


async def test_distinct_events_each_have_their_effect(triage_uow: UnitOfWork) -> None:
    await asyncio.gather(*(triage_tip(tip_received(), triage_uow) for _ in range(10)))
    assert await effects(triage_uow.pool) == (10, 10, 10)


async def test_a_failed_effect_leaves_no_inbox_claim_so_the_event_can_be_retried(
    triage_uow: UnitOfWork,
) -> None:
    event = tip_received()
    async with triage_uow.pool.acquire() as connection:
        await connection.execute("ALTER TABLE triage_decisions ADD CONSTRAINT never CHECK (false) NOT VALID")
    with pytest.raises(asyncpg.CheckViolationError):
        await triage_tip(event, triage_uow)
    assert await effects(triage_uow.pool) == (0, 0, 0)
    async with triage_uow.pool.acquire() as connection:
        await connection.execute("ALTER TABLE triage_decisions DROP CONSTRAINT never")
    await triage_tip(event, triage_uow)
    assert await effects(triage_uow.pool) == (1, 1, 1)
