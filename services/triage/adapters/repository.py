"""Triage's tables."""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg

from schemas.intake import TipReceivedV1, TipSupplementedV1
from schemas.triage import Reason, Urgency
from services.triage.domain.classification import Classification
from services.triage.domain.plans import PlannedStep


async def save_decision(
    connection: asyncpg.Connection,
    event: TipReceivedV1,
    classification: Classification,
) -> None:
    await connection.execute(
        "INSERT INTO triage_decisions (tip_id, urgency, reasons, minor_involved, imminent_danger,"
        " ruleset_version, source_event_id, received_at, reference, correlation_id, traceparent,"
        " received_facts, sealed_narrative, auto_urgency, auto_reason_codes)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $2, $14)",
        event.tip_id,
        classification.urgency.value,
        [reason.model_dump() for reason in classification.reasons],
        classification.minor_involved,
        classification.imminent_danger,
        classification.ruleset_version,
        event.event_id,
        event.received_at,
        event.reference,
        event.correlation_id,
        event.traceparent,
        event.facts.model_dump(mode="json"),
        event.identifiers.narrative,
        sorted(classification.urgent_grounds),
    )


async def lock_decision(connection: asyncpg.Connection, tip_id: uuid.UUID) -> asyncpg.Record | None:
    """The tip's current triage, locked until the transaction ends: revisions happen one at a time."""
    row: asyncpg.Record | None = await connection.fetchrow(
        "SELECT * FROM triage_decisions WHERE tip_id = $1 FOR UPDATE", tip_id
    )
    return row


async def revise_decision(
    connection: asyncpg.Connection,
    tip_id: uuid.UUID,
    urgency: Urgency,
    reasons: tuple[Reason, ...],
    classification: Classification,
    override_id: uuid.UUID | None,
) -> int:
    """Record a new revision of the tip's triage; return its number."""
    revision: int = await connection.fetchval(
        "UPDATE triage_decisions SET revision = revision + 1, urgency = $2, reasons = $3,"
        " minor_involved = $4, imminent_danger = $5, ruleset_version = $6, auto_urgency = $7,"
        " auto_reason_codes = $8, override_id = $9, updated_at = now()"
        " WHERE tip_id = $1 RETURNING revision",
        tip_id,
        urgency.value,
        [reason.model_dump() for reason in reasons],
        classification.minor_involved,
        classification.imminent_danger,
        classification.ruleset_version,
        classification.urgency.value,
        sorted(classification.urgent_grounds),
        override_id,
    )
    return revision


async def save_supplement(connection: asyncpg.Connection, event: TipSupplementedV1) -> None:
    await connection.execute(
        "INSERT INTO tip_supplements (supplement_id, tip_id, facts_update, sealed_narrative, received_at)"
        " VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        event.supplement_id,
        event.tip_id,
        event.update.model_dump(mode="json"),
        event.identifiers.narrative,
        event.received_at,
    )


async def supplements(connection: asyncpg.Connection, tip_id: uuid.UUID) -> list[asyncpg.Record]:
    return list(
        await connection.fetch(
            "SELECT supplement_id, facts_update, sealed_narrative FROM tip_supplements"
            " WHERE tip_id = $1 ORDER BY received_at, supplement_id",
            tip_id,
        )
    )


async def record_override(
    connection: asyncpg.Connection,
    *,
    override_id: uuid.UUID,
    tip_id: uuid.UUID,
    revision: int,
    from_urgency: Urgency,
    to_urgency: Urgency,
    reason: str,
    sealed_note: str | None,
    staff_token_id: uuid.UUID,
    staff_role: str,
) -> None:
    await connection.execute(
        "INSERT INTO urgency_overrides (override_id, tip_id, revision, from_urgency, to_urgency, reason,"
        " sealed_note, staff_token_id, staff_role) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        override_id, tip_id, revision, from_urgency.value, to_urgency.value, reason, sealed_note,
        staff_token_id, staff_role,
    )  # fmt: skip


