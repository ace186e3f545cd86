"""Events published by triage."""

from __future__ import annotations

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
