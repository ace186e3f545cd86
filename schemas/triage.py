"""Events published by triage."""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AwareDatetime, Field, RootModel

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

    code: Annotated[str, Field(pattern=r"^(?:HT|IM)-[0-9]{2}$")]
    strength: Strength


class MissingDetail(StrEnum):
    WHERE = "where"
    WHO = "who"
    WHAT = "what"


URGENCY_RANK = {Urgency.INSUFFICIENT_INFORMATION: 0, Urgency.NON_URGENT: 1, Urgency.URGENT: 2}


class TriageTrigger(StrEnum):
    RECEIVED = "received"
    SUPPLEMENT = "supplement"
    OVERRIDE = "override"


class OverrideReason(StrEnum):
    """Why a supervisor set a tip's urgency by hand; the explanation itself stays sealed."""

    NEW_INFORMATION = "new_information"
    CALLER_CLARIFIED = "caller_clarified"
    SPECIALIST_ASSESSMENT = "specialist_assessment"
    CLASSIFIER_ERROR = "classifier_error"
    DUPLICATE = "duplicate"
    OTHER = "other"


class UrgencyOverride(Contract):
    """A supervisor's override of a tip's urgency, as recorded in triage's audit."""

    override_id: uuid.UUID
    previous_urgency: Urgency
    reason: OverrideReason
    by_role: Literal["supervisor"] = "supervisor"


class TipTriagedV1(EventBase):
    """Triage classified a tip's urgency, or revised it (a supplement, a supervisor's override).

    The event with the highest ``revision`` for a tip is its current triage.
    """

    event_type: Literal["tip.triaged"] = "tip.triaged"
    schema_version: Literal[1] = 1
    revision: int = Field(default=1, ge=1)
    trigger: TriageTrigger = TriageTrigger.RECEIVED
    override: UrgencyOverride | None = Field(
        default=None, description="Set when a supervisor's override decided this urgency."
    )
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


class ResponsePlanAcknowledgedV1(EventBase):
    """A supervisor took charge of a response plan."""

    event_type: Literal["response_plan.acknowledged"] = "response_plan.acknowledged"
    schema_version: Literal[1] = 1
    plan_id: uuid.UUID
    by_role: str


class ResponsePlanStepCompletedV1(EventBase):
    """A step of a response plan was done, with its outcome."""

    event_type: Literal["response_plan.step_completed"] = "response_plan.step_completed"
    schema_version: Literal[1] = 1
    plan_id: uuid.UUID
    step: str
    outcome: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{1,63}$")]
    on_time: bool = Field(description="Done by the step's deadline.")
    by_role: str


class ResponsePlanCompletedV1(EventBase):
    """Every step of a response plan is done."""

    event_type: Literal["response_plan.completed"] = "response_plan.completed"
    schema_version: Literal[1] = 1
    plan_id: uuid.UUID
    breaches: int = Field(ge=0, description="How many of its steps were breached.")


class ResponsePlanSupersededV1(EventBase):
    """The tip's urgency changed: this plan's open steps were cancelled and a new plan started."""

    event_type: Literal["response_plan.superseded"] = "response_plan.superseded"
    schema_version: Literal[1] = 1
    plan_id: uuid.UUID
    superseded_by: uuid.UUID
    urgency: Urgency = Field(description="The urgency of the new plan.")


ResponsePlanEvent = Annotated[
    ResponsePlanStartedV1
    | ResponsePlanAcknowledgedV1
    | ResponsePlanStepFlaggedV1
    | ResponsePlanStepCompletedV1
    | ResponsePlanCompletedV1
    | ResponsePlanSupersededV1,
    Field(discriminator="event_type"),
]


class ResponsePlanMessage(RootModel[ResponsePlanEvent]):
    """Any event of ``responseplans.v1``, for consumers that follow every plan."""

    @property
    def event(self) -> EventBase:
        return self.root
