"""Monitoring's read model."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from itertools import groupby
from operator import itemgetter
from typing import Any

import asyncpg

from schemas.disclosure import DisclosureCancelledV1, DisclosureDecidedV1, DisclosureReviewedV1
from schemas.envelope import EventBase
from schemas.intake import ConsentRecordedV1, TipReceivedV1
from schemas.triage import (
    ResponsePlanAcknowledgedV1,
    ResponsePlanCompletedV1,
    ResponsePlanStartedV1,
    ResponsePlanStepCompletedV1,
    ResponsePlanStepFlaggedV1,
    ResponsePlanSupersededV1,
    TipTriagedV1,
)
from services.common.messaging import PostgresUnitOfWork
from services.monitoring.adapters.alerts import close_plan_alerts, close_review_alerts

READ_MODEL = "monitoring.read_model"


@dataclass
class ReadModelWrites:
    """The read model's changes of one transaction, in the order its events made them.

    They are sent before the commit, each run of one statement in one round trip (``executemany``
    pipelines them): a batch is applied topic by topic, so a batch of tips costs a round trip a
    statement, not one a tip (the response plans' statements interleave, so their runs are short).
    Nothing else in the transaction writes these tables, and nothing reads them before the commit but
    ``reference_of_plan``, which answers from what is kept here first: it never sends other events'
    writes from inside a handler, where a write the database refused would be blamed on that
    handler's event (set aside and applied before its own tip's earlier events).
    """

    statements: list[tuple[str, tuple[Any, ...]]] = field(default_factory=list)
    references: dict[uuid.UUID, str] = field(default_factory=dict)
    """The references of the tips this transaction records."""
    tips_of_plans: dict[uuid.UUID, uuid.UUID] = field(default_factory=dict)
    """The tips of the plans this transaction starts."""

    def add(self, statement: str, *arguments: Any) -> None:
        self.statements.append((statement, arguments))
        if statement == RECORD_TIP:
            self.references[arguments[0]] = arguments[8]
        elif statement == START_PLAN:
            self.tips_of_plans[arguments[0]] = arguments[1]

    async def flush(self, connection: asyncpg.Connection) -> None:
        pending, self.statements = self.statements, []
        for statement, run in groupby(pending, key=itemgetter(0)):
            await connection.executemany(statement, [arguments for _, arguments in run])


def read_model(uow: PostgresUnitOfWork) -> ReadModelWrites:
    return uow.staged(READ_MODEL, ReadModelWrites)


RECORD_TIP = (
    "INSERT INTO tips (tip_id, received_at, channel, language, province, outside_canada, trafficking_types,"
    " statistics_consent, reference) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (tip_id) DO NOTHING"
)
# A question not asked this time never erases an answer the caller gave before.
RECORD_CONSENT = (
    "UPDATE tips SET statistics_consent = coalesce($2, statistics_consent), consent_version = $3"
    " WHERE tip_id = $1 AND consent_version < $3"
)
RECORD_TRIAGE = (
    "UPDATE tips SET urgency = $2, triage_revision = $3, triaged_at = $4,"
    " trafficking_types = $5 WHERE tip_id = $1 AND triage_revision < $3"
)
# The plan and its steps in one statement: the foreign key is checked at its end, when both are in.
START_PLAN = """
WITH plan AS (
    INSERT INTO plans (plan_id, tip_id, urgency, started_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING
)
INSERT INTO plan_steps (plan_id, step, deadline)
SELECT $1, step, deadline FROM unnest($5::text[], $6::timestamptz[]) AS steps(step, deadline)
ON CONFLICT DO NOTHING
"""


def record_tip(uow: PostgresUnitOfWork, event: TipReceivedV1) -> None:
    facts = event.facts
    read_model(uow).add(
        RECORD_TIP,
        event.tip_id, event.received_at, facts.channel.value, facts.language,
        facts.location.province.value if facts.location.province else None, facts.outside_canada,
        [kind.value for kind in facts.assessment.trafficking_types], facts.consent.statistics, event.reference,
    )  # fmt: skip


def record_consent(uow: PostgresUnitOfWork, event: ConsentRecordedV1) -> None:
    read_model(uow).add(RECORD_CONSENT, event.tip_id, event.consent.statistics, event.version)


def record_triage(uow: PostgresUnitOfWork, event: TipTriagedV1) -> None:
    """The latest revision's urgency and types; a triage that overtakes its tip creates nothing."""
    read_model(uow).add(
        RECORD_TRIAGE,
        event.tip_id, event.urgency.value, event.revision, event.occurred_at,
        [kind.value for kind in event.facts.assessment.trafficking_types],
    )  # fmt: skip


async def countable_tips(
    connection: asyncpg.Connection, start: datetime, end: datetime
) -> list[asyncpg.Record]:
    """Tips received in [start, end) whose reporters did not say no to statistical use."""
    return list(
        await connection.fetch(
            "SELECT received_at, channel, province, outside_canada, trafficking_types FROM tips"
            " WHERE statistics_consent IS DISTINCT FROM false AND received_at >= $1 AND received_at < $2",
            start,
            end,
        )
    )


JOURNEY = "monitoring.journey"
WRITE_JOURNEY = """
INSERT INTO journey (tip_id, topic, event_type, occurred_at, detail)
SELECT tip_id, topic, event_type, occurred_at, detail
FROM unnest($1::uuid[], $2::text[], $3::text[], $4::timestamptz[], $5::text[])
     WITH ORDINALITY AS step(tip_id, topic, event_type, occurred_at, detail, position)
ORDER BY position
"""


def record_journey(uow: PostgresUnitOfWork, event: EventBase, topic: str, detail: str | None = None) -> None:
    """One step of a tip's journey: which event, when, and a code (never content). The steps of one
    transaction (a batch's events) are written together, in order, before it commits."""
    steps: list[tuple[uuid.UUID, str, str, datetime, str | None]] | None = uow.shared.get(JOURNEY)
    if steps is None:
        steps = uow.shared[JOURNEY] = []
        uow.before_commit(partial(_write_journey, uow.connection, steps))
    steps.append((event.tip_id, topic, event.event_type, event.occurred_at, detail))


async def _write_journey(
    connection: asyncpg.Connection, steps: list[tuple[uuid.UUID, str, str, datetime, str | None]]
) -> None:
    if steps:
        await connection.execute(WRITE_JOURNEY, *(list(column) for column in zip(*steps, strict=True)))
        steps.clear()


async def record_plan_event(uow: PostgresUnitOfWork, event: EventBase) -> None:
    writes = read_model(uow)
    if isinstance(event, ResponsePlanStartedV1):
        writes.add(
            START_PLAN,
            event.plan_id, event.tip_id, event.urgency.value, event.occurred_at,
            [step.step for step in event.steps], [step.deadline for step in event.steps],
        )  # fmt: skip
    elif isinstance(event, ResponsePlanStepFlaggedV1):
        column = "at_risk" if event.flag == "at_risk" else "breached"
        writes.add(
            f"UPDATE plan_steps SET {column} = true WHERE plan_id = $1 AND step = $2",
            event.plan_id,
            event.step,
        )
    elif isinstance(event, ResponsePlanStepCompletedV1):
        writes.add(
            "UPDATE plan_steps SET status = 'done' WHERE plan_id = $1 AND step = $2",
            event.plan_id,
            event.step,
        )
        await close_plan_alerts(uow.connection, event.plan_id, event.step)
    elif isinstance(event, ResponsePlanAcknowledgedV1):
        writes.add("UPDATE plans SET acknowledged = true WHERE plan_id = $1", event.plan_id)
    elif isinstance(event, ResponsePlanCompletedV1 | ResponsePlanSupersededV1):
        status = "completed" if isinstance(event, ResponsePlanCompletedV1) else "superseded"
        writes.add("UPDATE plans SET status = $2 WHERE plan_id = $1", event.plan_id, status)
        writes.add(
            "UPDATE plan_steps SET status = 'closed' WHERE plan_id = $1 AND status = 'open'", event.plan_id
        )
        await close_plan_alerts(uow.connection, event.plan_id)


async def record_disclosure_event(uow: PostgresUnitOfWork, event: EventBase) -> None:
    writes = read_model(uow)
    if isinstance(event, DisclosureDecidedV1):
        writes.add(
            # A decided case queued again (a revision, a follow-up) waits for a review again.
            "INSERT INTO reviews (tip_id, state, basis, review_due_at, queue, reviewed)"
            " VALUES ($1, $2, $3, $4, $5::text, $5::text IS NULL)"
            " ON CONFLICT (tip_id) DO UPDATE SET state = excluded.state, basis = excluded.basis,"
            " review_due_at = excluded.review_due_at, queue = excluded.queue, reviewed = excluded.reviewed,"
            " updated_at = now()",
            event.tip_id, event.state.value, event.basis.value, event.review_due_at,
            event.queue.value if event.queue else None,
        )  # fmt: skip
    elif isinstance(event, DisclosureReviewedV1):
        writes.add(
            "UPDATE reviews SET state = $2, reviewed = $3, updated_at = now() WHERE tip_id = $1",
            event.tip_id, event.state.value, event.verdict != "approval_recorded",
        )  # fmt: skip
        if event.verdict != "approval_recorded":
            await close_review_alerts(uow.connection, event.tip_id)
    elif isinstance(event, DisclosureCancelledV1):
        writes.add(
            "UPDATE reviews SET state = 'cancelled', updated_at = now() WHERE tip_id = $1", event.tip_id
        )
        await close_review_alerts(uow.connection, event.tip_id)


async def reference_of_plan(uow: PostgresUnitOfWork, plan_id: uuid.UUID) -> str | None:
    """The reference of a plan's tip, when the read model has it (with the transaction's own changes,
    read from what it keeps, not sent first)."""
    kept = read_model(uow)
    tip_id = kept.tips_of_plans.get(plan_id) or await uow.connection.fetchval(
        "SELECT tip_id FROM plans WHERE plan_id = $1", plan_id
    )
    if tip_id is None:
        return None
    reference: str | None = kept.references.get(tip_id) or await uow.connection.fetchval(
        "SELECT reference FROM tips WHERE tip_id = $1", tip_id
    )
    return reference
