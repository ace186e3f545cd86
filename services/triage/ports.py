"""What triage's use cases need of storage: repositories of domain objects, held by a unit of work.

PostgreSQL implements them in ``adapters.postgres``, memory in ``adapters.memory``; one contract test
suite holds both to the same behaviour.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Protocol

from services.common.messaging import UnitOfWork
from services.common.sealing import DataKey
from services.triage.domain.decision import Decision, Override, Supplement
from services.triage.domain.plan import ResponsePlan


class Decisions(Protocol):
    async def add(self, decision: Decision) -> None:
        """Keep a tip's first triage."""

    async def get(self, tip_id: uuid.UUID) -> Decision | None:
        """The tip's current triage, locked until the transaction ends: revisions happen one at a time."""

    async def save(self, decision: Decision) -> None:
        """Keep a revision of the tip's triage."""


class Supplements(Protocol):
    async def add(self, supplement: Supplement) -> None:
        """Keep a supplement; keeping it again changes nothing."""

    async def of_tip(self, tip_id: uuid.UUID) -> list[Supplement]:
        """The tip's supplements in the order they were received."""


class Overrides(Protocol):
    async def add(self, override: Override) -> None:
        """Append an override to the audit."""

    async def of_tip(self, tip_id: uuid.UUID) -> list[Override]:
        """The tip's overrides, oldest first."""


class Plans(Protocol):
    async def add(self, plan: ResponsePlan) -> None:
        """Keep a new plan; raises ``PlanAlreadyOpen`` when its tip has an open plan."""

    async def get(self, plan_id: uuid.UUID) -> ResponsePlan | None:
        """A plan, locked until the transaction ends."""

    async def open_plan_of_tip(self, tip_id: uuid.UUID) -> ResponsePlan | None:
        """The tip's open plan, locked until the transaction ends."""

    async def due(self, now: datetime, limit: int) -> list[ResponsePlan]:
        """Up to ``limit`` open plans with a flag due by ``now``, most overdue first, each locked.

        A plan another transaction holds is skipped, so concurrent clocks never take the same plan.
        """

    async def save(self, plan: ResponsePlan) -> None:
        """Keep a plan's changes and append its new actions to the audit."""


class Keys(Protocol):
    async def open(self, tip_id: uuid.UUID, *, purpose: str, fields: list[str]) -> DataKey | None:
        """The tip's data key for ``purpose`` (the unseal is audited); None when the tip was erased."""


class TriageWork(UnitOfWork):
    """A unit of work with triage's repositories; the runtime or an entrypoint commits it."""

    decisions: Decisions
    supplements: Supplements
    overrides: Overrides
    plans: Plans
    keys: Keys
