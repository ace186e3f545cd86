"""A disclosure case: the gate's decision on one tip, kept as the tip's triage and consent change.

The case holds the rules that outlive a single decision:
- it is decided on the tip's first triage, then again on each later revision (never on an older
  one) and on each change of consent;
- what went out stays out, and a supervisor's decline or a cancellation stands, unless an urgent
  mandatory ground now means it must go out at once;
- a withdrawal of consent cancels a pending forward that rests on consent, never one that rests on
  a mandatory ground, and never calls back what went out; the audit says which;
- a follow-up to a forwarded case goes to the same agencies only on a basis that still holds, with
  only the fields the case went out with that the current consent still permits;
- a supervisor reviews every forward, before it or (urgent ones) within the review window after;
  a legal obligation needs the approvals of two different supervisors.

Each change returns an ``Outcome``: audit entries, events, and packages to issue. Opening the sealed
data a package carries, writing and publishing are the caller's.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from schemas.disclosure import (
    MANDATORY_BASES,
    Approver,
    Basis,
    CaseState,
    Decision,
    DisclosureAcknowledgedV1,
    DisclosureCancelledV1,
    DisclosureDecidedV1,
    DisclosureForwardedV1,
    DisclosureReviewedV1,
    LawEnforcementPackageV1,
    LiaisonAcknowledgementV1,
    PackageField,
    Recipient,
    RecipientKind,
    ReviewVerdict,
)
from schemas.envelope import EventBase
from schemas.intake import ConsentRecordedV1, TipSupplementedV1
from schemas.tip import Channel, Consent, TipFacts
from schemas.triage import IndicatorFinding, Reason, TipTriagedV1, Urgency
from services.common.envelope import following, of_tip
from services.common.ids import derived_event_id
from services.disclosure.domain import packages, policy
from services.disclosure.domain.packages import Opened, Source
from services.disclosure.domain.routing import Routing

PRODUCER = "disclosure"
SYSTEM = "system:disclosure"
REVIEW_WITHIN = timedelta(hours=24)
STATE_OF = {
    Decision.FORWARD: CaseState.FORWARDED,
    Decision.HOLD_FOR_REVIEW: CaseState.PENDING_REVIEW,
    Decision.DO_NOT_FORWARD: CaseState.NOT_FORWARDED,
}
SETTLED = frozenset({CaseState.FORWARDED, CaseState.DECLINED, CaseState.CANCELLED})
AWAITING_APPROVAL = frozenset({CaseState.PENDING_REVIEW, CaseState.NOT_FORWARDED})


class CaseNotPending(Exception):
    """The case is not waiting for this verdict (already forwarded, declined or cancelled)."""


class SameSupervisor(Exception):
    """A legal-obligation forward needs a second, different supervisor."""


class UnknownPackage(Exception):
    """An acknowledgement for a package that did not go to that agency."""


class VerdictKind(StrEnum):
    APPROVE = "approve"
    DECLINE = "decline"
    REVIEW_AFTER_FORWARD = "review_after_forward"


@dataclass(frozen=True, slots=True)
class SupervisorVerdict:
    """A supervisor's approval, decline or review of a case; one of each kind per supervisor."""

    staff_token_id: uuid.UUID
    kind: VerdictKind
    at: datetime
    reason: str | None = None
    legal_reference: str | None = None


@dataclass(frozen=True, slots=True)
class Package:
    """A package issued to an agency: who, on what basis, which fields; never its content."""

    package_id: uuid.UUID
    agency_id: str
    recipient_kind: RecipientKind
    basis: Basis
    fields: frozenset[PackageField]
    issued_at: datetime
    seconds_from_receipt: float
    supplementary_to: uuid.UUID | None = None
    source_id: uuid.UUID | None = None
    acknowledged_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Note:
    """An entry for the hash-chained audit: ids, codes and times, never identities."""

    action: str
    actor: str
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Dispatch:
    """One package to send, with what the audit and ``disclosures.v1`` say about it."""

    package: Package
    note: Note
    event: DisclosureForwardedV1


