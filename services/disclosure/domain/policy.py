"""The law-enforcement gate as policy code: a pure function of the case, versioned.

Nothing goes to law enforcement without the caller's consent or a mandatory ground: suspected
abuse of a minor, reason to believe in imminent danger, or a legal obligation a supervisor records
with its reference. Who called is shared only with the caller's consent to share their identity;
their own words (the narrative) only with their consent to involve the police.
"""

from __future__ import annotations

from dataclasses import dataclass

from schemas.disclosure import CALLER_IDENTITY, Basis, Decision, PackageField, Recipient
from schemas.tip import Channel, Consent, Location
from schemas.triage import Reason, Urgency
from services.disclosure.domain.routing import Routing

POLICY_VERSION = "gate-2026.11.1"
FORWARD_AT_ONCE_BASES = frozenset({Basis.CHILD_PROTECTION, Basis.IMMINENT_DANGER})
SPOKEN_CHANNELS = frozenset({Channel.PHONE, Channel.CHAT})
TO_ACT = frozenset(
    {PackageField.SITUATION, PackageField.LOCATION, PackageField.WHEN, PackageField.NAMED_PERSONS}
)

BASIS_REASONS = {
    Basis.CHILD_PROTECTION: Reason(
        code="basis.child_protection",
        en="Suspected abuse of a minor must be reported, with or without consent.",
        fr="Un abus soupçonné envers une personne mineure doit être signalé, avec ou sans consentement.",
    ),
    Basis.IMMINENT_DANGER: Reason(
        code="basis.imminent_danger",
        en="There is reason to believe in imminent danger, which allows reporting without consent.",
        fr="Il y a lieu de croire à un danger imminent, ce qui permet de signaler sans consentement.",
    ),
    Basis.LEGAL_OBLIGATION: Reason(
        code="basis.legal_obligation",
        en="A supervisor recorded a legal obligation to report, with its reference.",
        fr="Un superviseur a consigné une obligation légale de signaler, avec sa référence.",
    ),
    Basis.CONSENT: Reason(
        code="basis.consent",
        en="The caller consented to sharing the information with law enforcement.",
        fr="La personne a consenti à ce que l'information soit transmise aux forces de l'ordre.",
    ),
    Basis.NONE: Reason(
        code="basis.none",
        en="No consent and no mandatory-reporting ground: nothing is forwarded.",
        fr="Ni consentement ni motif de signalement obligatoire : rien n'est transmis.",
    ),
}
AT_ONCE = Reason(
    code="decision.forward_at_once",
    en="Urgent: it goes out at once and a supervisor reviews it after.",
    fr="Urgent : transmis immédiatement, puis examiné par un superviseur.",
)
FOR_REVIEW = Reason(
    code="decision.review_first",
    en="A supervisor reviews it before anything goes out, within 24 hours of receipt.",
    fr="Un superviseur l'examine avant toute transmission, dans les 24 heures suivant la réception.",
)
SECOND_SUPERVISOR = Reason(
    code="decision.second_supervisor",
    en="A legal obligation needs the approval of a second, different supervisor.",
    fr="Une obligation légale exige l'approbation d'un second superviseur, différent du premier.",
)
IDENTITY_WITHHELD = Reason(
    code="fields.identity_withheld",
    en="The caller did not consent to sharing their identity: who called is withheld.",
    fr="La personne n'a pas consenti à ce que son identité soit communiquée : elle n'est pas transmise.",
)
NARRATIVE_WITHHELD = Reason(
    code="fields.narrative_withheld",
    en="Without the caller's consent to involve the police, their own words stay with the hotline.",
    fr="Sans le consentement de la personne à impliquer la police, son récit reste à la Ligne.",
)


@dataclass(frozen=True, slots=True)
class Case:
    """What the gate decides on: triage's result, the current consent, the place and the channel."""

    urgency: Urgency
    channel: Channel
    consent: Consent
    minor_involved: bool
    imminent_danger: bool
    location: Location
    outside_canada: bool
    legal_reference: str | None = None


@dataclass(frozen=True, slots=True)
class GateDecision:
    decision: Decision
    basis: Basis
    recipients: tuple[Recipient, ...]
    fields: frozenset[PackageField]
    reasons: tuple[Reason, ...]
    approvals_needed: int
    policy_version: str = POLICY_VERSION

    @property
    def has_basis(self) -> bool:
        return self.basis is not Basis.NONE


def basis_of(case: Case) -> Basis:
    """The strongest ground: a mandatory one first, since it holds even if consent is withdrawn."""
    if case.minor_involved:
        return Basis.CHILD_PROTECTION
    if case.imminent_danger:
        return Basis.IMMINENT_DANGER
    if case.legal_reference:
        return Basis.LEGAL_OBLIGATION
    if case.consent.law_enforcement:
        return Basis.CONSENT
    return Basis.NONE


def permitted_fields(consent: Consent) -> frozenset[PackageField]:
    """What the recipient needs to act; the caller's words and identity only as they allowed."""
    fields = set(TO_ACT)
    if consent.law_enforcement:
        fields.add(PackageField.NARRATIVE)
    if consent.share_identity:
        fields |= CALLER_IDENTITY
    return frozenset(fields)


def decide(case: Case, routing: Routing) -> GateDecision:
    """Decide whether a case may go to law enforcement, on which basis, to whom, carrying what."""
    basis = basis_of(case)
    if basis is Basis.NONE:
        return GateDecision(Decision.DO_NOT_FORWARD, basis, (), frozenset(), (BASIS_REASONS[basis],), 0)
    at_once = case.urgency is Urgency.URGENT and (
        basis in FORWARD_AT_ONCE_BASES or (basis is Basis.CONSENT and case.channel in SPOKEN_CHANNELS)
    )
    fields = permitted_fields(case.consent)
    reasons = [BASIS_REASONS[basis], AT_ONCE if at_once else FOR_REVIEW]
    if basis is Basis.LEGAL_OBLIGATION:
        reasons.append(SECOND_SUPERVISOR)
    if PackageField.NARRATIVE not in fields:
        reasons.append(NARRATIVE_WITHHELD)
    if not fields & CALLER_IDENTITY:
        reasons.append(IDENTITY_WITHHELD)
    return GateDecision(
        decision=Decision.FORWARD if at_once else Decision.HOLD_FOR_REVIEW,
        basis=basis,
        recipients=routing.recipients(case.location, case.outside_canada, case.minor_involved),
        fields=fields,
        reasons=tuple(reasons),
        approvals_needed=2 if basis is Basis.LEGAL_OBLIGATION else 0 if at_once else 1,
    )
