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

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any

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
OPEN = PlanStatus.OPEN.value

DECISION_COLUMNS = (
    "tip_id", "urgency", "reasons", "minor_involved", "imminent_danger", "ruleset_version", "source_event_id",
    "received_at", "reference", "correlation_id", "traceparent", "received_facts", "sealed_narrative",
    "auto_urgency", "auto_reason_codes", "revision", "override_id",
)  # fmt: skip
PLAN_COLUMNS = (
    "plan_id", "tip_id", "urgency", "template_version", "correlation_id", "status", "breaches", "started_at",
    "acknowledged_at", "acknowledged_by", "closed_at",
)  # fmt: skip
STEP_COLUMNS = (
    "plan_id", "step", "position", "at_risk_at", "deadline", "status", "outcome", "completed_at",
    "flagged_at_risk_at", "flagged_breached_at",
)  # fmt: skip


def _insert(table: str, columns: tuple[str, ...]) -> str:
    places = ", ".join(f"${number}" for number in range(1, len(columns) + 1))
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({places})"


ADD_DECISION = _insert("triage_decisions", DECISION_COLUMNS)
ADD_PLAN = _insert("response_plans", PLAN_COLUMNS)
ADD_STEP = _insert("plan_steps", STEP_COLUMNS)
ADD_ACTION = (
    "INSERT INTO plan_actions (plan_id, step, action, outcome, staff_token_id, staff_role, acted_at)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7)"
)

Row = dict[str, Any]


@dataclass
class Pending:
    """New rows of one transaction, kept to be written together before it commits, in the order
    they were added: each decision and plan (with its steps) as it stands now, the plans' actions.

    Rows, not objects: what a repository hands out of them is made afresh, as from the table."""

    decisions: list[Row] = field(default_factory=list)
    plans: list[tuple[Row, list[Row]]] = field(default_factory=list)
    actions: list[tuple[uuid.UUID, PlanAction]] = field(default_factory=list)

    def decision_of(self, tip_id: uuid.UUID) -> Decision | None:
        return next((_decision(row) for row in reversed(self.decisions) if row["tip_id"] == tip_id), None)

    def plan(self, found: Callable[[Row], bool]) -> ResponsePlan | None:
        return next((_plan(row, steps) for row, steps in reversed(self.plans) if found(row)), None)

    def saved(self, decision: Decision) -> bool:
        """Keep a pending decision as it is now; False when its tip's decision is not pending."""
        for number in range(len(self.decisions) - 1, -1, -1):
            if self.decisions[number]["tip_id"] == decision.tip_id:
                self.decisions[number] = _decision_row(decision)
                return True
        return False

    def saved_plan(self, plan: ResponsePlan) -> bool:
        """Keep a pending plan as it is now, its new actions with it; False when it is not pending."""
        for number in range(len(self.plans) - 1, -1, -1):
            if self.plans[number][0]["plan_id"] == plan.plan_id:
                self.actions += [(plan.plan_id, action) for action in plan.take_actions()]
                self.plans[number] = _plan_rows(plan)
                return True
        return False

    async def flush(self, connection: asyncpg.Connection) -> None:
        decisions, plans, actions = self.decisions, self.plans, self.actions
        self.decisions, self.plans, self.actions = [], [], []
        if decisions:
            await connection.executemany(ADD_DECISION, [_values(row, DECISION_COLUMNS) for row in decisions])
        if plans:
            try:
                await connection.executemany(ADD_PLAN, [_values(row, PLAN_COLUMNS) for row, _ in plans])
            except asyncpg.UniqueViolationError as error:
                if error.constraint_name == ONE_OPEN_PLAN_PER_TIP:
                    raise PlanAlreadyOpen from None
                raise
            await connection.executemany(
                ADD_STEP, [_values(step, STEP_COLUMNS) for _, steps in plans for step in steps]
            )
        if actions:
            await connection.executemany(ADD_ACTION, [_action_values(*action) for action in actions])


def pending_of(uow: PostgresUnitOfWork) -> Pending:
    """The transaction's pending rows, shared by its units of work; flushed before it commits."""
    return uow.staged(PENDING, Pending)


def _values(row: Row, columns: tuple[str, ...]) -> tuple[Any, ...]:
    return tuple(row[column] for column in columns)


