"""Events published by disclosure."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from schemas.envelope import EventBase
from schemas.triage import Reason, Urgency


class Decision(StrEnum):
    FORWARD = "forward"
    HOLD_FOR_REVIEW = "hold_for_review"
    DO_NOT_FORWARD = "do_not_forward"


class Basis(StrEnum):
    CONSENT = "consent"
    CHILD_PROTECTION = "child_protection"
    IMMINENT_DANGER = "imminent_danger"
    LEGAL_OBLIGATION = "legal_obligation"
    NONE = "none"


class DisclosureDecidedV1(EventBase):
    """Disclosure decided whether, and on what legal basis, a tip goes to law enforcement."""

    event_type: Literal["disclosure.decided"] = "disclosure.decided"
    schema_version: Literal[1] = 1
    decision: Decision
    basis: Basis
    policy_version: str
    urgency: Urgency
    reasons: list[Reason]
