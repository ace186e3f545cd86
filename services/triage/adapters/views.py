"""What the staff API reads: plans and triages as supervisors see them, straight from the tables."""

from __future__ import annotations

import uuid

import asyncpg

PLANS = """
SELECT p.plan_id, p.tip_id, d.reference, p.urgency, p.status, p.template_version, p.started_at,
       p.acknowledged_at, p.closed_at, p.breaches,
       min(s.deadline) FILTER (WHERE s.status = 'open') AS next_deadline,
       jsonb_agg(jsonb_build_object(
           'step', s.step, 'status', s.status, 'at_risk_at', s.at_risk_at, 'deadline', s.deadline,
           'at_risk', s.flagged_at_risk_at IS NOT NULL, 'breached', s.flagged_breached_at IS NOT NULL,
           'outcome', s.outcome, 'completed_at', s.completed_at
       ) ORDER BY s.position) AS steps
FROM response_plans p
JOIN triage_decisions d USING (tip_id)
JOIN plan_steps s USING (plan_id)
WHERE {where}
GROUP BY p.plan_id, d.reference
ORDER BY next_deadline NULLS LAST, p.started_at
LIMIT $1
"""


async def open_plans(pool: asyncpg.Pool, limit: int) -> list[asyncpg.Record]:
    """Open plans, the one whose next open step is due soonest first."""
    return list(await pool.fetch(PLANS.format(where="p.status = 'open'"), limit))


async def plan(pool: asyncpg.Pool, plan_id: uuid.UUID) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await pool.fetchrow(PLANS.format(where="p.plan_id = $2"), 1, plan_id)
    return row


async def plans_of_tip(pool: asyncpg.Pool, tip_id: uuid.UUID) -> list[asyncpg.Record]:
    return list(await pool.fetch(PLANS.format(where="p.tip_id = $2"), 100, tip_id))


async def decision(pool: asyncpg.Pool, tip_id: uuid.UUID) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await pool.fetchrow(
        "SELECT tip_id, reference, urgency, revision, reasons, minor_involved, imminent_danger,"
        " ruleset_version, received_at, decided_at, updated_at, override_id FROM triage_decisions"
        " WHERE tip_id = $1",
        tip_id,
    )
    return row