@dataclass(frozen=True, slots=True)
class Issue:
    """Packages to send: the caller opens the sealed fields they may carry and fills each one in."""

    dispatches: tuple[Dispatch, ...]
    fields: frozenset[PackageField]
    facts: TipFacts
    approvers: tuple[uuid.UUID, ...] = ()
    supplement_id: uuid.UUID | None = None

    def carries(self, source: Source) -> bool:
        """A first forward carries the tip and every follow-up so far; a supplementary one, its own."""
        return self.supplement_id is None or source.source_id == self.supplement_id


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a change to a case asks for, in order: audit entries, events, then packages to issue."""

    notes: tuple[Note, ...] = ()
    events: tuple[EventBase, ...] = ()
    issue: Issue | None = None

    @property
    def is_empty(self) -> bool:
        """Nothing changed: nothing to save, audit or publish."""
        return not (self.notes or self.events or self.issue)


@dataclass(frozen=True, slots=True)
class Verdict:
    """Where a supervisor's approval or decline left the case."""

    state: CaseState
    approvals: int
    approvals_needed: int
    refused: tuple[Reason, ...] = ()
    """The policy's reasons when it found no basis for the approval: nothing was forwarded."""


@dataclass(frozen=True, slots=True)
class Triage:
    """What the gate needs of a tip's triage, and its revision."""

    revision: int
    urgency: Urgency
    facts: TipFacts
    indicators: tuple[IndicatorFinding, ...]
    minor_involved: bool
    imminent_danger: bool

    @classmethod
    def of(cls, event: TipTriagedV1) -> Triage:
        return cls(
            event.revision, event.urgency, event.facts, tuple(event.indicators), event.minor_involved,
            event.imminent_danger,
        )  # fmt: skip


