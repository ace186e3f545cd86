"""Triage's repositories on PostgreSQL, all on the connection of one transaction.

A plan's row is its lock: every change to a plan or its steps first locks the plan row, and reads its
steps only once it holds it, so what a use case decides on is what is committed.

New decisions and plans (with their steps and actions) are not inserted one by one: the units of
work of one transaction (a batch's events) keep them in ``Pending`` and write each table's rows in
one round trip before the commit (``before_commit``). Until then a later event of the same tip in
the same transaction reads them from there, so it sees what the earlier one did; a row the database
refuses fails the flush, and the runtime then applies the batch one event at a time to find whose.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial

import asyncpg

from schemas.intake import FactsUpdate
from schemas.tip import TipFacts
from schemas.triage import OverrideReason, Reason, Urgency
from services.common.messaging import PostgresUnitOfWork
from services.common.sealing import DataKey, KeyConfigurationError, Keystore
from services.triage.domain.actor import Actor
from services.triage.domain.decision import Decision, Override, Supplement
from services.triage.domain.plan import (
    PlanAction,
    PlanAlreadyOpen,
    PlanStatus,
    ResponsePlan,
    Step,
    StepStatus,
)
from services.triage.ports import TriageWork

ONE_OPEN_PLAN_PER_TIP = "response_plans_one_open_per_tip"
PENDING = "triage.pending"

ADD_DECISION = (
    "INSERT INTO triage_decisions (tip_id, urgency, reasons, minor_involved, imminent_danger,"
    " ruleset_version, source_event_id, received_at, reference, correlation_id, traceparent,"
    " received_facts, sealed_narrative, auto_urgency, auto_reason_codes, revision, override_id)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)"
)
ADD_PLAN = (
    "INSERT INTO response_plans (plan_id, tip_id, urgency, template_version, correlation_id,"
    " status, breaches, started_at, acknowledged_at, acknowledged_by, closed_at)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
)
ADD_STEP = (
    "INSERT INTO plan_steps (plan_id, step, position, at_risk_at, deadline, status, outcome,"
    " completed_at, flagged_at_risk_at, flagged_breached_at)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
)
ADD_ACTION = (
    "INSERT INTO plan_actions (plan_id, step, action, outcome, staff_token_id, staff_role, acted_at)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7)"
)


@dataclass
class Pending:
    """New rows of one transaction, kept to be written together before it commits, in the order
    they were added: a tip's decision and plans as they stand now, and the plans' actions."""

    decisions: list[Decision] = field(default_factory=list)
    plans: list[ResponsePlan] = field(default_factory=list)
    actions: list[tuple[uuid.UUID, PlanAction]] = field(default_factory=list)

    def decision_of(self, tip_id: uuid.UUID) -> Decision | None:
        return next((d for d in reversed(self.decisions) if d.tip_id == tip_id), None)

    def plan(self, found: Callable[[ResponsePlan], bool]) -> ResponsePlan | None:
        return next((plan for plan in reversed(self.plans) if found(plan)), None)

    def saved(self, decision: Decision) -> bool:
        """Keep a pending decision as it is now; False when its tip's decision is not pending."""
        for number in range(len(self.decisions) - 1, -1, -1):
            if self.decisions[number].tip_id == decision.tip_id:
                self.decisions[number] = copy.deepcopy(decision)
                return True
        return False

    def saved_plan(self, plan: ResponsePlan) -> bool:
        """Keep a pending plan as it is now, its new actions with it; False when it is not pending."""
        for number in range(len(self.plans) - 1, -1, -1):
            if self.plans[number].plan_id == plan.plan_id:
                self.actions += [(plan.plan_id, action) for action in plan.take_actions()]
                self.plans[number] = copy.deepcopy(plan)
                return True
        return False

    async def flush(self, connection: asyncpg.Connection) -> None:
        decisions, plans, actions = self.decisions, self.plans, self.actions
        self.decisions, self.plans, self.actions = [], [], []
        if decisions:
            await connection.executemany(ADD_DECISION, [_decision_values(d) for d in decisions])
        if plans:
            try:
                await connection.executemany(ADD_PLAN, [_plan_values(plan) for plan in plans])
            except asyncpg.UniqueViolationError as error:
                if error.constraint_name == ONE_OPEN_PLAN_PER_TIP:
                    raise PlanAlreadyOpen from None
                raise
            await connection.executemany(ADD_STEP, [row for plan in plans for row in _step_values(plan)])
        if actions:
            await connection.executemany(ADD_ACTION, [_action_values(*action) for action in actions])


def pending_of(uow: PostgresUnitOfWork) -> Pending:
    """The transaction's pending rows, shared by its units of work; flushed before it commits."""
    pending: Pending | None = uow.shared.get(PENDING)
    if pending is None:
        pending = uow.shared[PENDING] = Pending()
        uow.before_commit(partial(pending.flush, uow.connection))
    return pending


