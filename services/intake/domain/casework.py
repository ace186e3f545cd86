"""Who may read, open and hold a tip: the object-level rules of casework, enforced by intake's API.

A specialist works the tips they hold. They may read the facts of an unassigned tip (to decide to
take it), never those of a tip another person holds, and open identifying data only of a tip they
hold. Supervisors read, open and assign every tip. Administrators shred; they do not work cases.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum


class Purpose(StrEnum):
    """Why a person opens a tip's identifying data: a code, recorded with every opening."""

    ASSESS_RISK = "assess_risk"
    PLAN_RESPONSE = "plan_response"
    CALL_BACK = "call_back"
    REVIEW_DISCLOSURE = "review_disclosure"
    PREPARE_REFERRAL = "prepare_referral"
    QUALITY_REVIEW = "quality_review"


class SealedPart(StrEnum):
    """The parts of a tip that can be opened, each on its own."""

    NARRATIVE = "narrative"
    CONTACT = "contact"
    NAMED_PERSONS = "named_persons"
    HANDOVER_NOTES = "handover_notes"


SPECIALIST, SUPERVISOR = "specialist", "supervisor"


@dataclass(frozen=True, slots=True)
class Staff:
    """The person acting, in the role of the token they act with."""

    role: str
    person_id: uuid.UUID


class Refused(Exception):
    """The person may not do this to this tip; ``reason`` is a code."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def may_read(staff: Staff, holder: uuid.UUID | None) -> bool:
    if staff.role == SUPERVISOR:
        return True
    return staff.role == SPECIALIST and holder in (None, staff.person_id)


def may_open(staff: Staff, holder: uuid.UUID | None) -> bool:
    if staff.role == SUPERVISOR:
        return True
    return staff.role == SPECIALIST and holder == staff.person_id


def check_assign(staff: Staff, holder: uuid.UUID | None, target: uuid.UUID) -> str:
    """The history action of giving the tip to ``target``, or Refused.

    A specialist takes an unassigned tip for themselves; a supervisor gives any tip to anyone.
    """
    if staff.role == SUPERVISOR:
        return "taken" if target == staff.person_id else "assigned"
    if staff.role != SPECIALIST or target != staff.person_id:
        raise Refused("only_supervisors_assign")
    if holder not in (None, staff.person_id):
        raise Refused("held_by_another_person")
    return "taken"


def check_release(staff: Staff, holder: uuid.UUID | None) -> None:
    if holder is None:
        raise Refused("not_assigned")
    if staff.role != SUPERVISOR and holder != staff.person_id:
        raise Refused("held_by_another_person")
