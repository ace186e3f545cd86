"""Triage's tables."""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg

from services.triage.domain.classification import Classification
from services.triage.domain.plans import PlannedStep


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


async def start_plan(
    connection: asyncpg.Connection,
    *,
    plan_id: uuid.UUID,
    tip_id: uuid.UUID,
    urgency: str,
    template_version: str,
    correlation_id: uuid.UUID,
    steps: tuple[PlannedStep, ...],
) -> None:
    await connection.execute(
        "INSERT INTO response_plans (plan_id, tip_id, urgency, template_version, correlation_id)"
        " VALUES ($1, $2, $3, $4, $5)",
        plan_id,
        tip_id,
        urgency,
        template_version,
        correlation_id,
    )
    await connection.executemany(
        "INSERT INTO plan_steps (plan_id, step, position, at_risk_at, deadline) VALUES ($1, $2, $3, $4, $5)",
        [(plan_id, step.step, step.position, step.at_risk_at, step.deadline) for step in steps],
    )


DUE_FLAGS = """
SELECT s.plan_id, s.step, s.deadline, p.tip_id, p.correlation_id, p.breaches,
       s.flagged_at_risk_at IS NULL AND s.at_risk_at <= now() AS at_risk_due,
       s.flagged_breached_at IS NULL AND s.deadline <= now() AS breach_due
FROM plan_steps s JOIN response_plans p USING (plan_id)
WHERE s.status = 'open'
  AND ((s.flagged_at_risk_at IS NULL AND s.at_risk_at <= now())
    OR (s.flagged_breached_at IS NULL AND s.deadline <= now()))
ORDER BY s.deadline
LIMIT $1
FOR UPDATE OF s, p SKIP LOCKED
"""


async def claim_due_flags(connection: asyncpg.Connection, limit: int) -> list[asyncpg.Record]:
    """Lock the open steps with a flag now due; another clock skips them until this one commits."""
    return list(await connection.fetch(DUE_FLAGS, limit))


async def mark_flagged(
    connection: asyncpg.Connection, plan_id: uuid.UUID, step: str, at_risk: bool, breached: bool
) -> None:
    await connection.execute(
        "UPDATE plan_steps SET"
        " flagged_at_risk_at = CASE WHEN $3 THEN coalesce(flagged_at_risk_at, now()) ELSE flagged_at_risk_at END,"
        " flagged_breached_at = CASE WHEN $4 THEN now() ELSE flagged_breached_at END"
        " WHERE plan_id = $1 AND step = $2",
        plan_id,
        step,
        at_risk,
        breached,
    )
    if breached:
        await connection.execute(
            "UPDATE response_plans SET breaches = breaches + 1 WHERE plan_id = $1", plan_id
        )


async def next_flag_due(connection: asyncpg.Connection) -> datetime | None:
    due: datetime | None = await connection.fetchval(
        "SELECT min(least(CASE WHEN flagged_at_risk_at IS NULL THEN at_risk_at END,"
        " CASE WHEN flagged_breached_at IS NULL THEN deadline END))"
        " FROM plan_steps WHERE status = 'open'"
    )
    return due
