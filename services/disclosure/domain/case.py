"""A disclosure case: the gate's decision on one tip, and every person's decision after it.

The case keeps the rules that outlive a single decision (policy v2):
- it is decided on the tip's first triage; only that decision may send a phone or chat tip at once,
  on a mandatory ground the specialist recorded during the call, in the specialist's name;
- while no person has decided (pending review, not forwarded), a later revision or consent decides
  it again, never at once;
- a declined, cancelled or forwarded case changes only by a supervisor's explicit action: a
  revision, a follow-up or a consent change puts it back in the review queue with what changed,
  and a supervisor reopens it, sends the changes on, or keeps the decision;
- a follow-up is web input: nothing of it goes out before a supervisor approves it; when it moves
  the incident to another jurisdiction, the new agency gets a package on the basis that holds and
  the first agency a supplementary one saying where the case went;
- after a broker wipe, a follow-up approved while an agency's first package waits for a supervisor
  is owed to that agency: the package's re-issue carries it, once; after a set-aside it goes only if
  the agency acknowledges the package after all and a supervisor sends it on;
- approvals are counted per person: a legal obligation needs two different people approving the
  same structured reference;
- a withdrawal cancels a pending forward that rests on consent, never one that rests on a
  mandatory ground, and never calls back what went out.

Each change returns an ``Outcome``: audit entries, events, and packages to issue. Opening the sealed
data a package carries, writing and publishing are the caller's.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

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
    DisclosureReviewFlaggedV1,
    Jurisdiction,
    LawEnforcementPackageV2,
    LegalReference,
    LiaisonAcknowledgementV2,
    PackageField,
    Recipient,
    RecipientKind,
    ReviewQueue,
    ReviewVerdict,
)
from schemas.envelope import EventBase
from schemas.intake import ConsentRecordedV1, TipSupplementedV1
from schemas.tip import Answer, Channel, TipFacts
from schemas.triage import IndicatorFinding, Reason, TipTriagedV1, TriageTrigger, Urgency
from services.common.envelope import following, of_tip
from services.common.ids import derived_event_id
from services.disclosure.domain import packages, policy
from services.disclosure.domain.consent import ConsentRecord, StandingConsent, standing
from services.disclosure.domain.packages import Opened, Source
from services.disclosure.domain.routing import Routing

PRODUCER = "disclosure"
SYSTEM = "system:disclosure"
STATE_OF = {
    Decision.FORWARD: CaseState.FORWARDED,
    Decision.HOLD_FOR_REVIEW: CaseState.PENDING_REVIEW,
    Decision.DO_NOT_FORWARD: CaseState.NOT_FORWARDED,
}
AT_ONCE_REVIEW = "forwarded_at_once"
UNDECIDED = frozenset({CaseState.PENDING_REVIEW, CaseState.NOT_FORWARDED})
"""No person has decided yet: the policy decides again on what changes."""
REOPENABLE = frozenset({CaseState.DECLINED, CaseState.CANCELLED, CaseState.NOT_FORWARDED})
POSSIBILITIES = frozenset({"possible_minor", "possible_danger"})
CHANGES_TO_REVIEW = Reason(
    code="review.changes",
    en="The case was decided; what changed since waits for a supervisor, who reopens it, sends the changes on or keeps the decision.",
    fr="Le dossier a été tranché; ce qui a changé depuis attend un superviseur, qui le rouvre, transmet les changements ou maintient la décision.",
)
NO_GROUND_NAMED = Reason(
    code="approval.ground_not_named",
    en="Triage found only a possible minor or danger: name the ground you confirm to approve.",
    fr="Le triage n'a relevé qu'une possible personne mineure ou un possible danger : nommez le motif que vous confirmez pour approuver.",
)
REFERENCE_NOT_NAMED = Reason(
    code="approval.reference_not_named",
    en="A legal-obligation approval names the reference it approves: statute, section, docket or order number.",
    fr="Une approbation pour obligation légale nomme la référence qu'elle approuve : loi, article, dossier ou numéro d'ordonnance.",
)
PACKAGE_TOO_LARGE = "package_too_large"
"""The review reason of a case whose package was larger than the broker takes: it never went out."""
PACKAGE_HELD = Reason(
    code="review.package_too_large",
    en="A package was too large to send and did not go out; a supervisor decides how the agency is reached.",
    fr="Un envoi était trop volumineux et n'est pas parti; un superviseur décide comment joindre l'organisme.",
)
GROUND_CONFIRMED = "mandatory_ground_confirmed"
"""The approval reason by which a supervisor confirms the ground the case rests on."""


class CaseNotPending(Exception):
    """The case is not waiting for this action (already decided, or nothing to review)."""


class SameSupervisor(Exception):
    """This person already approved: a second approval must come from someone else."""


class UnknownPackage(Exception):
    """An acknowledgement for a package that did not go to that agency."""


class NotWithheld(Exception):
    """No package of this case waits for a supervisor's decision after it was withheld on replay."""


class WithheldDecision(StrEnum):
    REISSUED = "reissued"
    SET_ASIDE = "set_aside"
    ACKNOWLEDGED = "acknowledged"
    """Its agency acknowledged it after all: it holds the package, nothing goes again."""


# Sealed at intake and gone with the tip's key: a re-issue after a shred cannot carry them. The
# location stays: what the agency acts on (country, province, a city the gazetteer lists) is in the
# tip's facts, not sealed.
ERASED_BY_SHRED = frozenset(
    {
        PackageField.NARRATIVE,
        PackageField.SUSPECT_NAMES,
        PackageField.VICTIM_NAMES,
        PackageField.CALLER_CONTACT,
    }
)
CONSENT_HISTORY_GONE = Reason(
    code="reissue.consent_history_gone",
    en="The tip was shredded and its consent records are gone: a withdrawal cannot be ruled out, so"
    " nothing goes again on consent.",
    fr="Le signalement a été détruit et ses consentements ne sont plus là : un retrait ne peut être"
    " exclu, rien n'est renvoyé sur la base du consentement.",
)
FIRST_PACKAGE_NOT_HELD = Reason(
    code="reissue.first_package_not_held",
    en="This follow-up's first package waits for a decision or was set aside: decide it first; a"
    " follow-up never goes to an agency without the package it follows.",
    fr="Le premier envoi que ce complément suit attend une décision ou a été écarté : décidez-le d'abord ;"
    " un complément ne part jamais sans l'envoi qu'il suit.",
)
FOLLOW_UPS_OWED = Reason(
    code="review.follow_ups_owed",
    en="An agency acknowledged after all a first package withheld after a broker wipe; follow-ups sent on"
    " while it waited did not reach it: send them on or keep them back.",
    fr="Un organisme a finalement accusé réception d'un premier envoi retenu après une perte du courtier ;"
    " les compléments transmis entre-temps ne lui sont pas parvenus : transmettez-les ou retenez-les.",
)
AGENCY_NOT_RECIPIENT = Reason(
    code="reissue.agency_not_recipient",
    en="On what holds now, this agency would not receive the case: nothing is sent to it again.",
    fr="Selon ce qui vaut maintenant, cet organisme ne recevrait pas le dossier : rien ne lui est renvoyé.",
)


class NotAwaitingConfirmation(Exception):
    """No consent of that version waits for a supervisor's confirmation."""


class VerdictKind(StrEnum):
    APPROVE = "approve"
    DECLINE = "decline"
    REVIEW_AFTER_FORWARD = "review_after_forward"
    REOPEN = "reopen"
    KEEP = "keep"
    FORWARD_CHANGES = "forward_changes"
    CONFIRM_CONSENT = "confirm_consent"
    REISSUE = "reissue"
    SET_ASIDE = "set_aside"


@dataclass(frozen=True, slots=True)
class Supervisor:
    """The person deciding, and the token they used (for the audit)."""

    person_id: uuid.UUID
    token_id: uuid.UUID

    @property
    def actor(self) -> str:
        return f"supervisor:{self.person_id}"