def _decision_values(decision: Decision) -> tuple[object, ...]:
    return (
        decision.tip_id, decision.urgency.value, [reason.model_dump() for reason in decision.reasons],
        decision.minor_involved, decision.imminent_danger, decision.ruleset_version,
        decision.source_event_id, decision.received_at, decision.reference, decision.correlation_id,
        decision.traceparent, decision.received_facts.model_dump(mode="json"), decision.sealed_narrative,
        decision.auto_urgency.value, sorted(decision.auto_grounds), decision.revision, decision.override_id,
    )  # fmt: skip


def _plan_values(plan: ResponsePlan) -> tuple[object, ...]:
    return (
        plan.plan_id, plan.tip_id, plan.urgency.value, plan.template_version, plan.correlation_id,
        plan.status.value, plan.breaches, plan.started_at, plan.acknowledged_at, plan.acknowledged_by,
        plan.closed_at,
    )  # fmt: skip


def _step_values(plan: ResponsePlan) -> list[tuple[object, ...]]:
    return [
        (
            plan.plan_id, step.name, step.position, step.at_risk_at, step.deadline, step.status.value,
            step.outcome, step.completed_at, step.flagged_at_risk_at, step.flagged_breached_at,
        )
        for step in plan.steps
    ]  # fmt: skip


def _action_values(plan_id: uuid.UUID, action: PlanAction) -> tuple[object, ...]:
    return (
        plan_id,
        action.step,
        action.action,
        action.outcome,
        action.by.token_id,
        action.by.role,
        action.at,
    )


class PostgresDecisions:
    def __init__(self, connection: asyncpg.Connection, uow: PostgresUnitOfWork) -> None:
        self.connection = connection
        self.uow = uow

    async def add(self, decision: Decision) -> None:
        pending_of(self.uow).decisions.append(copy.deepcopy(decision))

    async def get(self, tip_id: uuid.UUID) -> Decision | None:
        pending: Pending | None = self.uow.shared.get(PENDING)
        kept = pending.decision_of(tip_id) if pending is not None else None
        if kept is not None:
            return copy.deepcopy(kept)
        row = await self.connection.fetchrow(
            "SELECT * FROM triage_decisions WHERE tip_id = $1 FOR UPDATE", tip_id
        )
        return None if row is None else _decision(row)

    async def save(self, decision: Decision) -> None:
        pending: Pending | None = self.uow.shared.get(PENDING)
        if pending is not None and pending.saved(decision):
            return
        await self.connection.execute(
            "UPDATE triage_decisions SET revision = $2, urgency = $3, reasons = $4, minor_involved = $5,"
            " imminent_danger = $6, ruleset_version = $7, auto_urgency = $8, auto_reason_codes = $9,"
            " override_id = $10, updated_at = now() WHERE tip_id = $1",
            decision.tip_id, decision.revision, decision.urgency.value,
            [reason.model_dump() for reason in decision.reasons], decision.minor_involved,
            decision.imminent_danger, decision.ruleset_version, decision.auto_urgency.value,
            sorted(decision.auto_grounds), decision.override_id,
        )  # fmt: skip


def _decision(row: asyncpg.Record) -> Decision:
    return Decision(
        tip_id=row["tip_id"], reference=row["reference"], correlation_id=row["correlation_id"],
        traceparent=row["traceparent"], source_event_id=row["source_event_id"],
        received_at=row["received_at"], received_facts=TipFacts.model_validate(row["received_facts"]),
        sealed_narrative=row["sealed_narrative"], urgency=Urgency(row["urgency"]),
        reasons=tuple(Reason.model_validate(reason) for reason in row["reasons"]),
        minor_involved=row["minor_involved"], imminent_danger=row["imminent_danger"],
        ruleset_version=row["ruleset_version"], auto_urgency=Urgency(row["auto_urgency"]),
        auto_grounds=frozenset(row["auto_reason_codes"]), revision=row["revision"],
        override_id=row["override_id"],
    )  # fmt: skip


class PostgresSupplements:
    def __init__(self, connection: asyncpg.Connection) -> None:
        self.connection = connection

    async def add(self, supplement: Supplement) -> None:
        await self.connection.execute(
            "INSERT INTO tip_supplements (supplement_id, tip_id, facts_update, sealed_narrative, received_at)"
            " VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
            supplement.supplement_id, supplement.tip_id, supplement.update.model_dump(mode="json"),
            supplement.sealed_narrative, supplement.received_at,
        )  # fmt: skip

    async def of_tip(self, tip_id: uuid.UUID) -> list[Supplement]:
        rows = await self.connection.fetch(
            "SELECT supplement_id, tip_id, facts_update, sealed_narrative, received_at FROM tip_supplements"
            " WHERE tip_id = $1 ORDER BY received_at, supplement_id",
            tip_id,
        )
        return [
            Supplement(
                row["supplement_id"], row["tip_id"], FactsUpdate.model_validate(row["facts_update"]),
                row["sealed_narrative"], row["received_at"],
            )
            for row in rows
        ]  # fmt: skip