async def overrides(connection: asyncpg.Connection, tip_id: uuid.UUID) -> list[asyncpg.Record]:
    return list(
        await connection.fetch(
            "SELECT override_id, revision, from_urgency, to_urgency, reason, sealed_note, staff_token_id,"
            " staff_role, overridden_at FROM urgency_overrides WHERE tip_id = $1 ORDER BY overridden_at",
            tip_id,
        )
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
    """Start a plan; the unique index on a tip's open plan refuses a second one."""
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


async def lock_open_plan_of_tip(connection: asyncpg.Connection, tip_id: uuid.UUID) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await connection.fetchrow(
        "SELECT * FROM response_plans WHERE tip_id = $1 AND status = 'open' FOR UPDATE", tip_id
    )
    return row


async def lock_plan(connection: asyncpg.Connection, plan_id: uuid.UUID) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await connection.fetchrow(
        "SELECT p.*, d.traceparent FROM response_plans p JOIN triage_decisions d USING (tip_id)"
        " WHERE p.plan_id = $1 FOR UPDATE OF p",
        plan_id,
    )
    return row


async def supersede_plan(connection: asyncpg.Connection, plan_id: uuid.UUID) -> None:
    """Close a plan whose urgency no longer holds; its open steps will never be flagged again."""
    await connection.execute(
        "UPDATE plan_steps SET status = 'cancelled' WHERE plan_id = $1 AND status = 'open'", plan_id
    )
    await connection.execute(
        "UPDATE response_plans SET status = 'superseded', closed_at = now() WHERE plan_id = $1", plan_id
    )


async def acknowledge_plan(
    connection: asyncpg.Connection, plan_id: uuid.UUID, staff_token_id: uuid.UUID
) -> None:
    await connection.execute(
        "UPDATE response_plans SET acknowledged_at = now(), acknowledged_by = $2 WHERE plan_id = $1",
        plan_id,
        staff_token_id,
    )


async def plan_step(connection: asyncpg.Connection, plan_id: uuid.UUID, step: str) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await connection.fetchrow(
        "SELECT * FROM plan_steps WHERE plan_id = $1 AND step = $2", plan_id, step
    )
    return row


async def complete_step(
    connection: asyncpg.Connection, plan_id: uuid.UUID, step: str, outcome: str
) -> datetime:
    completed_at: datetime = await connection.fetchval(
        "UPDATE plan_steps SET status = 'done', outcome = $3, completed_at = now()"
        " WHERE plan_id = $1 AND step = $2 RETURNING completed_at",
        plan_id,
        step,
        outcome,
    )
    return completed_at


async def open_steps(connection: asyncpg.Connection, plan_id: uuid.UUID) -> int:
    count: int = await connection.fetchval(
        "SELECT count(*) FROM plan_steps WHERE plan_id = $1 AND status = 'open'", plan_id
    )
    return count


async def complete_plan(connection: asyncpg.Connection, plan_id: uuid.UUID) -> None:
    await connection.execute(
        "UPDATE response_plans SET status = 'completed', closed_at = now() WHERE plan_id = $1", plan_id
    )


async def record_plan_action(
    connection: asyncpg.Connection,
    plan_id: uuid.UUID,
    action: str,
    staff_token_id: uuid.UUID,
    staff_role: str,
    step: str | None = None,
    outcome: str | None = None,
) -> None:
    await connection.execute(
        "INSERT INTO plan_actions (plan_id, step, action, outcome, staff_token_id, staff_role)"
        " VALUES ($1, $2, $3, $4, $5, $6)",
        plan_id, step, action, outcome, staff_token_id, staff_role,
    )  # fmt: skip


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


async def open_plans(connection: asyncpg.Connection | asyncpg.Pool, limit: int) -> list[asyncpg.Record]:
    """Open plans, the one whose next open step is due soonest first."""
    return list(await connection.fetch(PLANS.format(where="p.status = 'open'"), limit))


async def plan(connection: asyncpg.Connection | asyncpg.Pool, plan_id: uuid.UUID) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await connection.fetchrow(PLANS.format(where="p.plan_id = $2"), 1, plan_id)
    return row


async def plans_of_tip(
    connection: asyncpg.Connection | asyncpg.Pool, tip_id: uuid.UUID
) -> list[asyncpg.Record]:
    return list(await connection.fetch(PLANS.format(where="p.tip_id = $2"), 100, tip_id))


async def decision(connection: asyncpg.Connection | asyncpg.Pool, tip_id: uuid.UUID) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await connection.fetchrow(
        "SELECT tip_id, reference, urgency, revision, reasons, minor_involved, imminent_danger,"
        " ruleset_version, received_at, decided_at, updated_at, override_id FROM triage_decisions"
        " WHERE tip_id = $1",
        tip_id,
    )
    return row
