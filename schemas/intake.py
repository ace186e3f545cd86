"""Events published by intake."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import AwareDatetime, Field

from schemas.envelope import Contract, EventBase
from schemas.sealed import SealedIdentifiers
from schemas.tip import Assessment, Channel, Consent, Location, Need, TipFacts, VictimProfile

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


class FactsUpdate(Contract):
    """What a supplement adds to or corrects in a tip's facts; absent means unchanged."""

    location: Location | None = None
    assessment: Assessment | None = None
    victim_profile: VictimProfile | None = None
    needs: list[Need] | None = None


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