class PostgresOverrides:
    def __init__(self, connection: asyncpg.Connection) -> None:
        self.connection = connection

    async def add(self, override: Override) -> None:
        await self.connection.execute(
            "INSERT INTO urgency_overrides (override_id, tip_id, revision, from_urgency, to_urgency, reason,"
            " sealed_note, staff_token_id, staff_role, overridden_at)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            override.override_id, override.tip_id, override.revision, override.from_urgency.value,
            override.to_urgency.value, override.reason.value, override.sealed_note, override.by.token_id,
            override.by.role, override.at,
        )  # fmt: skip

    async def of_tip(self, tip_id: uuid.UUID) -> list[Override]:
        rows = await self.connection.fetch(
            "SELECT * FROM urgency_overrides WHERE tip_id = $1 ORDER BY overridden_at, revision", tip_id
        )
        return [
            Override(
                override_id=row["override_id"], tip_id=row["tip_id"], revision=row["revision"],
                from_urgency=Urgency(row["from_urgency"]), to_urgency=Urgency(row["to_urgency"]),
                reason=OverrideReason(row["reason"]), sealed_note=row["sealed_note"],
                by=Actor(row["staff_token_id"], row["staff_role"]), at=row["overridden_at"],
            )
            for row in rows
        ]  # fmt: skip


PLAN = "SELECT p.*, d.traceparent FROM response_plans p JOIN triage_decisions d USING (tip_id) WHERE {where}"

# Candidates only: the plans are locked here, and their steps read afresh once they are, so a flag
# another clock raised and committed meanwhile is seen as raised.
DUE_PLANS = """
SELECT p.plan_id
FROM response_plans p
JOIN (SELECT plan_id, min(deadline) AS first_deadline FROM plan_steps
      WHERE status = 'open'
        AND ((flagged_at_risk_at IS NULL AND at_risk_at <= $1) OR (flagged_breached_at IS NULL AND deadline <= $1))
      GROUP BY plan_id) AS due USING (plan_id)
WHERE p.status = 'open'
ORDER BY due.first_deadline
LIMIT $2
FOR UPDATE OF p SKIP LOCKED
"""

SAVE_STEPS = """
UPDATE plan_steps AS s SET status = u.status, outcome = u.outcome, completed_at = u.completed_at,
    flagged_at_risk_at = u.flagged_at_risk_at, flagged_breached_at = u.flagged_breached_at
FROM unnest($2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::timestamptz[], $7::timestamptz[])
    AS u(step, status, outcome, completed_at, flagged_at_risk_at, flagged_breached_at)
WHERE s.plan_id = $1 AND s.step = u.step
"""


