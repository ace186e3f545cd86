"""Events published by triage."""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AwareDatetime, Field

from schemas.envelope import Contract, EventBase
from schemas.tip import TipFacts


class Urgency(StrEnum):
    URGENT = "urgent"
    NON_URGENT = "non_urgent"
    INSUFFICIENT_INFORMATION = "insufficient_information"


class Reason(Contract):
    """Why a decision was taken: a stable code and a sentence in each official language."""

    code: Annotated[str, Field(pattern=r"^[a-z][a-zA-Z0-9_.-]{1,63}$")]
    en: Annotated[str, Field(max_length=300)]
    fr: Annotated[str, Field(max_length=300)]


class Strength(StrEnum):
    URGENT = "urgent"
    STRONG = "strong"
    MEDIUM = "medium"
    WEAK = "weak"
    CONTEXT = "context"


class IndicatorFinding(Contract):
    """An indicator the narrative or the answers affirm: its code and weight, never the text."""

    code: Annotated[str, Field(pattern=r"^(?:HT|IM)-\d{2}$")]
    strength: Strength


class MissingDetail(StrEnum):
    WHERE = "where"
    WHO = "who"
    WHAT = "what"


class TipTriagedV1(EventBase):
    """Triage classified a tip's urgency."""

    event_type: Literal["tip.triaged"] = "tip.triaged"
    schema_version: Literal[1] = 1
    urgency: Urgency
    reasons: Annotated[list[Reason], Field(min_length=1)]
    indicators: list[IndicatorFinding] = Field(default_factory=list)
    missing: list[MissingDetail] = Field(default_factory=list)
    minor_involved: bool = Field(description="Evidence that a victim is under 18.")
    imminent_danger: bool = Field(description="Evidence of imminent danger to anyone.")
    ruleset_version: str
    received_at: AwareDatetime
    facts: TipFacts


class PlanStep(Contract):
    step: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{1,63}$")]
    at_risk_at: AwareDatetime
    deadline: AwareDatetime


class ResponsePlanStartedV1(EventBase):
    """Triage started a response plan for a tip, with a deadline for each step."""

    event_type: Literal["response_plan.started"] = "response_plan.started"
    schema_version: Literal[1] = 1
    plan_id: uuid.UUID
    urgency: Urgency
    template_version: str
    steps: list[PlanStep]


class ResponsePlanStepFlaggedV1(EventBase):
    """A step of a response plan reached 75% of its time (at risk) or its deadline (breached)."""

    event_type: Literal["response_plan.step_flagged"] = "response_plan.step_flagged"
    schema_version: Literal[1] = 1
    plan_id: uuid.UUID
    step: str
    flag: Literal["at_risk", "breached"]
    deadline: AwareDatetime
    escalated_to: str | None = Field(default=None, description="Who a breach escalates to.")