@dataclass
class Case:
    """A tip's disclosure case; see the module docstring for the rules it keeps."""

    tip_id: uuid.UUID
    reference: str
    correlation_id: uuid.UUID
    channel: Channel
    received_at: datetime
    review_due_at: datetime
    triage: Triage
    traceparent: str | None = None
    state: CaseState | None = None
    """None until the first decision."""
    decision: Decision = Decision.DO_NOT_FORWARD
    basis: Basis = Basis.NONE
    recipients: tuple[Recipient, ...] = ()
    fields: frozenset[PackageField] = frozenset()
    approvals_needed: int = 0
    policy_version: str = policy.POLICY_VERSION
    legal_reference: str | None = None
    reviewed_at: datetime | None = None
    forwarded_at: datetime | None = None
    verdicts: list[SupervisorVerdict] = field(default_factory=list)
    packages: list[Package] = field(default_factory=list)

    @classmethod
    def open(cls, event: TipTriagedV1, reference: str, channel: Channel) -> Case:
        """A case for a tip's first triage, not decided yet; a supervisor's review is due within the window."""
        return cls(
            tip_id=event.tip_id, reference=reference, correlation_id=event.correlation_id, channel=channel,
            received_at=event.received_at, review_due_at=event.received_at + REVIEW_WITHIN,
            triage=Triage.of(event), traceparent=event.traceparent,
        )  # fmt: skip

    @property
    def approvers(self) -> tuple[uuid.UUID, ...]:
        return tuple(v.staff_token_id for v in self.verdicts if v.kind is VerdictKind.APPROVE)

    @property
    def first_packages(self) -> list[Package]:
        """The first package each agency received."""
        return [package for package in self.packages if package.supplementary_to is None]

    def consent(self, recorded: Consent | None) -> Consent:
        """The consent that stands: the latest recorded, else the one given with the tip."""
        return recorded or self.triage.facts.consent

    def on_triage(
        self, event: TipTriagedV1, recorded: Consent | None, routing: Routing, now: datetime
    ) -> Outcome:
        """Decide on the tip's triage, or again on a later revision; an older revision changes nothing."""
        triage = Triage.of(event)
        if self.state is not None and triage.revision <= self.triage.revision:
            return Outcome()
        new_case = self.state is None
        self.triage, self.traceparent = triage, event.traceparent
        gate = self._decide(self.consent(recorded), routing)
        return self._settle(gate, event, f"triage.revision.{triage.revision}", now, new_case=new_case)

    def on_consent(self, event: ConsentRecordedV1, routing: Routing, now: datetime) -> Outcome:
        """Decide again on a newer consent; a consent identical in effect changes nothing."""
        gate = self._decide(event.consent, routing)
        withdrew_police = "law_enforcement" in event.withdrawn
        if self.state is CaseState.PENDING_REVIEW and withdrew_police and not gate.has_basis:
            self.state = CaseState.CANCELLED
            cancelled = Note(
                "forward_cancelled", SYSTEM,
                {"cause": "consent_withdrawn", "consent_version": event.version, "previous_basis": self.basis.value},
            )  # fmt: skip
            return Outcome(
                (cancelled,),
                (
                    DisclosureCancelledV1(
                        **following(event, PRODUCER, "disclosure.cancelled"),
                        basis=self.basis,
                        consent_version=event.version,
                    ),
                ),
            )
        if self.state is not None and self.state in SETTLED:
            return Outcome((self._consent_changed(event, self.state),))
        if self._stands_on(gate):
            return Outcome()
        notes: tuple[Note, ...] = ()
        if withdrew_police and gate.basis in MANDATORY_BASES:
            detail = {"consent_version": event.version, "basis": gate.basis.value}
            notes = (Note("consent_withdrawn_mandatory_basis_stands", SYSTEM, detail),)
        settled = self._settle(gate, event, f"consent.version.{event.version}", now)
        return replace(settled, notes=notes + settled.notes)

    def on_supplement(
        self, event: TipSupplementedV1, recorded: Consent | None, routing: Routing, now: datetime
    ) -> Outcome:
        """Send a follow-up to a forwarded case on to each agency, on the basis and with the fields that
        hold now: a withdrawn consent narrows or stops what follows.
        """
        if self.state is not CaseState.FORWARDED:
            return Outcome()
        gate = self._decide(self.consent(recorded), routing)
        if not gate.has_basis:
            detail = {"cause": "no_basis", "supplement_id": str(event.supplement_id)}
            return Outcome((Note("supplement_not_forwarded", SYSTEM, detail),))
        fields = self.fields & gate.fields
        dispatches = []
        for first in self.first_packages:
            package = Package(
                uuid.uuid4(), first.agency_id, first.recipient_kind, gate.basis, fields, now,
                self._seconds_from_receipt(now), supplementary_to=first.package_id, source_id=event.supplement_id,
            )  # fmt: skip
            dispatches.append(self._dispatch(package, (), SYSTEM, event))
        if not dispatches:
            return Outcome()
        facts = event.update.applied_to(self.triage.facts)
        return Outcome(issue=Issue(tuple(dispatches), fields, facts, supplement_id=event.supplement_id))

    def approve(
        self,
        staff_token_id: uuid.UUID,
        reason: str,
        legal_reference: str | None,
        recorded: Consent | None,
        routing: Routing,
        now: datetime,
    ) -> tuple[Verdict, Outcome]:
        """A supervisor approves a forward, or reviews one that went out at once.

        An approval the policy finds no ground for is refused (``Verdict.refused``) and audited; a
        supervisor who already approved cannot be the second approval (``SameSupervisor``).
        """
        actor = f"supervisor:{staff_token_id}"
        if self.state is CaseState.FORWARDED and self.reviewed_at is None:
            self._record(SupervisorVerdict(staff_token_id, VerdictKind.REVIEW_AFTER_FORWARD, now, reason))
            self.reviewed_at = now
            review = Note("reviewed_after_forward", actor, {"basis": self.basis.value, "reason": reason})
            return Verdict(CaseState.FORWARDED, 1, 1), Outcome(
                (review,), (self._reviewed("reviewed_after_forward", CaseState.FORWARDED, reason),)
            )
        state = self.state
        if state is None or state not in AWAITING_APPROVAL:
            raise CaseNotPending
        reference = legal_reference or self.legal_reference
        gate = self._decide(self.consent(recorded), routing, reference)
        if not gate.has_basis:
            refused = Note("approval_refused", actor, {"cause": "no_basis", "reason": reason})
            return Verdict(state, 0, 0, refused=gate.reasons), Outcome((refused,))
        if staff_token_id in self.approvers:
            raise SameSupervisor
        self._record(SupervisorVerdict(staff_token_id, VerdictKind.APPROVE, now, legal_reference=reference))
        approvals, needed = len(self.approvers), max(gate.approvals_needed, 1)
        approved = Note(
            "approved", actor,
            {"basis": gate.basis.value, "approvals": approvals, "approvals_needed": needed,
             "legal_reference": reference, "reason": reason},
        )  # fmt: skip
        self._stand_on(gate, CaseState.PENDING_REVIEW)
        self.legal_reference = reference
        if approvals < needed:
            return Verdict(CaseState.PENDING_REVIEW, approvals, needed), Outcome(
                (approved,), (self._reviewed("approval_recorded", CaseState.PENDING_REVIEW, reason),)
            )
        self.reviewed_at = now
        reviewed = self._reviewed("approved", CaseState.FORWARDED, reason)
        issue = self._forward(gate, self.approvers, actor, None, now)
        return Verdict(CaseState.FORWARDED, approvals, needed), Outcome((approved,), (reviewed,), issue)

    def decline(self, staff_token_id: uuid.UUID, reason: str, now: datetime) -> tuple[Verdict, Outcome]:
        """A supervisor declines a pending forward, with a reason code."""
        if self.state is not CaseState.PENDING_REVIEW:
            raise CaseNotPending
        self._record(SupervisorVerdict(staff_token_id, VerdictKind.DECLINE, now, reason))
        self.state, self.reviewed_at = CaseState.DECLINED, now
        declined = Note("declined", f"supervisor:{staff_token_id}", {"reason": reason})
        return Verdict(CaseState.DECLINED, 0, self.approvals_needed), Outcome(
            (declined,), (self._reviewed("declined", CaseState.DECLINED, reason),)
        )

    def acknowledge(self, acknowledgement: LiaisonAcknowledgementV1) -> Outcome:
        """An agency received its package: record the delivery; the first receipt stands."""
        number, package = next(
            (
                (number, package)
                for number, package in enumerate(self.packages)
                if (package.package_id, package.agency_id)
                == (acknowledgement.package_id, acknowledgement.agency_id)
            ),
            (None, None),
        )
        if number is None or package is None:
            raise UnknownPackage
        acknowledged_at = package.acknowledged_at or acknowledgement.acknowledged_at
        self.packages[number] = replace(package, acknowledged_at=acknowledged_at)
        acknowledged = Note(
            "acknowledged", f"agency:{acknowledgement.agency_id}",
            {"package_id": str(package.package_id), "acknowledged_at": acknowledgement.acknowledged_at.isoformat()},
        )  # fmt: skip
        event_id = derived_event_id(PRODUCER, acknowledgement.acknowledgement_id, "disclosure.acknowledged")
        delivered = DisclosureAcknowledgedV1(
            **of_tip(self.tip_id, self.correlation_id, PRODUCER, self.traceparent), event_id=event_id,
            package_id=package.package_id, agency_id=package.agency_id, acknowledged_at=acknowledged_at,
        )  # fmt: skip
        return Outcome((acknowledged,), (delivered,))

    def package(self, package: Package, issue: Issue, opened: Opened) -> LawEnforcementPackageV1:
        """What the agency receives: the opaque case reference and the permitted fields, opened for it."""
        return LawEnforcementPackageV1(
            package_id=package.package_id, case_reference=self.reference, agency_id=package.agency_id,
            recipient_kind=package.recipient_kind, supplementary_to=package.supplementary_to, basis=package.basis,
            legal_reference=self.legal_reference, policy_version=self.policy_version,
            approved_by=[Approver(token_id=token) for token in issue.approvers], urgency=self.triage.urgency,
            issued_at=package.issued_at, fields=sorted(package.fields),
            content=packages.content(
                package.fields, issue.facts, list(self.triage.indicators), self.triage.minor_involved,
                self.triage.imminent_danger, self.received_at, opened,
            ),
        )  # fmt: skip

    def _decide(
        self, consent: Consent, routing: Routing, legal_reference: str | None = None
    ) -> policy.GateDecision:
        return policy.decide(
            policy.Case(
                urgency=self.triage.urgency, channel=self.channel, consent=consent,
                minor_involved=self.triage.minor_involved, imminent_danger=self.triage.imminent_danger,
                location=self.triage.facts.location, outside_canada=self.triage.facts.outside_canada,
                legal_reference=legal_reference or self.legal_reference,
            ),
            routing,
        )  # fmt: skip

    def _settle(
        self, gate: policy.GateDecision, cause: EventBase, trigger: str, now: datetime, new_case: bool = False
    ) -> Outcome:
        """Stand on the gate's decision and act on it, unless the case is settled and may stay so."""
        state = self.state
        if state is not None and (
            state is CaseState.FORWARDED or (state in SETTLED and not _must_go_out_at_once(gate))
        ):
            return Outcome((Note("revision_noted", SYSTEM, {"trigger": trigger, "state": state.value}),))
        self._stand_on(gate, STATE_OF[gate.decision])
        decided = Note(
            "decided", SYSTEM,
            {"trigger": trigger, "decision": gate.decision.value, "basis": gate.basis.value,
             "recipients": [recipient.agency_id for recipient in gate.recipients],
             "fields": sorted(field.value for field in gate.fields), "policy_version": gate.policy_version,
             "new_case": new_case},
        )  # fmt: skip
        event = DisclosureDecidedV1(
            **following(cause, PRODUCER, "disclosure.decided"), decision=gate.decision, basis=gate.basis,
            policy_version=gate.policy_version, urgency=self.triage.urgency, reasons=list(gate.reasons),
            state=STATE_OF[gate.decision], recipients=list(gate.recipients), fields=sorted(gate.fields),
            review_due_at=self.review_due_at, triage_revision=self.triage.revision,
        )  # fmt: skip
        if gate.decision is not Decision.FORWARD:
            return Outcome((decided,), (event,))
        # A forward no person approved is reviewed after it, even on a case a supervisor had declined.
        self.reviewed_at = None
        return Outcome((decided,), (event,), self._forward(gate, (), SYSTEM, cause, now))

    def _forward(
        self,
        gate: policy.GateDecision,
        approvers: tuple[uuid.UUID, ...],
        actor: str,
        cause: EventBase | None,
        now: datetime,
    ) -> Issue:
        """One package per recipient, carrying the permitted fields; the case is forwarded."""
        dispatches = []
        for recipient in gate.recipients:
            package = Package(
                uuid.uuid4(), recipient.agency_id, recipient.kind, gate.basis, gate.fields, now,
                self._seconds_from_receipt(now),
            )  # fmt: skip
            dispatches.append(self._dispatch(package, approvers, actor, cause))
        self.state, self.forwarded_at = CaseState.FORWARDED, now
        return Issue(tuple(dispatches), gate.fields, self.triage.facts, approvers)

    def _dispatch(
        self, package: Package, approvers: tuple[uuid.UUID, ...], actor: str, cause: EventBase | None
    ) -> Dispatch:
        self.packages.append(package)
        fields = sorted(field.value for field in package.fields)
        note = Note(
            "forwarded", actor,
            {"package_id": str(package.package_id), "agency_id": package.agency_id, "basis": package.basis.value,
             "fields": fields,
             "supplementary_to": str(package.supplementary_to) if package.supplementary_to else None,
             "approvers": [str(token) for token in approvers]},
        )  # fmt: skip
        envelope = (
            following(cause, PRODUCER, f"disclosure.forwarded.{package.agency_id}")
            if cause is not None
            else of_tip(self.tip_id, self.correlation_id, PRODUCER, self.traceparent)
        )
        event = DisclosureForwardedV1(
            **envelope, package_id=package.package_id, case_reference=self.reference, agency_id=package.agency_id,
            recipient_kind=package.recipient_kind, basis=package.basis, supplementary_to=package.supplementary_to,
            fields=sorted(package.fields), seconds_from_receipt=package.seconds_from_receipt,
        )  # fmt: skip
        return Dispatch(package, note, event)

    def _stand_on(self, gate: policy.GateDecision, state: CaseState) -> None:
        self.state, self.decision, self.basis = state, gate.decision, gate.basis
        self.recipients, self.fields = gate.recipients, gate.fields
        self.approvals_needed, self.policy_version = gate.approvals_needed, gate.policy_version

    def _stands_on(self, gate: policy.GateDecision) -> bool:
        """The case already rests on this decision (the consent given with the tip, recorded again)."""
        return (self.decision, self.basis, self.recipients, self.fields) == (
            gate.decision, gate.basis, gate.recipients, gate.fields,
        )  # fmt: skip

    def _consent_changed(self, event: ConsentRecordedV1, state: CaseState) -> Note:
        """What a consent change means for a settled case: nothing it can call back."""
        if self.basis in MANDATORY_BASES and event.withdrawn:
            effect = "mandatory_basis_stands"
        elif state is CaseState.FORWARDED:
            effect = "already_forwarded"
        else:
            effect = "none"
        return Note(
            "consent_changed", SYSTEM,
            {"consent_version": event.version, "withdrawn": sorted(event.withdrawn), "state": state.value,
             "basis": self.basis.value, "effect": effect},
        )  # fmt: skip

    def _record(self, verdict: SupervisorVerdict) -> None:
        """Keep a supervisor's verdict; the same supervisor giving the same kind again adds nothing."""
        if not any(
            (kept.staff_token_id, kept.kind) == (verdict.staff_token_id, verdict.kind)
            for kept in self.verdicts
        ):
            self.verdicts.append(verdict)

    def _reviewed(self, verdict: ReviewVerdict, state: CaseState, reason: str | None) -> DisclosureReviewedV1:
        return DisclosureReviewedV1(
            **of_tip(self.tip_id, self.correlation_id, PRODUCER, self.traceparent),
            verdict=verdict, basis=self.basis, state=state, reason=reason,
        )  # fmt: skip

    def _seconds_from_receipt(self, now: datetime) -> float:
        return max((now - self.received_at).total_seconds(), 0.0)


def _must_go_out_at_once(gate: policy.GateDecision) -> bool:
    """An urgent mandatory ground: the only thing that overrides a decline or a cancellation."""
    return gate.decision is Decision.FORWARD and gate.basis in MANDATORY_BASES