class PostgresPlans:
    def __init__(self, connection: asyncpg.Connection, uow: PostgresUnitOfWork) -> None:
        self.connection = connection
        self.uow = uow

    async def add(self, plan: ResponsePlan) -> None:
        pending = pending_of(self.uow)
        # The constraint the flush would hit, said now as the insert said it, for a plan of this
        # transaction; one committed before is the database's to refuse at the flush.
        if plan.is_open and pending.plan(lambda kept: kept.tip_id == plan.tip_id and kept.is_open):
            raise PlanAlreadyOpen
        pending.plans.append(copy.deepcopy(plan))
        pending.actions += [(plan.plan_id, action) for action in plan.take_actions()]

    def _pending(self, found: Callable[[ResponsePlan], bool]) -> ResponsePlan | None:
        pending: Pending | None = self.uow.shared.get(PENDING)
        kept = pending.plan(found) if pending is not None else None
        return copy.deepcopy(kept) if kept is not None else None

    async def get(self, plan_id: uuid.UUID) -> ResponsePlan | None:
        kept = self._pending(lambda plan: plan.plan_id == plan_id)
        if kept is not None:
            return kept
        return next(
            iter(await self._locked(PLAN.format(where="p.plan_id = $1") + " FOR UPDATE OF p", plan_id)), None
        )

    async def open_plan_of_tip(self, tip_id: uuid.UUID) -> ResponsePlan | None:
        kept = self._pending(lambda plan: plan.tip_id == tip_id and plan.is_open)
        if kept is not None:
            return kept
        query = PLAN.format(where="p.tip_id = $1 AND p.status = 'open'") + " FOR UPDATE OF p"
        return next(iter(await self._locked(query, tip_id)), None)

    async def due(self, now: datetime, limit: int) -> list[ResponsePlan]:
        plan_ids = [row["plan_id"] for row in await self.connection.fetch(DUE_PLANS, now, limit)]
        if not plan_ids:
            return []
        by_id = {
            plan.plan_id: plan
            for plan in await self._locked(PLAN.format(where="p.plan_id = ANY($1)"), plan_ids)
        }
        return [by_id[plan_id] for plan_id in plan_ids]

    async def save(self, plan: ResponsePlan) -> None:
        pending: Pending | None = self.uow.shared.get(PENDING)
        if pending is not None and pending.saved_plan(plan):
            return
        await self.connection.execute(
            "UPDATE response_plans SET status = $2, breaches = $3, acknowledged_at = $4, acknowledged_by = $5,"
            " closed_at = $6 WHERE plan_id = $1",
            plan.plan_id, plan.status.value, plan.breaches, plan.acknowledged_at, plan.acknowledged_by,
            plan.closed_at,
        )  # fmt: skip
        steps = plan.steps
        await self.connection.execute(
            SAVE_STEPS, plan.plan_id, [s.name for s in steps], [s.status.value for s in steps],
            [s.outcome for s in steps], [s.completed_at for s in steps], [s.flagged_at_risk_at for s in steps],
            [s.flagged_breached_at for s in steps],
        )  # fmt: skip
        await self._record_actions(plan)

    async def _locked(self, query: str, *args: object) -> list[ResponsePlan]:
        """The plans ``query`` selects (and locks), with their steps read once they are locked."""
        rows = await self.connection.fetch(query, *args)
        if not rows:
            return []
        steps: dict[uuid.UUID, list[Step]] = {row["plan_id"]: [] for row in rows}
        for step in await self.connection.fetch(
            "SELECT * FROM plan_steps WHERE plan_id = ANY($1::uuid[]) ORDER BY plan_id, position", list(steps)
        ):
            steps[step["plan_id"]].append(
                Step(
                    name=step["step"], position=step["position"], at_risk_at=step["at_risk_at"],
                    deadline=step["deadline"], status=StepStatus(step["status"]), outcome=step["outcome"],
                    completed_at=step["completed_at"], flagged_at_risk_at=step["flagged_at_risk_at"],
                    flagged_breached_at=step["flagged_breached_at"],
                )
            )  # fmt: skip
        return [
            ResponsePlan(
                plan_id=row["plan_id"], tip_id=row["tip_id"], correlation_id=row["correlation_id"],
                traceparent=row["traceparent"], urgency=Urgency(row["urgency"]),
                template_version=row["template_version"], started_at=row["started_at"],
                steps=steps[row["plan_id"]], status=PlanStatus(row["status"]), breaches=row["breaches"],
                acknowledged_at=row["acknowledged_at"], acknowledged_by=row["acknowledged_by"],
                closed_at=row["closed_at"],
            )
            for row in rows
        ]  # fmt: skip

    async def _record_actions(self, plan: ResponsePlan) -> None:
        actions = plan.take_actions()
        if not actions:
            return
        await self.connection.executemany(
            "INSERT INTO plan_actions (plan_id, step, action, outcome, staff_token_id, staff_role, acted_at)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7)",
            [
                (plan.plan_id, action.step, action.action, action.outcome, action.by.token_id, action.by.role,
                 action.at)
                for action in actions
            ],
        )  # fmt: skip


class PostgresKeys:
    """Data keys through the runtime's keystore, which audits every unseal in this transaction."""

    def __init__(self, connection: asyncpg.Connection, keystore: Keystore | None) -> None:
        self.connection = connection
        self.keystore = keystore

    async def open(self, tip_id: uuid.UUID, *, purpose: str, fields: list[str]) -> DataKey | None:
        if self.keystore is None:
            raise KeyConfigurationError("this unit of work was opened without the keystore")
        return await self.keystore.open(self.connection, tip_id, purpose=purpose, fields=fields)


class TriageUnitOfWork(PostgresUnitOfWork, TriageWork):
    """Triage's repositories on one transaction's connection."""

    def __init__(self, connection: asyncpg.Connection, keystore: Keystore | None = None) -> None:
        super().__init__(connection, keystore)
        self.decisions = PostgresDecisions(connection, self)
        self.supplements = PostgresSupplements(connection)
        self.overrides = PostgresOverrides(connection)
        self.plans = PostgresPlans(connection, self)
        self.keys = PostgresKeys(connection, keystore)

    @classmethod
    def opening_keys_with(cls, keystore: Keystore) -> Callable[[asyncpg.Connection], TriageUnitOfWork]:
        """Units of work that open tips' data keys with ``keystore``."""
        return partial(cls, keystore=keystore)
