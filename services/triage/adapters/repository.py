"""Triage's tables."""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg

from services.triage.domain.classification import Classification


async def save_decision(
    connection: asyncpg.Connection,
    tip_id: uuid.UUID,
    classification: Classification,
    source_event_id: uuid.UUID,
    received_at: datetime,
) -> None:
    await connection.execute(
        "INSERT INTO triage_decisions (tip_id, urgency, reasons, minor_involved, imminent_danger,"
        " ruleset_version, source_event_id, received_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        tip_id,
        classification.urgency.value,
        [reason.model_dump() for reason in classification.reasons],
        classification.minor_involved,
        classification.imminent_danger,
        classification.ruleset_version,
        source_event_id,
        received_at,
    )
