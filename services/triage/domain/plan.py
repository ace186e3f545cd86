"""A response plan: the steps a tip's urgency calls for, their clocks, and what supervisors did.

The plan is loaded, changed and saved whole, its row locked meanwhile, and each change returns the
events that announce it. A step is flagged at risk once and breached once: it keeps the time of each
flag, and only an open step of an open plan is ever flagged, so a done or cancelled step never is.
A tip has at most one open plan; when its urgency changes the open plan is superseded and a plan for
the new urgency starts.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from schemas.envelope import EventBase
from schemas.triage import (
    PlanStep,
    ResponsePlanAcknowledgedV1,
    ResponsePlanCompletedV1,
    ResponsePlanStartedV1,
    ResponsePlanStepCompletedV1,
    ResponsePlanStepFlaggedV1,
    ResponsePlanSupersededV1,
    Urgency,
)
from services.common.envelope import of_tip
from services.common.ids import derived_event_id
from services.triage.domain.actor import Actor
from services.triage.domain.plans import Templates

PRODUCER = "triage"


class PlanNotFound(Exception):
    """No such plan, or no such step in it."""


class PlanClosed(Exception):
    """The plan or the step is no longer open."""


class PlanAlreadyOpen(Exception):
    """The tip already has an open plan: a new one starts only by superseding it."""


class OutcomeNotAllowed(Exception):
    """The outcome is not one the step's template allows."""

    def __init__(self, allowed: tuple[str, ...]) -> None:
        super().__init__("outcome not allowed for this step")
        self.allowed = allowed


class PlanStatus(StrEnum):
    OPEN = "open"
    COMPLETED = "completed"
    SUPERSEDED = "superseded"


class StepStatus(StrEnum):
    OPEN = "open"
    DONE = "done"
    CANCELLED = "cancelled"


Flag = Literal["at_risk", "breached"]


@dataclass(slots=True)
class Step:
    """One step of a plan and its clock."""

    name: str
    position: int
    at_risk_at: datetime
    deadline: datetime
    status: StepStatus = StepStatus.OPEN
    outcome: str | None = None
    completed_at: datetime | None = None
    flagged_at_risk_at: datetime | None = None
    flagged_breached_at: datetime | None = None

    def due_flags(self, now: datetime) -> tuple[Flag, ...]:
        """The flags this step has reached by ``now`` and not yet raised."""
        if self.status is not StepStatus.OPEN:
            return ()
        flags: list[Flag] = []
        if self.flagged_at_risk_at is None and self.at_risk_at <= now:
            flags.append("at_risk")
        if self.flagged_breached_at is None and self.deadline <= now:
            flags.append("breached")
        return tuple(flags)


@dataclass(frozen=True, slots=True)
class PlanAction:
    """A supervisor's action on a plan, for its append-only audit."""

    action: Literal["acknowledged", "step_completed"]
    by: Actor
    at: datetime
    step: str | None = None
    outcome: str | None = None


