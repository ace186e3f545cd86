"""Alerts: what reaches people when a plan step or a disclosure review is at risk or breached.

An alert carries a reference (the tip's reference or the plan id for a plan step, the case reference
for a review), its kind with the step or the queue, the deadline and who is paged: codes, a time and
roster handles only. It can carry nothing else: the fields refuse anything but codes, so a name, a
narrative or a contact of a caller or a victim cannot travel in one, not even by mistake.

An alert's id is derived from what it is about (kind, plan or case, step or queue, deadline), so the
same flag delivered twice, or published again under another event id, is the same alert: it is
listed once and paged once.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from schemas.disclosure import DisclosureReviewFlaggedV1
from schemas.triage import ResponsePlanStepFlaggedV1
from services.common.ids import LANTERN_NAMESPACE
from services.monitoring.domain.roster import PERSON_PATTERN, OnCallRole, Roster, on_call

REFERENCE = re.compile(
    r"^(?:[A-Z]{2}-[0-9A-Z]{4}-[0-9A-Z]{4}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$"
)
SUBJECT = re.compile(r"^[a-z][a-z0-9_]{1,63}$")
PERSON = re.compile(PERSON_PATTERN)


class AlertKind(StrEnum):
    PLAN_STEP_AT_RISK = "plan_step_at_risk"
    PLAN_STEP_BREACHED = "plan_step_breached"
    REVIEW_AT_RISK = "review_at_risk"
    REVIEW_BREACHED = "review_breached"


AT_RISK_OF = {
    AlertKind.PLAN_STEP_BREACHED: AlertKind.PLAN_STEP_AT_RISK,
    AlertKind.REVIEW_BREACHED: AlertKind.REVIEW_AT_RISK,
}
# The specialists on call work a plan's steps; a breach, and any case waiting for a supervisor's
# review, is a supervisor's.
PAGED_ROLE = {
    AlertKind.PLAN_STEP_AT_RISK: OnCallRole.SPECIALIST,
    AlertKind.PLAN_STEP_BREACHED: OnCallRole.SUPERVISOR,
    AlertKind.REVIEW_AT_RISK: OnCallRole.SUPERVISOR,
    AlertKind.REVIEW_BREACHED: OnCallRole.SUPERVISOR,
}  # fmt: skip
# A plan's breaches escalate one level each (triage's plan templates name the level on the flag).
ESCALATION_ROLE = {
    "on_duty_supervisor": OnCallRole.SUPERVISOR,
    "backup_supervisor": OnCallRole.BACKUP_SUPERVISOR,
    "hotline_manager": OnCallRole.HOTLINE_MANAGER,
}


class NotACode(ValueError):
    """A value that an alert may not carry."""


@dataclass(frozen=True, slots=True)
class Alert:
    alert_id: uuid.UUID
    kind: AlertKind
    reference: str
    subject: str  # the plan step, or the review queue
    deadline: datetime
    role: OnCallRole
    paged: tuple[str, ...]

    def __post_init__(self) -> None:
        if not REFERENCE.fullmatch(self.reference):
            raise NotACode("reference")
        if not SUBJECT.fullmatch(self.subject):
            raise NotACode("subject")
        if self.deadline.tzinfo is None:
            raise NotACode("deadline")
        if not self.paged or not all(PERSON.fullmatch(person) for person in self.paged):
            raise NotACode("paged")

    def document(self) -> dict[str, Any]:
        """The alert as the console and the paging system receive it: every field, nothing more."""
        return {
            "alert_id": str(self.alert_id),
            "kind": self.kind.value,
            "reference": self.reference,
            "subject": self.subject,
            "deadline": self.deadline.astimezone(UTC).isoformat(),
            "role": self.role.value,
            "paged": list(self.paged),
        }

    def body(self) -> bytes:
        """The webhook's body: the document as compact JSON with sorted keys."""
        return json.dumps(self.document(), sort_keys=True, separators=(",", ":")).encode()


def plan_step_alert(
    event: ResponsePlanStepFlaggedV1, reference: str | None, roster: Roster, now: datetime
) -> Alert:
    """The alert for a flagged plan step, under the tip's reference when known, else the plan id."""
    kind = AlertKind.PLAN_STEP_BREACHED if event.flag == "breached" else AlertKind.PLAN_STEP_AT_RISK
    if reference is None or not REFERENCE.fullmatch(reference):
        reference = str(event.plan_id)
    # A level the roster does not know still pages the supervisors: a breach never goes unheard.
    role = (
        ESCALATION_ROLE.get(event.escalated_to or "", PAGED_ROLE[kind]) if event.flag == "breached" else None
    )
    return _alert(kind, str(event.plan_id), reference, event.step, event.deadline, roster, now, role)


def review_alert(event: DisclosureReviewFlaggedV1, roster: Roster, now: datetime) -> Alert:
    """The alert for a case waiting too long for a supervisor, under its case reference."""
    kind = AlertKind.REVIEW_BREACHED if event.flag == "breached" else AlertKind.REVIEW_AT_RISK
    return _alert(kind, event.case_reference, event.case_reference, event.queue.value, event.due_at, roster, now)  # fmt: skip


def _alert(
    kind: AlertKind,
    about: str,
    reference: str,
    subject: str,
    deadline: datetime,
    roster: Roster,
    now: datetime,
    role: OnCallRole | None = None,
) -> Alert:
    role = role or PAGED_ROLE[kind]
    return Alert(
        alert_id=alert_id(kind, about, subject, deadline),
        kind=kind,
        reference=reference,
        subject=subject,
        deadline=deadline.astimezone(UTC),
        role=role,
        paged=tuple(on_call(roster, role, now)),
    )


def alert_id(kind: AlertKind, about: str, subject: str, deadline: datetime) -> uuid.UUID:
    """The same flag of the same plan step or case, for the same deadline, is the same alert."""
    instant = deadline.astimezone(UTC).isoformat()
    return uuid.uuid5(LANTERN_NAMESPACE, f"monitoring/alert/{kind.value}/{about}/{subject}/{instant}")