@dataclass(frozen=True, slots=True)
class SupervisorVerdict:
    """A supervisor's action on a case, kept in order."""

    person_id: uuid.UUID
    token_id: uuid.UUID
    kind: VerdictKind
    at: datetime
    reason: str | None = None
    legal_reference: LegalReference | None = None
    ground: Basis | None = None
    package_id: uuid.UUID | None = None
    """The withheld package a re-issue or a setting aside decides."""


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
    moved_to: Jurisdiction | None = None
    withheld_at: datetime | None = None
    """When a new broker was not sent it again (``app.WITHHELD_ON_REPLAY``)."""
    withheld_reason: str | None = None
    withheld_decision: WithheldDecision | None = None
    """What a supervisor decided of it once withheld; None while it waits."""
    reissued_as: uuid.UUID | None = None
    owed: tuple[uuid.UUID, ...] = ()
    """A first package withheld on replay: the follow-ups a supervisor sent on while it waited, which
    its agency is owed (carried by its re-issue; queued for a supervisor if it is acknowledged after
    all, set aside or not; otherwise never sent once it is set aside)."""

    def __hash__(self) -> int:
        return hash((self.package_id, self.acknowledged_at, self.withheld_decision, self.owed))

    @property
    def awaits_decision(self) -> bool:
        """Withheld on replay, and no supervisor has decided it yet."""
        return self.withheld_at is not None and self.withheld_decision is None


@dataclass(frozen=True, slots=True)
class Note:
    """An entry for the hash-chained audit: ids, codes and times, never identities."""

    action: str
    actor: str
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Dispatch:
    """One package to send, the sources it carries, and what the audit and ``disclosures.v1`` say."""

    package: Package
    note: Note
    event: DisclosureForwardedV1
    sources: frozenset[uuid.UUID] | None = None
    """The tip and follow-ups it carries: None for all of them (a first package)."""
    excluded: frozenset[uuid.UUID] = frozenset()
    """Follow-ups it leaves out though ``sources`` is None: those a supervisor kept back; a first
    package issued again also those that went to its agency in packages of their own, and those still
    waiting."""

    def carries(self, source: Source) -> bool:
        return (
            self.sources is None or source.source_id in self.sources
        ) and source.source_id not in self.excluded


@dataclass(frozen=True, slots=True)
class Issue:
    """Packages to send: the caller opens the sealed fields they may carry and fills each one in."""

    dispatches: tuple[Dispatch, ...]
    facts: TipFacts
    approvers: tuple[Approver, ...] = ()

    @property
    def fields(self) -> frozenset[PackageField]:
        return frozenset().union(*(dispatch.package.fields for dispatch in self.dispatches))


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
    """Where a supervisor's action left the case."""

    state: CaseState
    approvals: int
    approvals_needed: int
    refused: tuple[Reason, ...] = ()
    """The policy's reasons when it found no basis for the approval: nothing was forwarded."""
    fields_erased: frozenset[PackageField] = frozenset()
    """A re-issue after a shred: the fields the policy permits that the package can no longer carry."""


@dataclass(frozen=True, slots=True)
class Triage:
    """What the gate needs of a tip's triage, and its revision."""

    revision: int
    urgency: Urgency
    facts: TipFacts
    indicators: tuple[IndicatorFinding, ...]
    minor_involved: bool
    imminent_danger: bool
    possibilities: tuple[str, ...] = ()
    """Triage's ``possible_minor`` / ``possible_danger``: to confirm, never a ground on their own."""

    @classmethod
    def of(cls, event: TipTriagedV1) -> Triage:
        possible = tuple(sorted({reason.code for reason in event.reasons} & POSSIBILITIES))
        return cls(
            event.revision, event.urgency, event.facts, tuple(event.indicators), event.minor_involved,
            event.imminent_danger, possible,
        )  # fmt: skip

    @property
    def found_grounds(self) -> frozenset[Basis]:
        """Every mandatory ground of this triage: the answers and what triage found in the text."""
        found = set(answered_grounds(self.facts))
        if self.minor_involved:
            found.add(Basis.CHILD_PROTECTION)
        if self.imminent_danger:
            found.add(Basis.IMMINENT_DANGER)
        return frozenset(found)


