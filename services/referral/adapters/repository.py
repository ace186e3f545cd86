"""Referral's tables."""

from __future__ import annotations

import uuid

import asyncpg

from schemas.tip import Need
from services.referral.domain.matching import Match, Provider


async def active_providers(connection: asyncpg.Connection) -> list[Provider]:
    rows = await connection.fetch(
        "SELECT provider_id, name, areas, services, languages FROM providers WHERE active"
    )
    return [
        Provider(
            provider_id=row["provider_id"],
            name=row["name"],
            areas=frozenset(row["areas"]),
            services=frozenset(Need(service) for service in row["services"]),
            languages=frozenset(row["languages"]),
        )
        for row in rows
    ]


async def save_match(
    connection: asyncpg.Connection, tip_id: uuid.UUID, result: Match, source_event_id: uuid.UUID
) -> None:
    await connection.execute(
        # A revised triage (new needs, a new place) matches again; the latest proposals stand.
        "INSERT INTO referral_matches (tip_id, status, source_event_id) VALUES ($1, $2, $3)"
        " ON CONFLICT (tip_id) DO UPDATE SET status = excluded.status, source_event_id = excluded.source_event_id",
        tip_id,
        result.status.value,
        source_event_id,
    )
    await connection.execute("DELETE FROM referral_proposals WHERE tip_id = $1", tip_id)
    await connection.executemany(
        "INSERT INTO referral_proposals (tip_id, provider_id, rank) VALUES ($1, $2, $3)",
        [(tip_id, proposal.provider_id, rank) for rank, proposal in enumerate(result.proposals, 1)],
    )
