"""Triage's repositories in memory, for running use cases without a database.

They behave as the PostgreSQL ones do (the same contract tests hold both): what a repository hands
out is a copy, so a change counts only once it is saved; a transaction that fails leaves nothing.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime

from services.common.messaging import OutboxMessage
from services.common.sealing import DataKey
from services.triage.domain.decision import Decision, Override, Supplement
from services.triage.domain.plan import PlanAction, PlanAlreadyOpen, ResponsePlan
from services.triage.ports import TriageWork


@dataclass(frozen=True, slots=True)
class Unseal:
    """One audited opening of a tip's data key."""

    tip_id: uuid.UUID
    purpose: str
    fields: tuple[str, ...]
    outcome: str


@dataclass
class TriageTables:
    """What triage's schema and the keys schema would hold."""

    decisions: dict[uuid.UUID, Decision] = field(default_factory=dict)
    supplements: dict[uuid.UUID, Supplement] = field(default_factory=dict)
    overrides: list[Override] = field(default_factory=list)
    plans: dict[uuid.UUID, ResponsePlan] = field(default_factory=dict)
    plan_actions: list[tuple[uuid.UUID, PlanAction]] = field(default_factory=list)
    data_keys: dict[uuid.UUID, DataKey | None] = field(default_factory=dict)
    """A tip's data key, or None once the tip is shredded."""
    unseal_audit: list[Unseal] = field(default_factory=list)
    outbox: list[OutboxMessage] = field(default_factory=list)


class MemoryDecisions:
    def __init__(self, tables: TriageTables) -> None:
        self.tables = tables

    async def add(self, decision: Decision) -> None:
        if decision.tip_id in self.tables.decisions:
            raise ValueError("the tip already has a triage")
        self.tables.decisions[decision.tip_id] = copy.deepcopy(decision)

    async def get(self, tip_id: uuid.UUID) -> Decision | None:
        return copy.deepcopy(self.tables.decisions.get(tip_id))

    async def save(self, decision: Decision) -> None:
        self.tables.decisions[decision.tip_id] = copy.deepcopy(decision)


class MemorySupplements:
    def __init__(self, tables: TriageTables) -> None:
        self.tables = tables

    async def add(self, supplement: Supplement) -> None:
        self.tables.supplements.setdefault(supplement.supplement_id, supplement)

    async def of_tip(self, tip_id: uuid.UUID) -> list[Supplement]:
        mine = [supplement for supplement in self.tables.supplements.values() if supplement.tip_id == tip_id]
        return sorted(mine, key=lambda supplement: (supplement.received_at, supplement.supplement_id))


class MemoryOverrides:
    def __init__(self, tables: TriageTables) -> None:
        self.tables = tables

    async def add(self, override: Override) -> None:
        self.tables.overrides.append(override)

    async def of_tip(self, tip_id: uuid.UUID) -> list[Override]:
        mine = [override for override in self.tables.overrides if override.tip_id == tip_id]
        return sorted(mine, key=lambda override: (override.at, override.revision))


class MemoryPlans:
    def __init__(self, tables: TriageTables) -> None:
        self.tables = tables

    async def add(self, plan: ResponsePlan) -> None:
        if plan.is_open and await self.open_plan_of_tip(plan.tip_id) is not None:
            raise PlanAlreadyOpen
        await self.save(plan)

    async def get(self, plan_id: uuid.UUID) -> ResponsePlan | None:
        return copy.deepcopy(self.tables.plans.get(plan_id))

    async def open_plan_of_tip(self, tip_id: uuid.UUID) -> ResponsePlan | None:
        return copy.deepcopy(
            next((p for p in self.tables.plans.values() if p.tip_id == tip_id and p.is_open), None)
        )

    async def due(self, now: datetime, limit: int) -> list[ResponsePlan]:
        due = [plan for plan in self.tables.plans.values() if plan.flags_due(now)]
        due.sort(key=lambda plan: min(step.deadline for step in plan.steps if step.due_flags(now)))
        return copy.deepcopy(due[:limit])

    async def save(self, plan: ResponsePlan) -> None:
        self.tables.plan_actions += [(plan.plan_id, action) for action in plan.take_actions()]
        self.tables.plans[plan.plan_id] = copy.deepcopy(plan)


class MemoryKeys:
    def __init__(self, tables: TriageTables) -> None:
        self.tables = tables

    async def open(self, tip_id: uuid.UUID, *, purpose: str, fields: list[str]) -> DataKey | None:
        data_key = self.tables.data_keys.get(tip_id)
        outcome = "erased" if data_key is None else "unsealed"
        self.tables.unseal_audit.append(Unseal(tip_id, purpose, tuple(fields), outcome))
        return data_key


class MemoryUnitOfWork(TriageWork):
    """Triage's repositories over tables in memory."""

    def __init__(self, tables: TriageTables) -> None:
        super().__init__()
        self.decisions = MemoryDecisions(tables)
        self.supplements = MemorySupplements(tables)
        self.overrides = MemoryOverrides(tables)
        self.plans = MemoryPlans(tables)
        self.keys = MemoryKeys(tables)


class MemoryTriage:
    """A triage database in memory, with transactions as ``Transactions`` opens them."""

    def __init__(self) -> None:
        self.tables = TriageTables()

    def unit_of_work(self) -> MemoryUnitOfWork:
        """A unit of work inside a transaction someone else commits, as the runtime hands to handlers."""
        return MemoryUnitOfWork(self.tables)

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[MemoryUnitOfWork]:
        """A transaction: its staged messages reach the outbox and its actions run, or nothing changes."""
        before = copy.deepcopy(self.tables)
        uow = MemoryUnitOfWork(self.tables)
        try:
            yield uow
        except BaseException:
            self.tables.__dict__.update(before.__dict__)
            raise
        self.tables.outbox += uow.outbox.messages
        for action in uow.committed:
            action()