def _decision_row(decision: Decision) -> Row:
    return {
        "tip_id": decision.tip_id, "urgency": decision.urgency.value,
        "reasons": [reason.model_dump() for reason in decision.reasons], "minor_involved": decision.minor_involved,
        "imminent_danger": decision.imminent_danger, "ruleset_version": decision.ruleset_version,
        "source_event_id": decision.source_event_id, "received_at": decision.received_at,
        "reference": decision.reference, "correlation_id": decision.correlation_id,
        "traceparent": decision.traceparent, "received_facts": decision.received_facts.model_dump(mode="json"),
        "sealed_narrative": decision.sealed_narrative, "auto_urgency": decision.auto_urgency.value,
        "auto_reason_codes": sorted(decision.auto_grounds), "revision": decision.revision,
        "override_id": decision.override_id,
    }  # fmt: skip


def _plan_rows(plan: ResponsePlan) -> tuple[Row, list[Row]]:
    """The plan's row (with its decision's trace context, as the plan query joins it) and its steps'."""
    row = {
        "plan_id": plan.plan_id, "tip_id": plan.tip_id, "urgency": plan.urgency.value,
        "template_version": plan.template_version, "correlation_id": plan.correlation_id,
        "status": plan.status.value, "breaches": plan.breaches, "started_at": plan.started_at,
        "acknowledged_at": plan.acknowledged_at, "acknowledged_by": plan.acknowledged_by,
        "closed_at": plan.closed_at, "traceparent": plan.traceparent,
    }  # fmt: skip
    steps = [
        {
            "plan_id": plan.plan_id, "step": step.name, "position": step.position, "at_risk_at": step.at_risk_at,
            "deadline": step.deadline, "status": step.status.value, "outcome": step.outcome,
            "completed_at": step.completed_at, "flagged_at_risk_at": step.flagged_at_risk_at,
            "flagged_breached_at": step.flagged_breached_at,
        }
        for step in plan.steps
    ]  # fmt: skip
    return row, steps


def _step(row: Row | asyncpg.Record) -> Step:
    return Step(
        name=row["step"], position=row["position"], at_risk_at=row["at_risk_at"], deadline=row["deadline"],
        status=StepStatus(row["status"]), outcome=row["outcome"], completed_at=row["completed_at"],
        flagged_at_risk_at=row["flagged_at_risk_at"], flagged_breached_at=row["flagged_breached_at"],
    )  # fmt: skip


def _plan(row: Row | asyncpg.Record, steps: list[Row] | list[asyncpg.Record]) -> ResponsePlan:
    return ResponsePlan(
        plan_id=row["plan_id"], tip_id=row["tip_id"], correlation_id=row["correlation_id"],
        traceparent=row["traceparent"], urgency=Urgency(row["urgency"]), template_version=row["template_version"],
        started_at=row["started_at"], steps=[_step(step) for step in steps], status=PlanStatus(row["status"]),
        breaches=row["breaches"], acknowledged_at=row["acknowledged_at"], acknowledged_by=row["acknowledged_by"],
        closed_at=row["closed_at"],
    )  # fmt: skip


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
        pending_of(self.uow).decisions.append(_decision_row(decision))

    async def get(self, tip_id: uuid.UUID) -> Decision | None:
        pending: Pending | None = self.uow.shared.get(PENDING)
        kept = pending.decision_of(tip_id) if pending is not None else None
        if kept is not None:
            return kept
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


SUPPLEMENTS = "triage.supplements"
SUPPLEMENTS_OF_TIPS = (
    "SELECT supplement_id, tip_id, facts_update, sealed_narrative, received_at FROM tip_supplements"
    " WHERE tip_id = ANY($1::uuid[]) ORDER BY received_at, supplement_id"
)


@dataclass
class _Supplements:
    """A transaction's supplements of each tip read so far, with those it added since the read."""

    of: dict[uuid.UUID, list[Supplement]] = field(default_factory=dict)

    def added(self, supplement: Supplement) -> None:
        """A supplement this transaction inserted joins its tip's, if they were read."""
        kept = self.of.get(supplement.tip_id)
        if kept is None:
            return
        kept.append(supplement)
        kept.sort(key=lambda s: (s.received_at, s.supplement_id))

    async def flush(self, connection: asyncpg.Connection) -> None:
        """Nothing to write: a supplement is inserted as it is added."""