@dataclass(slots=True)
class ResponsePlan:
    """A tip's response plan for one urgency: its steps, their clocks, and who took charge."""

    plan_id: uuid.UUID
    tip_id: uuid.UUID
    correlation_id: uuid.UUID
    traceparent: str | None
    urgency: Urgency
    template_version: str
    started_at: datetime
    steps: list[Step]
    status: PlanStatus = PlanStatus.OPEN
    breaches: int = 0
    acknowledged_at: datetime | None = None
    acknowledged_by: uuid.UUID | None = None
    closed_at: datetime | None = None
    actions: list[PlanAction] = field(default_factory=list)
    """Actions taken since the plan was loaded; saving the plan appends them to the audit."""

    @classmethod
    def start(
        cls,
        *,
        tip_id: uuid.UUID,
        correlation_id: uuid.UUID,
        traceparent: str | None,
        urgency: Urgency,
        cause_id: uuid.UUID,
        counted_from: datetime,
        now: datetime,
        templates: Templates,
    ) -> tuple[ResponsePlan, list[EventBase]]:
        """A plan for ``urgency``, its deadlines counted from ``counted_from``, and its started event.

        Its id derives from the decision that caused it, so deciding again yields the same plan.
        """
        plan = cls(
            plan_id=derived_event_id(PRODUCER, cause_id, "response_plan"),
            tip_id=tip_id, correlation_id=correlation_id, traceparent=traceparent, urgency=urgency,
            template_version=templates.version, started_at=now,
            steps=[
                Step(planned.step, planned.position, planned.at_risk_at, planned.deadline)
                for planned in templates.plan(urgency, counted_from)
            ],
        )  # fmt: skip
        started = ResponsePlanStartedV1(
            **of_tip(tip_id, correlation_id, PRODUCER, traceparent, causation_id=cause_id),
            event_id=derived_event_id(PRODUCER, cause_id, "response_plan.started"),
            plan_id=plan.plan_id, urgency=urgency, template_version=templates.version,
            steps=[PlanStep(step=s.name, at_risk_at=s.at_risk_at, deadline=s.deadline) for s in plan.steps],
        )  # fmt: skip
        return plan, [started]

    @property
    def is_open(self) -> bool:
        """Neither completed nor superseded."""
        return self.status is PlanStatus.OPEN

    def step(self, name: str) -> Step | None:
        """The step called ``name``, if the plan has one."""
        return next((step for step in self.steps if step.name == name), None)

    def supersede(self, successor: ResponsePlan, cause_id: uuid.UUID, now: datetime) -> list[EventBase]:
        """Close this plan for ``successor``: its open steps are cancelled and will never be flagged."""
        self._require_open()
        for step in self.steps:
            if step.status is StepStatus.OPEN:
                step.status = StepStatus.CANCELLED
        self.status, self.closed_at = PlanStatus.SUPERSEDED, now
        return [
            ResponsePlanSupersededV1(
                **of_tip(self.tip_id, self.correlation_id, PRODUCER, self.traceparent, causation_id=cause_id),
                event_id=derived_event_id(PRODUCER, cause_id, "response_plan.superseded"),
                plan_id=self.plan_id, superseded_by=successor.plan_id, urgency=successor.urgency,
            )
        ]  # fmt: skip

    def acknowledge(self, by: Actor, now: datetime, templates: Templates) -> list[EventBase]:
        """A supervisor takes charge; the steps done by that (notifying them) are done with it.

        Acknowledging again changes nothing.
        """
        self._require_open()
        if self.acknowledged_at is not None:
            return []
        self.acknowledged_at, self.acknowledged_by = now, by.token_id
        self.actions.append(PlanAction("acknowledged", by, now))
        events: list[EventBase] = [
            ResponsePlanAcknowledgedV1(**self._envelope(), plan_id=self.plan_id, by_role=by.role)
        ]
        for template in templates.plans[self.urgency]:
            step = self.step(template.step)
            if template.completed_by_acknowledgement and step is not None and step.status is StepStatus.OPEN:
                events += self._complete(step, template.outcomes[0], by, now)
        return events

    def complete_step(
        self, name: str, outcome: str, by: Actor, now: datetime, templates: Templates
    ) -> list[EventBase]:
        """Record a step done with one of its template's outcomes; the last step completes the plan."""
        self._require_open()
        template, step = templates.step(self.urgency, name), self.step(name)
        if template is None or step is None:
            raise PlanNotFound
        if step.status is not StepStatus.OPEN:
            raise PlanClosed
        if outcome not in template.outcomes:
            raise OutcomeNotAllowed(template.outcomes)
        return self._complete(step, outcome, by, now)

    def flags_due(self, now: datetime) -> bool:
        """Some open step has reached a flag it has not raised yet."""
        return self.is_open and any(step.due_flags(now) for step in self.steps)

    def flag_due_steps(self, now: datetime, templates: Templates) -> list[ResponsePlanStepFlaggedV1]:
        """Raise every flag due by ``now``, each once; a breach escalates one level per breach of the plan."""
        if not self.is_open:
            return []
        flagged = []
        for step in sorted(self.steps, key=lambda step: (step.deadline, step.position)):
            for flag in step.due_flags(now):
                escalated_to = None
                if flag == "breached":
                    escalated_to = templates.escalation_target(self.breaches)
                    step.flagged_breached_at = now
                    self.breaches += 1
                else:
                    step.flagged_at_risk_at = now
                flagged.append(
                    ResponsePlanStepFlaggedV1(
                        **of_tip(self.tip_id, self.correlation_id, PRODUCER),
                        event_id=uuid.uuid5(self.plan_id, f"{step.name}/{flag}"),
                        plan_id=self.plan_id, step=step.name, flag=flag, deadline=step.deadline,
                        escalated_to=escalated_to,
                    )
                )  # fmt: skip
        return flagged

    def take_actions(self) -> list[PlanAction]:
        """The actions not yet in the audit, handed over once to whoever records them."""
        actions, self.actions = self.actions, []
        return actions

    def _complete(self, step: Step, outcome: str, by: Actor, now: datetime) -> list[EventBase]:
        step.status, step.outcome, step.completed_at = StepStatus.DONE, outcome, now
        self.actions.append(PlanAction("step_completed", by, now, step.name, outcome))
        events: list[EventBase] = [
            ResponsePlanStepCompletedV1(
                **self._envelope(), plan_id=self.plan_id, step=step.name, outcome=outcome,
                on_time=now <= step.deadline, by_role=by.role,
            )
        ]  # fmt: skip
        if all(other.status is not StepStatus.OPEN for other in self.steps):
            self.status, self.closed_at = PlanStatus.COMPLETED, now
            events.append(
                ResponsePlanCompletedV1(**self._envelope(), plan_id=self.plan_id, breaches=self.breaches)
            )
        return events

    def _require_open(self) -> None:
        if not self.is_open:
            raise PlanClosed

    def _envelope(self) -> dict[str, Any]:
        return of_tip(self.tip_id, self.correlation_id, PRODUCER, self.traceparent)