@dataclass
class Case:
    """A tip's disclosure case; see the module docstring for the rules it keeps."""

    tip_id: uuid.UUID
    reference: str
    correlation_id: uuid.UUID
    channel: Channel
    received_at: datetime
    triage: Triage
    recorded_by: uuid.UUID | None = None
    """The staff person who recorded the tip: the actor of a forward at once."""
    traceparent: str | None = None
    state: CaseState | None = None
    """None until the first decision."""
    decision: Decision = Decision.DO_NOT_FORWARD
    basis: Basis = Basis.NONE
    recipients: tuple[Recipient, ...] = ()
    fields: frozenset[PackageField] = frozenset()
    approvals_needed: int = 0
    policy_version: str = policy.POLICY_VERSION
    legal_reference: LegalReference | None = None
    recorded_grounds: frozenset[Basis] = frozenset()
    confirmed_grounds: frozenset[Basis] = frozenset()
    consent_confirmed: frozenset[int] = frozenset()
    queue: ReviewQueue | None = None
    queued_at: datetime | None = None
    review_due_at: datetime | None = None
    review_reasons: tuple[str, ...] = ()
    review_flags: frozenset[str] = frozenset()
    reviewed_at: datetime | None = None
    forwarded_at: datetime | None = None
    reopened_at: datetime | None = None
    pending_supplements: tuple[uuid.UUID, ...] = ()
    replay_withheld_at: datetime | None = None
    """Set while a package withheld on replay waits for a supervisor's decision."""
    kept_supplements: tuple[uuid.UUID, ...] = ()
    """Follow-ups a supervisor kept back: no package carries them, a first package issued again included."""
    verdicts: list[SupervisorVerdict] = field(default_factory=list)
    packages: list[Package] = field(default_factory=list)

    @classmethod
    def open(
        cls, event: TipTriagedV1, reference: str, channel: Channel, recorded_by: uuid.UUID | None = None
    ) -> Case:
        """A case for a tip's first triage, not decided yet."""
        return cls(
            tip_id=event.tip_id, reference=reference, correlation_id=event.correlation_id, channel=channel,
            received_at=event.received_at, triage=Triage.of(event), recorded_by=recorded_by,
            traceparent=event.traceparent,
        )  # fmt: skip

    @property
    def approvals(self) -> list[SupervisorVerdict]:
        """This round's approvals (since the case was last reopened), one per person."""
        kept: dict[uuid.UUID, SupervisorVerdict] = {}
        for verdict in self.verdicts:
            if verdict.kind is VerdictKind.APPROVE and (
                self.reopened_at is None or verdict.at > self.reopened_at
            ):
                kept.setdefault(verdict.person_id, verdict)
        return list(kept.values())

    @property
    def first_packages(self) -> list[Package]:
        """The first package each agency received (a re-issued one in place of the one it replaced)."""
        return [
            package
            for package in self.packages
            if package.supplementary_to is None and package.withheld_decision is not WithheldDecision.REISSUED
        ]

    @property
    def followable_packages(self) -> list[Package]:
        """The first packages a follow-up may follow: not one withheld on replay that waits for a
        decision or was set aside, which its agency may never have received, unless it acknowledged it."""
        return [
            package
            for package in self.first_packages
            if not package.awaits_decision
            and (
                package.withheld_decision is not WithheldDecision.SET_ASIDE
                or package.acknowledged_at is not None
            )
        ]

    def reissues(self, package_id: uuid.UUID) -> bool:
        """Whether this package is one issued again in place of a package withheld on replay."""
        return any(package.reissued_as == package_id for package in self.packages)

    @property
    def waiting(self) -> bool:
        """In a review queue: a supervisor is expected."""
        return self.queue is not None

    def standing_consent(self, records: Sequence[ConsentRecord]) -> StandingConsent:
        return standing(self.triage.facts.consent, records, self.consent_confirmed)

    # --- what arrives -------------------------------------------------------------------------

    def on_triage(
        self,
        event: TipTriagedV1,
        records: Sequence[ConsentRecord],
        routing: Routing,
        now: datetime,
        tip: Source | None = None,
    ) -> Outcome:
        """Decide on the tip's first triage; on a later revision, decide again while no person has
        decided, else queue what changed for a supervisor. An older revision changes nothing.

        The grounds a call recorded come from ``tip``, the tip as intake received it: triage may have
        merged a follow-up (web input) into its facts already, and that never goes out at once.
        """
        triage = Triage.of(event)
        if self.state is not None and triage.revision <= self.triage.revision:
            return Outcome()
        first, previous = self.state is None, self.triage
        self.triage, self.traceparent = triage, event.traceparent
        consent = self.standing_consent(records)
        if first:
            own = tip.facts if tip is not None and tip.source_id == self.tip_id else None
            recorder = tip.recorded_by_role if tip is not None else None
            rules = policy.load_rules()
            if (
                own is not None
                and self.channel in rules.spoken
                and self.recorded_by is not None
                and recorder in rules.call_takers
            ):
                self.recorded_grounds = answered_grounds(own)
            at_once_allowed = (
                own is not None and triage.revision == 1 and event.trigger is TriageTrigger.RECEIVED
            )
            gate = self._decide(consent, routing, first_decision=at_once_allowed)
            return self._settle(
                gate,
                event,
                "triage.received",
                now,
                consent.needs_review,
                new_case=True,
                own_facts=own,
                recorder_role=recorder,
            )
        trigger = f"triage.revision.{triage.revision}"
        if self.state in UNDECIDED:
            gate = self._decide(consent, routing)
            # The package carries the triage too (urgency, grounds, place): an approval given before a
            # revision that changed it no longer approves what would go out.
            restarted = self._restart_approvals(now, trigger) if _changes(previous, triage) else ()
            settled = self._settle(gate, event, trigger, now, consent.needs_review)
            return replace(settled, notes=restarted + settled.notes) if restarted else settled
        changes = _changes(previous, triage)
        if not changes:
            return Outcome(
                (Note("revision_noted", SYSTEM, {"trigger": trigger, "state": self._state.value}),)
            )
        return self._queue_changes(event, trigger, changes, now)

    def on_consent(
        self, event: ConsentRecordedV1, records: Sequence[ConsentRecord], routing: Routing, now: datetime
    ) -> Outcome:
        """Decide again on the consent that stands now; a decided case queues what widened."""
        if self.state is None:
            return Outcome()
        consent = self.standing_consent(records)
        self.review_reasons = tuple(
            code for code in self.review_reasons
            if not code.startswith(("consent.version_", "consent.widening_")) or code in consent.needs_review
        )  # fmt: skip
        gate = self._decide(consent, routing)
        trigger = f"consent.version.{event.version}"
        withdrew_police = "law_enforcement" in event.withdrawn and not consent.consent.law_enforcement
        if (
            self.state is CaseState.PENDING_REVIEW
            and self.basis is Basis.CONSENT
            and not gate.has_basis
            and not gate.needs_confirmation
        ):
            return self._cancel(event)
        if self.state in UNDECIDED:
            fresh = [code for code in consent.needs_review if code not in self.review_reasons]
            if self._stands_on(gate) and not fresh:
                return Outcome()
            notes: tuple[Note, ...] = ()
            if withdrew_police and gate.basis in MANDATORY_BASES:
                detail = {"consent_version": event.version, "basis": gate.basis.value}
                notes = (Note("consent_withdrawn_mandatory_basis_stands", SYSTEM, detail),)
            settled = self._settle(gate, event, trigger, now, consent.needs_review)
            return replace(settled, notes=notes + settled.notes)
        changed = self._consent_changed(event)
        widened = gate.has_basis and (bool(gate.fields - self.fields) or gate.basis is not self.basis)
        changes = [code for code in consent.needs_review if code not in self.review_reasons]
        if widened:
            changes.append("consent.widened")
        if not changes:
            return Outcome((changed,))
        queued = self._queue_changes(event, trigger, tuple(changes), now)
        return replace(queued, notes=(changed, *queued.notes))

    def on_supplement(self, event: TipSupplementedV1, now: datetime) -> Outcome:
        """A follow-up is web input: to a decided case it waits for a supervisor, never goes out alone.
        Before any decision it simply travels with the first package.
        """
        if self.state is None or self.state is CaseState.NOT_FORWARDED:
            return Outcome()
        changes = [f"supplement.{event.supplement_id}"]
        if self.state is CaseState.PENDING_REVIEW:
            # It will travel in the first package: whoever approves next sees that it came.
            self.review_reasons = tuple(dict.fromkeys((*self.review_reasons, *changes)))
            noted = Note("supplement_noted", SYSTEM, {"supplement_id": str(event.supplement_id)})
            return Outcome((*self._restart_approvals(now, changes[0]), noted))
        location = event.update.location
        if location is not None and location != self.triage.facts.location:
            changes.append("location.changed")
        if self.state is CaseState.FORWARDED and event.supplement_id not in self.pending_supplements:
            self.pending_supplements = (*self.pending_supplements, event.supplement_id)
        return self._queue_changes(event, f"supplement.{event.supplement_id}", tuple(changes), now)

    def issued_at_of(self, package_id: uuid.UUID) -> datetime | None:
        """When the package went out (was sealed to its agency's key); None if it is not this case's."""
        return next(
            (package.issued_at for package in self.packages if package.package_id == package_id), None
        )

    def on_acknowledgement(self, acknowledgement: LiaisonAcknowledgementV2, now: datetime) -> Outcome:
        """An agency received its package: record the delivery; the first receipt stands. A first
        package withheld on replay and acknowledged after all did not carry what its agency was owed
        while it waited: that waits for a supervisor, who sends it on as follow-ups or keeps it back.
        """
        number, package = next(
            (
                (number, package)
                for number, package in enumerate(self.packages)
                if (package.package_id, package.agency_id, self.reference)
                == (acknowledgement.package_id, acknowledgement.agency_id, acknowledgement.case_reference)
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
        notes: tuple[Note, ...] = (acknowledged,)
        waits: tuple[DisclosureDecidedV1, ...] = ()
        # A package set aside went nowhere after the wipe, but the agency may hold it from before: once
        # it says so, it has what a follow-up names, and what it was owed meanwhile waits as above.
        set_aside_held = (
            package.withheld_decision is WithheldDecision.SET_ASIDE and package.acknowledged_at is None
        )
        if package.awaits_decision or set_aside_held:
            if package.awaits_decision:
                # The agency holds it: issuing it again would send a second package for the same case.
                self._decide_withheld(self.packages[number], WithheldDecision.ACKNOWLEDGED, None)
            closed = Note(
                "withheld_acknowledged" if package.awaits_decision else "set_aside_acknowledged",
                f"agency:{acknowledgement.agency_id}",
                {"package_id": str(package.package_id), "follow_ups_owed": [str(s) for s in package.owed]},
            )  # fmt: skip
            notes = (acknowledged, closed)
            if package.owed:
                urgent = self.triage.urgency is Urgency.URGENT
                owed = f"follow_ups_owed.{package.agency_id}"
                self._enqueue(ReviewQueue.EXPEDITED if urgent else ReviewQueue.STANDARD, now, (owed,))
                queued = Note(
                    "queued_for_review", SYSTEM,
                    {"trigger": "acknowledged_after_withheld", "changes": [owed], "state": self._state.value,
                     "queue": self.queue.value if self.queue else None},
                )  # fmt: skip
                notes = (*notes, queued)
                event_id = derived_event_id(
                    PRODUCER, acknowledgement.acknowledgement_id, "disclosure.decided"
                )
                waits = (self._waits_again(FOLLOW_UPS_OWED, event_id),)
        event_id = derived_event_id(PRODUCER, acknowledgement.acknowledgement_id, "disclosure.acknowledged")
        delivered = DisclosureAcknowledgedV1(
            **of_tip(self.tip_id, self.correlation_id, PRODUCER, self.traceparent), event_id=event_id,
            package_id=package.package_id, agency_id=package.agency_id, acknowledged_at=acknowledged_at,
        )  # fmt: skip
        return Outcome(notes, (delivered, *waits))

    # --- what people decide -------------------------------------------------------------------

    def approve(
        self,
        supervisor: Supervisor,
        reason: str,
        records: Sequence[ConsentRecord],
        routing: Routing,
        now: datetime,
        legal_reference: LegalReference | None = None,
        ground: Basis | None = None,
    ) -> tuple[Verdict, Outcome]:
        """A supervisor approves a forward (confirming its ground), reviews one that went out at once,
        or sends a forwarded case's changes on.

        An approval the policy finds no basis for is refused (``Verdict.refused``) and audited; a
        person who already approved in this round cannot be another approval (``SameSupervisor``).
        """
        consent = self.standing_consent(records)
        if self.state is CaseState.FORWARDED:
            if self.pending_supplements or self._changes_to_review:
                return self._forward_changes(supervisor, reason, consent, routing, now)
            if self.reviewed_at is None:
                return self._review_after_forward(supervisor, reason, now)
            raise CaseNotPending
        if self.state not in UNDECIDED:
            raise CaseNotPending
        confirmed = self.confirmed_grounds | ({ground} if ground in policy.GROUNDS else set())
        reference = legal_reference or self.legal_reference
        gate = self._decide(consent, routing, confirmed=confirmed, legal_reference=reference)
        unconfirmed = gate.needs_confirmation
        if (
            unconfirmed
            and gate.basis in policy.GROUNDS
            and (ground is not None or reason == GROUND_CONFIRMED)
        ):
            confirmed |= {gate.basis}
            gate = self._decide(consent, routing, confirmed=confirmed, legal_reference=reference)
        elif unconfirmed:
            # The supervisor confirmed no ground: only what is established (consent, an order) counts.
            gate = self._decide(
                consent, routing, confirmed=confirmed, legal_reference=reference, established_only=True
            )
        refusal = None
        if not gate.has_basis:
            refusal = (*gate.reasons, NO_GROUND_NAMED) if unconfirmed else gate.reasons
        elif gate.basis is Basis.LEGAL_OBLIGATION and legal_reference is None:
            refusal = (REFERENCE_NOT_NAMED,)
        if refusal is not None:
            refused = Note(
                "approval_refused", supervisor.actor, {"cause": refusal[-1].code, "reason": reason}
            )
            return Verdict(self._state, len(self.approvals), 0, refused=refusal), Outcome((refused,))
        approvals = self._approvals_for(gate, reference)
        if supervisor.person_id in {approval.person_id for approval in approvals}:
            raise SameSupervisor
        verdict = SupervisorVerdict(
            supervisor.person_id, supervisor.token_id, VerdictKind.APPROVE, now, reason,
            reference if gate.basis is Basis.LEGAL_OBLIGATION else None, gate.basis,
        )  # fmt: skip
        self.verdicts.append(verdict)
        self.confirmed_grounds, self.legal_reference = confirmed, reference
        approvals = [*approvals, verdict]
        needed = max(gate.approvals_needed, 1)
        approved = Note(
            "approved", supervisor.actor,
            {"basis": gate.basis.value, "approvals": len(approvals), "approvals_needed": needed,
             "legal_reference": reference.model_dump(mode="json") if reference else None, "reason": reason,
             "grounds_confirmed": sorted(ground.value for ground in confirmed)},
        )  # fmt: skip
        self._stand_on(gate, CaseState.PENDING_REVIEW)
        if len(approvals) < needed:
            return Verdict(CaseState.PENDING_REVIEW, len(approvals), needed), Outcome(
                (approved,), (self._reviewed("approval_recorded", CaseState.PENDING_REVIEW, reason),)
            )
        self.reviewed_at = now
        self._dequeue()
        approvers = tuple(Approver(role="supervisor", person_id=approval.person_id) for approval in approvals)
        issue = self._forward(gate, approvers, supervisor.actor, None, now)
        reviewed = self._reviewed("approved", CaseState.FORWARDED, reason)
        return Verdict(CaseState.FORWARDED, len(approvals), needed), Outcome((approved,), (reviewed,), issue)

    def decline(self, supervisor: Supervisor, reason: str, now: datetime) -> tuple[Verdict, Outcome]:
        """A supervisor declines a pending forward, with a reason code."""
        if self.state is not CaseState.PENDING_REVIEW:
            raise CaseNotPending
        self.verdicts.append(
            SupervisorVerdict(supervisor.person_id, supervisor.token_id, VerdictKind.DECLINE, now, reason)
        )
        self.state, self.reviewed_at = CaseState.DECLINED, now
        self._dequeue()
        declined = Note("declined", supervisor.actor, {"reason": reason})
        return Verdict(CaseState.DECLINED, 0, self.approvals_needed), Outcome(
            (declined,), (self._reviewed("declined", CaseState.DECLINED, reason),)
        )

    def reopen(
        self,
        supervisor: Supervisor,
        reason: str,
        records: Sequence[ConsentRecord],
        routing: Routing,
        now: datetime,
    ) -> tuple[Verdict, Outcome]:
        """A supervisor reopens a declined, cancelled or unforwarded case: it waits for review again,
        decided on what holds now; earlier approvals no longer count.
        """
        if self.state not in REOPENABLE:
            raise CaseNotPending
        self.verdicts.append(
            SupervisorVerdict(supervisor.person_id, supervisor.token_id, VerdictKind.REOPEN, now, reason)
        )
        self.reopened_at = now
        gate = self._decide(self.standing_consent(records), routing)
        self._stand_on(gate, CaseState.PENDING_REVIEW)
        urgent = self.triage.urgency is Urgency.URGENT
        self._enqueue(
            ReviewQueue.EXPEDITED if urgent else ReviewQueue.STANDARD, now, ("reopened",), fresh=True
        )
        reopened = Note("reopened", supervisor.actor, {"reason": reason, "basis": gate.basis.value})
        return Verdict(CaseState.PENDING_REVIEW, 0, max(gate.approvals_needed, 1)), Outcome(
            (reopened,), (self._reviewed("reopened", CaseState.PENDING_REVIEW, reason),)
        )

    def keep(self, supervisor: Supervisor, reason: str, now: datetime) -> tuple[Verdict, Outcome]:
        """A supervisor looked at what changed on a decided case and keeps the decision: nothing is sent."""
        if (
            self.state is None
            or self.state is CaseState.PENDING_REVIEW
            or not (self._changes_to_review or self.pending_supplements)
        ):
            raise CaseNotPending
        self.verdicts.append(
            SupervisorVerdict(supervisor.person_id, supervisor.token_id, VerdictKind.KEEP, now, reason)
        )
        # What an agency was owed once it acknowledged its withheld first package stays back too.
        owed = [(first, first.owed) for first in self.followable_packages if first.owed]
        kept = tuple(dict.fromkeys((*self.pending_supplements, *(s for _, o in owed for s in o))))
        detail = {"reason": reason, "changes": list(self.review_reasons),
                  "supplements_not_forwarded": [str(s) for s in kept]}  # fmt: skip
        for first, _ in owed:
            self._replace_package(replace(first, owed=()))
        # Kept back for good: a first package issued again after a broker wipe does not carry them.
        self.kept_supplements = tuple(dict.fromkeys((*self.kept_supplements, *kept)))
        self.pending_supplements, self.reviewed_at = (), now
        self._dequeue()
        return Verdict(self._state, 0, 0), Outcome(
            (Note("kept", supervisor.actor, detail),), (self._reviewed("kept", self._state, reason),)
        )

    def confirm_consent(
        self,
        supervisor: Supervisor,
        version: int,
        records: Sequence[ConsentRecord],
        routing: Routing,
        now: datetime,
    ) -> tuple[Verdict, Outcome]:
        """A supervisor confirms a widening of consent that a staff member recorded after the tip."""
        if version not in self.standing_consent(records).awaiting_supervisor:
            raise NotAwaitingConfirmation
        self.verdicts.append(
            SupervisorVerdict(supervisor.person_id, supervisor.token_id, VerdictKind.CONFIRM_CONSENT, now, f"version_{version}")
        )  # fmt: skip
        self.consent_confirmed |= {version}
        self.review_reasons = tuple(
            r for r in self.review_reasons if r != f"consent.widening_awaits_supervisor.{version}"
        )
        consent = self.standing_consent(records)
        confirmed = Note("consent_confirmed", supervisor.actor, {"consent_version": version})
        events: tuple[EventBase, ...] = (
            self._reviewed("consent_confirmed", self._state, f"version_{version}"),
        )
        if self.state in UNDECIDED:
            gate = self._decide(consent, routing)
            self._stand_on(
                gate,
                STATE_OF[gate.decision]
                if gate.decision is not Decision.FORWARD
                else CaseState.PENDING_REVIEW,
            )
            if gate.queue is not None:
                self._enqueue(gate.queue, now, ("consent.confirmed",))
        elif not self.review_reasons and not self.pending_supplements:
            self._dequeue()
        return Verdict(self._state, len(self.approvals), self.approvals_needed), Outcome((confirmed,), events)

    # --- the clock ----------------------------------------------------------------------------

    # --- a package withheld on replay -----------------------------------------------------------

    def withheld(self, package_id: uuid.UUID) -> Package:
        """The package withheld on replay that waits for a decision (``NotWithheld`` otherwise)."""
        for package in self.packages:
            if (
                package.package_id == package_id
                and package.awaits_decision
                and package.acknowledged_at is None
            ):
                return package
        raise NotWithheld

    def reissue(
        self,
        supervisor: Supervisor,
        package_id: uuid.UUID,
        reason: str,
        records: Sequence[ConsentRecord],
        routing: Routing,
        now: datetime,
        shredded: bool,
    ) -> tuple[Verdict, Outcome]:
        """A supervisor issues again a package withheld on replay, as a new package its agency
        acknowledges, on what holds now: the consents as they stand and the grounds someone
        established (a withdrawn consent without a mandatory-reporting ground sends nothing), to an
        agency that would still receive the case, with the fields the policy permits now and, once
        the tip was shredded, none of its sealed ones (they are gone). It takes as many approvals,
        each another person's, as the policy asks of a package on that basis; a refusal is audited.
        """
        withheld = self.withheld(package_id)
        gate = self._decide(self.standing_consent(records), routing, established_only=True)
        refusal: tuple[Reason, ...] = ()
        first = next((p for p in self.packages if p.package_id == withheld.supplementary_to), None)
        if not gate.has_basis:
            refusal = gate.reasons
        elif first is not None and not (
            first.acknowledged_at is not None
            or first.withheld_at is None
            or first.withheld_decision in (WithheldDecision.REISSUED, WithheldDecision.ACKNOWLEDGED)
        ):
            refusal = (FIRST_PACKAGE_NOT_HELD,)
        elif gate.basis is Basis.CONSENT and shredded and not records:
            # Once shredded, no records cannot tell "never changed" from "deleted with a withdrawal in
            # them": the tip's own consent alone is never a basis to send again.
            refusal = (CONSENT_HISTORY_GONE,)
        elif withheld.agency_id not in {recipient.agency_id for recipient in gate.recipients}:
            refusal = (AGENCY_NOT_RECIPIENT,)
        elif gate.basis is Basis.LEGAL_OBLIGATION and self.legal_reference is None:
            refusal = (REFERENCE_NOT_NAMED,)
        if refusal:
            refused = Note(
                "reissue_refused", supervisor.actor,
                {"package_id": str(package_id), "cause": refusal[-1].code, "reason": reason},
            )  # fmt: skip
            return Verdict(self._state, 0, 0, refused=refusal), Outcome((refused,))
        approvals = self._reissue_approvals(withheld)
        if supervisor.person_id in {approval.person_id for approval in approvals}:
            raise SameSupervisor
        verdict = SupervisorVerdict(
            supervisor.person_id, supervisor.token_id, VerdictKind.REISSUE, now, reason, package_id=package_id
        )
        self.verdicts.append(verdict)
        approvals = [*approvals, verdict]
        needed = max(gate.approvals_needed, 1)
        fields = withheld.fields & gate.fields
        erased = fields & ERASED_BY_SHRED if shredded else frozenset()
        fields -= erased
        approved = Note(
            "reissue_approved", supervisor.actor,
            {"package_id": str(package_id), "basis": gate.basis.value, "approvals": len(approvals),
             "approvals_needed": needed, "reason": reason, "fields": sorted(f.value for f in fields),
             "fields_erased": sorted(f.value for f in erased),
             "follow_ups_owed": [str(s) for s in withheld.owed]},
        )  # fmt: skip
        if len(approvals) < needed:
            return Verdict(self._state, len(approvals), needed, fields_erased=erased), Outcome((approved,))
        recipient = next(r for r in gate.recipients if r.agency_id == withheld.agency_id)
        # A follow-up follows the first package the agency can hold: the one issued in its place, if any.
        supplementary_to = next(
            (
                p.reissued_as
                for p in self.packages
                if p.package_id == withheld.supplementary_to and p.reissued_as
            ),
            withheld.supplementary_to,
        )
        package = Package(
            uuid.uuid4(), withheld.agency_id, recipient.kind, gate.basis, fields, now,
            self._seconds_from_receipt(now), supplementary_to=supplementary_to,
            source_id=withheld.source_id, moved_to=withheld.moved_to,
        )  # fmt: skip
        self._decide_withheld(withheld, WithheldDecision.REISSUED, package.package_id)
        approvers = tuple(Approver(role="supervisor", person_id=approval.person_id) for approval in approvals)
        if withheld.supplementary_to is None:
            carried: frozenset[uuid.UUID] | None = None
        else:
            carried = frozenset({withheld.source_id}) if withheld.source_id else frozenset()
        dispatch = self._dispatch(package, approvers, supervisor.actor, None, carried)
        if carried is None:
            # It carries what the withheld one did and what its agency was owed while it waited: not a
            # follow-up that went in a package of its own, waits for a supervisor, or was kept back.
            own = self._sources_sent_to(withheld.agency_id)
            excluded = frozenset(
                {*own, *self.pending_supplements, *self.kept_supplements} - set(withheld.owed)
            )
            detail = {**dispatch.note.detail, "follow_ups_owed": [str(s) for s in withheld.owed]}
            dispatch = replace(dispatch, excluded=excluded, note=replace(dispatch.note, detail=detail))
        # The forward's own event (``disclosures.v1``) says it went; the case's decision is unchanged.
        issue = Issue((dispatch,), self.triage.facts, approvers)
        return Verdict(self._state, len(approvals), needed, fields_erased=erased), Outcome(
            (approved,), (), issue
        )

    def set_aside(
        self, supervisor: Supervisor, package_id: uuid.UUID, reason: str, now: datetime
    ) -> tuple[Verdict, Outcome]:
        """A supervisor sets a package withheld on replay aside: it stays unsent, and the agency is
        reached another way or not at all."""
        withheld = self.withheld(package_id)
        self.verdicts.append(
            SupervisorVerdict(
                supervisor.person_id,
                supervisor.token_id,
                VerdictKind.SET_ASIDE,
                now,
                reason,
                package_id=package_id,
            )
        )
        self._decide_withheld(withheld, WithheldDecision.SET_ASIDE, None)
        # What its agency was owed goes nowhere now: the audit says so, for a supervisor to see.
        note = Note(
            "withheld_set_aside", supervisor.actor,
            {"package_id": str(package_id), "reason": reason,
             "follow_ups_not_sent": [str(s) for s in withheld.owed]},
        )  # fmt: skip
        return Verdict(self._state, 0, 0), Outcome((note,))

    def _reissue_approvals(self, withheld: Package) -> list[SupervisorVerdict]:
        """The approvals given to issue this package again since it was withheld, one per person."""
        kept: dict[uuid.UUID, SupervisorVerdict] = {}
        for verdict in self.verdicts:
            if (
                verdict.kind is VerdictKind.REISSUE
                and verdict.package_id == withheld.package_id
                and (withheld.withheld_at is None or verdict.at >= withheld.withheld_at)
            ):
                kept.setdefault(verdict.person_id, verdict)
        return list(kept.values())

    def _decide_withheld(
        self, withheld: Package, decision: WithheldDecision, reissued_as: uuid.UUID | None
    ) -> None:
        decided = replace(withheld, withheld_decision=decision, reissued_as=reissued_as)
        self.packages = [decided if p.package_id == withheld.package_id else p for p in self.packages]
        if not any(package.awaits_decision for package in self.packages):
            self.replay_withheld_at = None

    def due_flags(self, now: datetime) -> list[DisclosureReviewFlaggedV1]:
        """The at-risk and breach flags of the case's review due by ``now``, each once per queueing."""
        if self.queue is None or self.queued_at is None or self.review_due_at is None:
            return []
        share = policy.load_rules().at_risk_share
        at_risk_at = self.queued_at + (self.review_due_at - self.queued_at) * share
        due: list[Literal["at_risk", "breached"]] = []
        if now >= at_risk_at and "at_risk" not in self.review_flags:
            due.append("at_risk")
        if now >= self.review_due_at and "breached" not in self.review_flags:
            due.append("breached")
        self.review_flags |= frozenset(due)
        return [
            DisclosureReviewFlaggedV1(
                **of_tip(self.tip_id, self.correlation_id, PRODUCER, self.traceparent),
                event_id=derived_event_id(
                    PRODUCER, self.tip_id, f"review_flagged.{self.queued_at.isoformat()}.{flag}"
                ),
                case_reference=self.reference,
                queue=self.queue,
                flag=flag,
                due_at=self.review_due_at,
            )
            for flag in due
        ]

    # --- what goes out ------------------------------------------------------------------------

    def package(self, dispatch: Dispatch, issue: Issue, opened: Opened) -> LawEnforcementPackageV2:
        """What the agency receives: the opaque case reference and the permitted fields, opened for it."""
        package = dispatch.package
        return LawEnforcementPackageV2(
            package_id=package.package_id, case_reference=self.reference, agency_id=package.agency_id,
            recipient_kind=package.recipient_kind, supplementary_to=package.supplementary_to, basis=package.basis,
            legal_reference=self.legal_reference if package.basis is Basis.LEGAL_OBLIGATION else None,
            policy_version=self.policy_version, approved_by=list(issue.approvers), urgency=self.triage.urgency,
            issued_at=package.issued_at, fields=sorted(package.fields), moved_to=package.moved_to,
            content=packages.content(
                package.fields, issue.facts, list(self.triage.indicators), self.triage.minor_involved,
                self.triage.imminent_danger, self.received_at, opened,
            ),
        )  # fmt: skip

    def hold_packages(self, held: Sequence[Package], sizes: Sequence[int], now: datetime) -> Outcome:
        """Packages too large to send never go out, whole or cut: they are not issued, and the case
        waits for a supervisor (reason ``package_too_large``), who decides what reaches the agency
        (by another way, or declining or keeping). A case none of whose packages went out is pending
        again, with a fresh round of approvals; a follow-up not sent waits again.
        """
        ids = {package.package_id for package in held}
        self.packages = [package for package in self.packages if package.package_id not in ids]
        unsent = tuple(package.source_id for package in held if package.source_id is not None)
        self.pending_supplements = tuple(dict.fromkeys((*self.pending_supplements, *unsent)))
        if self.state is CaseState.FORWARDED and not self.first_packages:
            self.state, self.forwarded_at, self.reopened_at = CaseState.PENDING_REVIEW, None, now
            self.review_reasons = tuple(reason for reason in self.review_reasons if reason != AT_ONCE_REVIEW)
        urgent = self.triage.urgency is Urgency.URGENT
        self._enqueue(ReviewQueue.EXPEDITED if urgent else ReviewQueue.STANDARD, now, (PACKAGE_TOO_LARGE,))
        note = Note(
            "package_held", SYSTEM,
            {"cause": PACKAGE_TOO_LARGE, "state": self._state.value,
             "packages": [{"package_id": str(package.package_id), "agency_id": package.agency_id, "bytes": size}
                          for package, size in zip(held, sizes, strict=True)]},
        )  # fmt: skip
        return Outcome((note,), (self._waits_again(PACKAGE_HELD),))

    def _waits_again(self, reason: Reason, event_id: uuid.UUID | None = None) -> DisclosureDecidedV1:
        """What monitoring and the console read: the case waits again, whatever the event before said."""
        ids = {"event_id": event_id} if event_id is not None else {}
        return DisclosureDecidedV1(
            **of_tip(self.tip_id, self.correlation_id, PRODUCER, self.traceparent), **ids, decision=self.decision,
            basis=self.basis, policy_version=self.policy_version, urgency=self.triage.urgency,
            reasons=[reason], state=self._state, recipients=list(self.recipients), fields=sorted(self.fields),
            review_due_at=self.review_due_at, queue=self.queue, review_reasons=list(self.review_reasons),
            triage_revision=self.triage.revision,
        )  # fmt: skip

    # --- inside -------------------------------------------------------------------------------

    @property
    def _changes_to_review(self) -> tuple[str, ...]:
        """What changed since a person decided (the review of a forward at once is not a change)."""
        return tuple(reason for reason in self.review_reasons if reason != AT_ONCE_REVIEW)

    @property
    def _state(self) -> CaseState:
        if self.state is None:
            raise CaseNotPending
        return self.state

    def _grounds(
        self, confirmed: frozenset[Basis] | None = None, established_only: bool = False
    ) -> policy.Grounds:
        confirmed = self.confirmed_grounds if confirmed is None else confirmed
        established = self.recorded_grounds | confirmed
        return policy.Grounds(
            recorded=self.recorded_grounds,
            confirmed=confirmed,
            unconfirmed=frozenset() if established_only else self.triage.found_grounds - established,
            possible=not established_only and bool(self.triage.possibilities),
        )

    def _decide(
        self,
        consent: StandingConsent,
        routing: Routing,
        first_decision: bool = False,
        confirmed: frozenset[Basis] | None = None,
        legal_reference: LegalReference | None = None,
        established_only: bool = False,
    ) -> policy.GateDecision:
        """The policy's decision; ``established_only`` leaves out grounds no one has confirmed."""
        facts = self.triage.facts
        return policy.decide(
            policy.Case(
                urgency=self.triage.urgency, channel=self.channel, consent=consent.consent,
                grounds=self._grounds(confirmed, established_only), location=facts.location, outside_canada=facts.outside_canada,
                reporter_is_victim=facts.reporter_role.value == "victim",
                legal_reference=legal_reference or self.legal_reference, first_decision=first_decision,
            ),
            routing,
        )  # fmt: skip

    def _settle(
        self,
        gate: policy.GateDecision,
        cause: EventBase,
        trigger: str,
        now: datetime,
        review: tuple[str, ...] = (),
        new_case: bool = False,
        own_facts: TipFacts | None = None,
        recorder_role: str | None = None,
    ) -> Outcome:
        """Stand on the policy's decision while no person has decided, and act on it: a forward at once
        carries the tip as the call recorded it, never a follow-up.
        """
        restarted = self._restart_approvals(now, trigger) if not self._stands_on(gate) else ()
        self._stand_on(gate, STATE_OF[gate.decision])
        if gate.queue is not None:
            self._enqueue(gate.queue, self.received_at if new_case else now, review, fresh=new_case)
        elif gate.decision is Decision.FORWARD:
            self._enqueue(ReviewQueue.STANDARD, now, (AT_ONCE_REVIEW, *review), fresh=True)
        elif review:
            urgent = self.triage.urgency is Urgency.URGENT
            self._enqueue(ReviewQueue.EXPEDITED if urgent else ReviewQueue.STANDARD, now, review)
        else:
            self._dequeue()
        decided = Note(
            "decided", SYSTEM,
            {"trigger": trigger, "decision": gate.decision.value, "basis": gate.basis.value,
             "recipients": [recipient.agency_id for recipient in gate.recipients],
             "fields": sorted(field.value for field in gate.fields), "policy_version": gate.policy_version,
             "queue": gate.queue.value if gate.queue else None, "review": list(self.review_reasons),
             "new_case": new_case},
        )  # fmt: skip
        event = self._decided(cause, gate.reasons)
        if gate.decision is not Decision.FORWARD:
            return Outcome((*restarted, decided), (event,))
        specialist = self.recorded_by
        if specialist is None or own_facts is None or recorder_role not in ("specialist", "supervisor"):
            raise ValueError(
                "a forward at once needs the call as its call-taker recorded it"
            )  # pragma: no cover
        approvers = (Approver(role=recorder_role, person_id=specialist),)
        issue = self._forward(
            gate,
            approvers,
            f"{recorder_role}:{specialist}",
            cause,
            now,
            facts=own_facts,
            sources=frozenset({self.tip_id}),
        )
        return Outcome((decided,), (event,), issue)

    def _decided(self, cause: EventBase, reasons: tuple[Reason, ...]) -> DisclosureDecidedV1:
        return DisclosureDecidedV1(
            **following(cause, PRODUCER, "disclosure.decided"), decision=self.decision, basis=self.basis,
            policy_version=self.policy_version, urgency=self.triage.urgency, reasons=list(reasons),
            state=self._state, recipients=list(self.recipients), fields=sorted(self.fields),
            review_due_at=self.review_due_at, queue=self.queue, review_reasons=list(self.review_reasons),
            triage_revision=self.triage.revision,
        )  # fmt: skip

    def _queue_changes(
        self, cause: EventBase, trigger: str, changes: tuple[str, ...], now: datetime
    ) -> Outcome:
        """A decided case: what changed waits for a supervisor; the decision stands until one acts."""
        urgent = self.triage.urgency is Urgency.URGENT
        self._enqueue(ReviewQueue.EXPEDITED if urgent else ReviewQueue.STANDARD, now, changes)
        queued = Note(
            "queued_for_review", SYSTEM,
            {"trigger": trigger, "changes": list(changes), "state": self._state.value,
             "queue": self.queue.value if self.queue else None},
        )  # fmt: skip
        return Outcome((queued,), (self._decided(cause, (CHANGES_TO_REVIEW,)),))

    def _enqueue(
        self, queue: ReviewQueue, since: datetime, reasons: tuple[str, ...], fresh: bool = False
    ) -> None:
        """Wait for a supervisor in ``queue``: a case already waiting keeps its earlier due time."""
        due = since + policy.load_rules().review_windows[queue]
        if fresh or self.queue is None or self.review_due_at is None:
            self.queued_at, self.review_due_at, self.review_flags = since, due, frozenset()
            self.review_reasons = ()
        elif due < self.review_due_at:
            self.queued_at, self.review_due_at, self.review_flags = since, due, frozenset()
        if self.queue is not ReviewQueue.EXPEDITED:
            self.queue = queue
        self.reviewed_at = None
        self.review_reasons = tuple(dict.fromkeys((*self.review_reasons, *reasons)))

    def _dequeue(self) -> None:
        self.queue, self.queued_at, self.review_flags, self.review_reasons = None, None, frozenset(), ()

    def _approvals_for(
        self, gate: policy.GateDecision, reference: LegalReference | None
    ) -> list[SupervisorVerdict]:
        """Approvals that count toward this decision: on a legal obligation, only those of the same reference."""
        if gate.basis is not Basis.LEGAL_OBLIGATION or reference is None:
            return [a for a in self.approvals if a.ground is not Basis.LEGAL_OBLIGATION]
        return [
            a
            for a in self.approvals
            if a.legal_reference is not None and reference.same_as(a.legal_reference)
        ]

    def _cancel(self, event: ConsentRecordedV1) -> Outcome:
        self.state = CaseState.CANCELLED
        self._dequeue()
        cancelled = Note(
            "forward_cancelled", SYSTEM,
            {"cause": "consent_withdrawn", "consent_version": event.version, "previous_basis": self.basis.value},
        )  # fmt: skip
        return Outcome(
            (cancelled,),
            (
                DisclosureCancelledV1(
                    **following(event, PRODUCER, "disclosure.cancelled"), basis=self.basis,
                    consent_version=event.version,
                ),
            ),
        )  # fmt: skip

    def _review_after_forward(
        self, supervisor: Supervisor, reason: str, now: datetime
    ) -> tuple[Verdict, Outcome]:
        self.verdicts.append(
            SupervisorVerdict(supervisor.person_id, supervisor.token_id, VerdictKind.REVIEW_AFTER_FORWARD, now, reason)
        )  # fmt: skip
        self.reviewed_at = now
        self._dequeue()
        review = Note(
            "reviewed_after_forward", supervisor.actor, {"basis": self.basis.value, "reason": reason}
        )
        return Verdict(CaseState.FORWARDED, 1, 1), Outcome(
            (review,), (self._reviewed("reviewed_after_forward", CaseState.FORWARDED, reason),)
        )

    def _forward_changes(
        self, supervisor: Supervisor, reason: str, consent: StandingConsent, routing: Routing, now: datetime
    ) -> tuple[Verdict, Outcome]:
        """Send a forwarded case's changes on, on the basis that holds now and with the fields it permits:
        each follow-up to every agency that has the case; where the incident moved, a first package to
        the new jurisdiction's agencies and word of it to the first ones.
        """
        gate = self._decide(consent, routing, established_only=True)
        if not gate.has_basis:
            refused = Note("changes_refused", supervisor.actor, {"cause": "no_basis", "reason": reason})
            return Verdict(self._state, 0, 0, refused=gate.reasons), Outcome((refused,))
        self.verdicts.append(
            SupervisorVerdict(supervisor.person_id, supervisor.token_id, VerdictKind.FORWARD_CHANGES, now, reason)
        )  # fmt: skip
        approvers = (Approver(role="supervisor", person_id=supervisor.person_id),)
        firsts = list(self.first_packages)
        # An agency whose first package waits on a supervisor or was set aside (and not acknowledged)
        # has the case (it gets no new first package) but nothing to follow: a follow-up would name a
        # package it never had.
        followable = list(self.followable_packages)
        holding = {package.agency_id for package in firsts}
        arriving = [recipient for recipient in gate.recipients if recipient.agency_id not in holding]
        moved = (
            Jurisdiction(location=self.triage.facts.location, agencies=[r.agency_id for r in gate.recipients])
            if arriving
            else None
        )
        dispatches = []
        for recipient in arriving:
            package = Package(
                uuid.uuid4(), recipient.agency_id, recipient.kind, gate.basis, gate.fields, now,
                self._seconds_from_receipt(now),
            )  # fmt: skip
            dispatches.append(self._dispatch(package, approvers, supervisor.actor, None))
        still_there = {recipient.agency_id for recipient in gate.recipients}
        waiting, not_sent = self._owe_follow_ups(firsts, still_there)
        for first in followable:
            # An agency the case left gets word of where it went, once, and nothing of what follows.
            if first.agency_id not in still_there:
                supplements: list[uuid.UUID | None] = [None] if moved is not None else []
                moved_away = moved
            else:
                # What it was owed while its first package waited, then what came since; never twice.
                held = self._sources_sent_to(first.agency_id)
                due = dict.fromkeys((*first.owed, *self.pending_supplements))
                supplements, moved_away = [s for s in due if s not in held], None
            if first.owed:
                if first.agency_id not in still_there:
                    entry = {"agency_id": first.agency_id, "package_id": str(first.package_id),
                             "follow_ups": [str(s) for s in first.owed], "cause": "agency_not_recipient"}  # fmt: skip
                    not_sent.append(entry)
                self._replace_package(replace(first, owed=()))
            for supplement in supplements:
                package = Package(
                    uuid.uuid4(), first.agency_id, first.recipient_kind, gate.basis, first.fields & gate.fields,
                    now, self._seconds_from_receipt(now), supplementary_to=first.package_id, source_id=supplement,
                    moved_to=moved_away,
                )  # fmt: skip
                carried = frozenset({supplement}) if supplement else frozenset()
                dispatches.append(self._dispatch(package, approvers, supervisor.actor, None, carried))
        detail = {"reason": reason, "changes": list(self.review_reasons), "packages": len(dispatches),
                  "moved_to": moved.agencies if moved else None, "follow_ups_waiting": waiting,
                  "follow_ups_not_sent": not_sent}  # fmt: skip
        self._stand_on(gate, CaseState.FORWARDED)
        self.pending_supplements, self.reviewed_at = (), now
        self._dequeue()
        notes = (Note("changes_forwarded", supervisor.actor, detail),)
        events = (self._reviewed("changes_forwarded", CaseState.FORWARDED, reason),)
        issue = Issue(tuple(dispatches), self.triage.facts, approvers) if dispatches else None
        return Verdict(CaseState.FORWARDED, 1, 1), Outcome(notes, events, issue)

    def _owe_follow_ups(
        self, firsts: list[Package], still_there: set[str]
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """The follow-ups being sent on that an agency whose first package waits after a broker wipe is
        owed (its re-issue carries them), and those an agency whose first package was set aside does
        not get (owed still, should it acknowledge that package): both for the audit, so that a
        supervisor sees who did not get what."""
        waiting: list[dict[str, Any]] = []
        not_sent: list[dict[str, Any]] = []
        for first in firsts:
            if first.agency_id not in still_there or not self.pending_supplements:
                continue
            held = self._sources_sent_to(first.agency_id)
            fresh = tuple(s for s in self.pending_supplements if s not in held and s not in first.owed)
            entry = {"agency_id": first.agency_id, "package_id": str(first.package_id),
                     "follow_ups": [str(s) for s in fresh]}  # fmt: skip
            if first.awaits_decision and fresh:
                self._replace_package(replace(first, owed=(*first.owed, *fresh)))
                waiting.append(entry)
            elif (
                first.withheld_decision is WithheldDecision.SET_ASIDE
                and first.acknowledged_at is None
                and fresh
            ):
                # Not sent now, but owed still: should the agency acknowledge the package after all, a
                # supervisor decides whether it goes.
                self._replace_package(replace(first, owed=(*first.owed, *fresh)))
                not_sent.append({**entry, "cause": "first_package_set_aside"})
        return waiting, not_sent

    def _sources_sent_to(self, agency_id: str) -> set[uuid.UUID]:
        """The follow-ups that went (or wait to go again) to this agency in packages of their own."""
        return {p.source_id for p in self.packages if p.agency_id == agency_id and p.source_id}

    def _replace_package(self, package: Package) -> None:
        self.packages = [package if p.package_id == package.package_id else p for p in self.packages]

    def _forward(
        self,
        gate: policy.GateDecision,
        approvers: tuple[Approver, ...],
        actor: str,
        cause: EventBase | None,
        now: datetime,
        facts: TipFacts | None = None,
        sources: frozenset[uuid.UUID] | None = None,
    ) -> Issue:
        """One package per recipient, carrying the permitted fields; the case is forwarded."""
        dispatches = []
        for recipient in gate.recipients:
            package = Package(
                uuid.uuid4(), recipient.agency_id, recipient.kind, gate.basis, gate.fields, now,
                self._seconds_from_receipt(now),
            )  # fmt: skip
            dispatches.append(self._dispatch(package, approvers, actor, cause, sources))
        self.state, self.forwarded_at = CaseState.FORWARDED, now
        return Issue(tuple(dispatches), facts or self.triage.facts, approvers)

    def _dispatch(
        self,
        package: Package,
        approvers: tuple[Approver, ...],
        actor: str,
        cause: EventBase | None,
        sources: frozenset[uuid.UUID] | None = None,
    ) -> Dispatch:
        self.packages.append(package)
        note = Note(
            "forwarded", actor,
            {"package_id": str(package.package_id), "agency_id": package.agency_id, "basis": package.basis.value,
             "fields": sorted(field.value for field in package.fields),
             "supplementary_to": str(package.supplementary_to) if package.supplementary_to else None,
             "moved_to": package.moved_to.agencies if package.moved_to else None,
             "approvers": [f"{approver.role}:{approver.person_id}" for approver in approvers]},
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
        # A first package carries every follow-up but those a supervisor kept back: kept back is kept
        # back, for an agency that arrives later (a moved incident) or a package issued again.
        excluded = frozenset(self.kept_supplements) if sources is None else frozenset()
        return Dispatch(package, note, event, sources, excluded)

    def _restart_approvals(self, now: datetime, cause: str) -> tuple[Note, ...]:
        """What a package would carry changed under approvals not yet complete: each person approves the
        package that goes out, so this round's approvals no longer count and the round starts again.
        """
        if self.state is not CaseState.PENDING_REVIEW or not self.approvals:
            return ()
        withdrawn = len(self.approvals)
        self.reopened_at = now
        return (Note("approvals_restarted", SYSTEM, {"approvals": withdrawn, "cause": cause}),)

    def _stand_on(self, gate: policy.GateDecision, state: CaseState) -> None:
        self.state, self.decision, self.basis = state, gate.decision, gate.basis
        self.recipients, self.fields = gate.recipients, gate.fields
        self.approvals_needed, self.policy_version = gate.approvals_needed, gate.policy_version

    def _stands_on(self, gate: policy.GateDecision) -> bool:
        """The case already rests on this decision (the consent given with the tip, recorded again)."""
        return (self.decision, self.basis, self.recipients, self.fields) == (
            gate.decision, gate.basis, gate.recipients, gate.fields,
        )  # fmt: skip

    def _consent_changed(self, event: ConsentRecordedV1) -> Note:
        """What a consent change means for a decided case: nothing it can call back."""
        if self.basis in MANDATORY_BASES and event.withdrawn:
            effect = "mandatory_basis_stands"
        elif self.state is CaseState.FORWARDED:
            effect = "already_forwarded"
        else:
            effect = "none"
        return Note(
            "consent_changed", SYSTEM,
            {"consent_version": event.version, "withdrawn": sorted(event.withdrawn), "state": self._state.value,
             "basis": self.basis.value, "effect": effect, "recorded_by_role": event.recorded_by_role},
        )  # fmt: skip

    def _reviewed(self, verdict: ReviewVerdict, state: CaseState, reason: str | None) -> DisclosureReviewedV1:
        return DisclosureReviewedV1(
            **of_tip(self.tip_id, self.correlation_id, PRODUCER, self.traceparent),
            verdict=verdict, basis=self.basis, state=state, reason=reason,
        )  # fmt: skip

    def _seconds_from_receipt(self, now: datetime) -> float:
        return max((now - self.received_at).total_seconds(), 0.0)


def answered_grounds(facts: TipFacts) -> frozenset[Basis]:
    """The mandatory grounds the answers give: a minor involved (or an age under 18), danger now."""
    assessment = facts.assessment
    grounds = set()
    if assessment.minor_involved is Answer.YES or (
        assessment.victim_age is not None and assessment.victim_age < 18
    ):
        grounds.add(Basis.CHILD_PROTECTION)
    if assessment.imminent_danger is Answer.YES:
        grounds.add(Basis.IMMINENT_DANGER)
    return frozenset(grounds)


def _changes(previous: Triage, current: Triage) -> tuple[str, ...]:
    """What a revision changed that a supervisor must see: codes, never content."""
    changes = []
    if current.urgency is not previous.urgency:
        changes.append(f"urgency.{previous.urgency.value}_to_{current.urgency.value}")
    for ground in sorted(current.found_grounds - previous.found_grounds):
        changes.append(f"ground.{ground.value}")
    for possibility in sorted(set(current.possibilities) - set(previous.possibilities)):
        changes.append(f"triage.{possibility}")
    if current.facts.location != previous.facts.location:
        changes.append("location.changed")
    return tuple(changes)
