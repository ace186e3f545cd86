"""Referral's proposals of one match: written in one round trip, and a provider already referred keeps
its referral."""

from __future__ import annotations

import uuid

import asyncpg

from services.common.db import apply_migrations, apply_shared_migrations, create_pool, service_migrations
from services.referral.adapters import repository
from services.referral.app import SPEC
from tests.integration.test_round_trips import Statements


def proposed(*providers: str) -> list[repository.Proposed]:
    return [
        repository.Proposed(uuid.uuid4(), provider, rank, 1.0 / rank, [{"code": "test"}])
        for rank, provider in enumerate(providers, 1)
    ]


async def matched_tip(connection: asyncpg.Connection) -> uuid.UUID:
    tip_id = uuid.uuid4()
    await connection.execute(
        "INSERT INTO referral_matches (tip_id, correlation_id, status, triage_revision, source_event_id)"
        " VALUES ($1, $2, 'proposed', 1, $3)",
        tip_id, uuid.uuid4(), uuid.uuid4(),
    )  # fmt: skip
    return tip_id


async def test_a_match_s_proposals_cost_one_statement_and_a_provider_referred_before_keeps_its_referral(
    database_url: str,
) -> None:
    await apply_shared_migrations(database_url)
    await apply_migrations(database_url, SPEC.name, service_migrations(SPEC.migrations))
    pool = await create_pool(database_url, SPEC.name, max_size=1)
    try:
        statements = Statements()
        await statements.watch(pool)
        async with pool.acquire() as connection, connection.transaction():
            tip_id = await matched_tip(connection)
            first = proposed("shelter-a", "legal-b", "health-c")
            ids = await repository.add_referrals(connection, tip_id, first)
            assert ids == [row.referral_id for row in first]
            again = proposed("legal-b", "counsel-d")
            assert await repository.add_referrals(connection, tip_id, again) == [
                first[1].referral_id,
                again[1].referral_id,
            ]
            ranks = await connection.fetch(
                "SELECT provider_id, rank FROM referrals WHERE tip_id = $1 ORDER BY provider_id", tip_id
            )
            assert [tuple(row) for row in ranks] == [
                ("counsel-d", 2), ("health-c", 3), ("legal-b", 1), ("shelter-a", 1),
            ]  # fmt: skip
            assert await repository.add_referrals(connection, tip_id, []) == []
        # One statement each time (the logger sees a pipelined run as one), not one a provider.
        proposing = [text for text in statements.sent if text.startswith("INSERT INTO referrals")]
        assert len(proposing) == 2, proposing
    finally:
        await pool.close()
