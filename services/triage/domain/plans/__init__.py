"""Response plans: which steps an urgency calls for, and when each is due."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path

from schemas.triage import Urgency

TEMPLATES_FILE = Path(__file__).parent / "templates.v1.json"


@dataclass(frozen=True, slots=True)
class StepTemplate:
    step: str
    deadline_minutes: int
    en: str
    fr: str
    outcomes: tuple[str, ...]
    completed_by_acknowledgement: bool = False


@dataclass(frozen=True, slots=True)
class PlannedStep:
    step: str
    position: int
    at_risk_at: datetime
    deadline: datetime


@dataclass(frozen=True, slots=True)
class Templates:
    version: str
    at_risk_fraction: float
    escalation: tuple[str, ...]
    plans: dict[Urgency, tuple[StepTemplate, ...]]

    def plan(self, urgency: Urgency, starts_at: datetime) -> tuple[PlannedStep, ...]:
        """The steps of a plan for ``urgency``, their at-risk times and deadlines from ``starts_at``."""
        return tuple(
            PlannedStep(
                step=template.step,
                position=position,
                at_risk_at=starts_at + timedelta(minutes=template.deadline_minutes * self.at_risk_fraction),
                deadline=starts_at + timedelta(minutes=template.deadline_minutes),
            )
            for position, template in enumerate(self.plans[urgency], 1)
        )

    def step(self, urgency: Urgency, step: str) -> StepTemplate | None:
        return next((template for template in self.plans[urgency] if template.step == step), None)

    def escalation_target(self, breaches: int) -> str:
        """Who a breach goes to: one level further up the chain for each breach of the plan."""
        return self.escalation[min(breaches, len(self.escalation) - 1)]


@cache
def load_templates(path: Path = TEMPLATES_FILE) -> Templates:
    data = json.loads(path.read_text(encoding="utf-8"))
    return Templates(
        version=data["version"],
        at_risk_fraction=float(data["at_risk_fraction"]),
        escalation=tuple(data["escalation"]),
        plans={
            Urgency(urgency): tuple(
                StepTemplate(**{**step, "outcomes": tuple(step["outcomes"])}) for step in steps
            )
            for urgency, steps in data["plans"].items()
        },
    )
