"""Monitoring's read model."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from schemas.intake import ConsentRecordedV1, TipReceivedV1
from schemas.triage import TipTriagedV1


async def record_tip(connection: asyncpg.Connection, event: TipReceivedV1) -> None:
    facts = event.facts
    await connection.execute(
        "INSERT INTO tips (tip_id, received_at, channel, language, province, outside_canada, trafficking_types,"
        " statistics_consent) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (tip_id) DO NOTHING",
        event.tip_id, event.received_at, facts.channel.value, facts.language,
        facts.location.province.value if facts.location.province else None, facts.outside_canada,
        [kind.value for kind in facts.assessment.trafficking_types], facts.consent.statistics,
    )  # fmt: skip


async def record_consent(connection: asyncpg.Connection, event: ConsentRecordedV1) -> None:
    await connection.execute(
        "UPDATE tips SET statistics_consent = $2, consent_version = $3 WHERE tip_id = $1 AND consent_version < $3",
        event.tip_id, event.consent.statistics, event.version,
    )  # fmt: skip


async def record_triage(connection: asyncpg.Connection, event: TipTriagedV1) -> None:
    """The latest revision's urgency and types; a triage that overtakes its tip creates nothing."""
    await connection.execute(
        "UPDATE tips SET urgency = $2, triage_revision = $3, triaged_at = $4,"
        " trafficking_types = $5 WHERE tip_id = $1 AND triage_revision < $3",
        event.tip_id, event.urgency.value, event.revision, event.occurred_at,
        [kind.value for kind in event.facts.assessment.trafficking_types],
    )  # fmt: skip


async def consented_tips(
    connection: asyncpg.Connection, start: datetime, end: datetime
) -> list[asyncpg.Record]:
    """Tips received in [start, end) whose reporters allowed statistical use."""
    return list(
        await connection.fetch(
            "SELECT received_at, channel, province, outside_canada, trafficking_types FROM tips"
            " WHERE statistics_consent AND received_at >= $1 AND received_at < $2",
            start,
            end,
        )
    )