class PostgresSupplements:
    """A tip's supplements, read once a transaction, and on the consume path for every tip of the
    batch at once (the first read of any of them), though triage takes no lock on a tip. That is safe
    because a supplement is inserted only by its own event's transaction, and the inbox keeps each
    tip's events in order: a batch's tips are those of the events it applies (none of a parked tip),
    so no other transaction commits one of their supplements while this one may still read them. A
    supplement this transaction inserts joins what was read, so a later event sees it. Retention deletes a tip's supplements only past the
    casework limit from its key's shred, when no event of the tip is applied any more."""

    def __init__(self, connection: asyncpg.Connection, uow: PostgresUnitOfWork) -> None:
        self.connection = connection
        self.uow = uow

    def _state(self) -> _Supplements:
        return self.uow.staged(SUPPLEMENTS, _Supplements)

    async def add(self, supplement: Supplement) -> None:
        status: str = await self.connection.execute(
            "INSERT INTO tip_supplements (supplement_id, tip_id, facts_update, sealed_narrative, received_at)"
            " VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
            supplement.supplement_id, supplement.tip_id, supplement.update.model_dump(mode="json"),
            supplement.sealed_narrative, supplement.received_at,
        )  # fmt: skip
        # What the table keeps: a supplement id seen before (ON CONFLICT DO NOTHING) adds nothing.
        if status.endswith(" 1"):
            self._state().added(supplement)

    async def of_tip(self, tip_id: uuid.UUID) -> list[Supplement]:
        state = self._state()
        if tip_id not in state.of:
            unread = [tip for tip in dict.fromkeys((tip_id, *self.uow.batch_tips)) if tip not in state.of]
            for tip in unread:
                state.of[tip] = []
            for row in await self.connection.fetch(SUPPLEMENTS_OF_TIPS, unread):
                state.of[row["tip_id"]].append(
                    Supplement(
                        row["supplement_id"], row["tip_id"], FactsUpdate.model_validate(row["facts_update"]),
                        row["sealed_narrative"], row["received_at"],
                    )
                )  # fmt: skip
        return list(state.of[tip_id])


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
        if plan.is_open and pending.plan(lambda row: row["tip_id"] == plan.tip_id and row["status"] == OPEN):
            raise PlanAlreadyOpen
        pending.plans.append(_plan_rows(plan))
        pending.actions += [(plan.plan_id, action) for action in plan.take_actions()]

    def _pending(self, found: Callable[[Row], bool]) -> ResponsePlan | None:
        pending: Pending | None = self.uow.shared.get(PENDING)
        return pending.plan(found) if pending is not None else None

    async def get(self, plan_id: uuid.UUID) -> ResponsePlan | None:
        kept = self._pending(lambda row: row["plan_id"] == plan_id)
        if kept is not None:
            return kept
        return next(
            iter(await self._locked(PLAN.format(where="p.plan_id = $1") + " FOR UPDATE OF p", plan_id)), None
        )

    async def open_plan_of_tip(self, tip_id: uuid.UUID) -> ResponsePlan | None:
        kept = self._pending(lambda row: row["tip_id"] == tip_id and row["status"] == OPEN)
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
        steps: dict[uuid.UUID, list[asyncpg.Record]] = {row["plan_id"]: [] for row in rows}
        for step in await self.connection.fetch(
            "SELECT * FROM plan_steps WHERE plan_id = ANY($1::uuid[]) ORDER BY plan_id, position", list(steps)
        ):
            steps[step["plan_id"]].append(step)
        return [_plan(row, steps[row["plan_id"]]) for row in rows]

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
        self.supplements = PostgresSupplements(connection, self)
        self.overrides = PostgresOverrides(connection)
        self.plans = PostgresPlans(connection, self)
        self.keys = PostgresKeys(connection, keystore)

    @classmethod
    def opening_keys_with(cls, keystore: Keystore) -> Callable[[asyncpg.Connection], TriageUnitOfWork]:
        """Units of work that open tips' data keys with ``keystore``."""
        return partial(cls, keystore=keystore)
