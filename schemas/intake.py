"""Events published by intake."""

from __future__ import annotations

import uuid
from typing import Literal, TypeVar

from pydantic import AwareDatetime, Field

from schemas.envelope import Contract, EventBase
from schemas.sealed import SealedIdentifiers
from schemas.tip import Answer, Assessment, Channel, Consent, Location, Need, TipFacts, VictimProfile

TipReference = str


class TipReceivedV1(EventBase):
    """Intake accepted a tip and stored it.

    Non-identifying facts in clear; the narrative, contact details and named persons sealed.
    """

    event_type: Literal["tip.received"] = "tip.received"
    schema_version: Literal[1] = 1
    reference: TipReference = Field(pattern=r"^LT-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$")
    received_at: AwareDatetime
    facts: TipFacts
    identifiers: SealedIdentifiers
    recorded_by: uuid.UUID | None = Field(
        default=None,
        description="The staff person who recorded the tip (a call, a chat, an email); none for the public.",
    )
    recorded_by_role: Literal["specialist", "supervisor", "admin"] | None = Field(
        default=None,
        description="The role under which that person recorded it: only a call-taker's own answers during"
        " a call may forward at once (disclosure policy); none for the public.",
    )


class FactsUpdate(Contract):
    """What a supplement adds to or corrects in a tip's facts; absent means unchanged."""

    location: Location | None = None
    assessment: Assessment | None = None
    victim_profile: VictimProfile | None = None
    needs: list[Need] | None = None

    def applied_to(self, facts: TipFacts) -> TipFacts:
        """The facts with this update: a new place or profile replaces the old one, answers are
        only replaced by answers (``unknown`` never erases what was known), lists grow.
        """
        assessment = facts.assessment
        if self.assessment is not None:
            new = self.assessment
            assessment = Assessment(
                minor_involved=assessment.minor_involved if new.minor_involved is Answer.UNKNOWN else new.minor_involved,
                imminent_danger=assessment.imminent_danger if new.imminent_danger is Answer.UNKNOWN else new.imminent_danger,
                victim_age=assessment.victim_age if new.victim_age is None else new.victim_age,
                trafficking_types=_union(assessment.trafficking_types, new.trafficking_types),
            )  # fmt: skip
        location = self.location or facts.location
        return facts.model_copy(
            update={
                "location": location,
                "outside_canada": location.country != "CA",
                "assessment": assessment,
                "victim_profile": self.victim_profile or facts.victim_profile,
                "needs": _union(facts.needs, self.needs or []),
            }
        )


class TipSupplementedV1(EventBase):
    """The reporter of a tip added information through the anonymous follow-up."""

    event_type: Literal["tip.supplemented"] = "tip.supplemented"
    schema_version: Literal[1] = 1
    supplement_id: uuid.UUID
    received_at: AwareDatetime
    update: FactsUpdate
    identifiers: SealedIdentifiers


class ConsentRecordedV1(EventBase):
    """A caller's consent was recorded, updated or withdrawn."""

    event_type: Literal["consent.recorded"] = "consent.recorded"
    schema_version: Literal[1] = 1
    version: int = Field(ge=1)
    consent: Consent
    withdrawn: list[str] = Field(description="Scopes that were granted before and are not any more.")
    channel: Channel
    interpreter_used: bool
    recorded_by_role: str = Field(pattern=r"^(reporter|specialist|supervisor|admin)$")
    recorded_at: AwareDatetime


T = TypeVar("T")


def _union(first: list[T], second: list[T]) -> list[T]:
    return first + [item for item in second if item not in first]
