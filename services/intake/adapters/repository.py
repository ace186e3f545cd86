"""Intake's tables."""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg

from schemas.tip import TipFacts, TipSubmission


async def insert_tip(
    connection: asyncpg.Connection,
    *,
    tip_id: uuid.UUID,
    reference: str,
    submission: TipSubmission,
    correlation_id: uuid.UUID,
    received_at: datetime,
) -> bool:
    """Store a tip; False when its reference is already taken."""
    inserted = await connection.fetchval(
        "INSERT INTO tips (tip_id, reference, channel, language, facts, narrative, contact,"
        " correlation_id, received_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        " ON CONFLICT (reference) DO NOTHING RETURNING true",
        tip_id,
        reference,
        submission.channel.value,
        submission.language,
        TipFacts.of(submission).model_dump(mode="json"),
        submission.narrative,
        submission.contact.model_dump(mode="json") if submission.contact else None,
        correlation_id,
        received_at,
    )
    return bool(inserted)
