"""The law-enforcement gate: nothing is forwarded without consent or a mandatory-reporting ground."""

from __future__ import annotations

from dataclasses import dataclass

from schemas.disclosure import Basis, Decision
from schemas.tip import Consent
from schemas.triage import Reason

POLICY_VERSION = "2026.11-skeleton.1"

BY_CONSENT = Reason(
    code="basis.consent",
    en="The caller consented to sharing the information with law enforcement.",
    fr="La personne a consenti à ce que l'information soit transmise aux forces de l'ordre.",
)
BY_CHILD_PROTECTION = Reason(
    code="basis.child_protection",
    en="Suspected abuse of a minor must be reported, with or without consent.",
    fr="Un abus soupçonné envers une personne mineure doit être signalé, avec ou sans consentement.",
)
BY_IMMINENT_DANGER = Reason(
    code="basis.imminent_danger",
    en="There is reason to believe in imminent danger, which allows reporting without consent.",
    fr="Il y a lieu de croire à un danger imminent, ce qui permet de signaler sans consentement.",
)
NO_BASIS = Reason(
    code="basis.none",
    en="No consent and no mandatory-reporting ground: nothing is forwarded.",
    fr="Ni consentement ni motif de signalement obligatoire : rien n'est transmis.",
)


@dataclass(frozen=True, slots=True)
class GateDecision:
    decision: Decision
    basis: Basis
    reasons: tuple[Reason, ...]
    policy_version: str = POLICY_VERSION


def decide(consent: Consent, minor_involved: bool, imminent_danger: bool) -> GateDecision:
    """Decide whether a triaged tip may go to law enforcement, and on which basis."""
    if consent.law_enforcement:
        return GateDecision(Decision.FORWARD, Basis.CONSENT, (BY_CONSENT,))
    if minor_involved:
        return GateDecision(Decision.FORWARD, Basis.CHILD_PROTECTION, (BY_CHILD_PROTECTION,))
    if imminent_danger:
        return GateDecision(Decision.FORWARD, Basis.IMMINENT_DANGER, (BY_IMMINENT_DANGER,))
    return GateDecision(Decision.DO_NOT_FORWARD, Basis.NONE, (NO_BASIS,))
