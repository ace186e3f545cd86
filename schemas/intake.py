"""Events published by intake."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, Field

from schemas.envelope import EventBase
from schemas.tip import TipFacts

TipReference = str


class TipReceivedV1(EventBase):
    """Intake accepted a tip and stored it.

    Carries only the non-identifying facts; the narrative and contact details stay in intake.
    """

    event_type: Literal["tip.received"] = "tip.received"
    schema_version: Literal[1] = 1
    reference: TipReference = Field(pattern=r"^LT-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$")
    received_at: AwareDatetime
    facts: TipFacts
