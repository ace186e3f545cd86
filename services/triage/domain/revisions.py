"""How a tip's urgency changes once it is decided: new information raises it, supervisors set it.

Software never lowers an urgency on its own; only a supervisor does, with a reason. New
information raises the urgency when it brings something the classifier had not seen before, so a
supervisor's override stands until the facts change.
"""

from __future__ import annotations

from dataclasses import dataclass

from schemas.triage import URGENCY_RANK, OverrideReason, Reason, Urgency
from services.triage.domain.classification import Classification

URGENCY_WORDS = {
    Urgency.URGENT: ("urgent", "urgent"),
    Urgency.NON_URGENT: ("non-urgent", "non urgent"),
    Urgency.INSUFFICIENT_INFORMATION: ("insufficient information", "information insuffisante"),
}
OVERRIDE_WORDS = {
    OverrideReason.NEW_INFORMATION: ("new information", "nouvelle information"),
    OverrideReason.CALLER_CLARIFIED: ("the caller clarified", "la personne a précisé"),
    OverrideReason.SPECIALIST_ASSESSMENT: ("the specialist's assessment", "l'évaluation de l'intervenant"),
    OverrideReason.CLASSIFIER_ERROR: ("a classification error", "une erreur de classement"),
    OverrideReason.DUPLICATE: ("a duplicate of another tip", "un doublon d'un autre signalement"),
    OverrideReason.OTHER: ("another reason, recorded in the audit", "une autre raison, consignée au journal"),
}


class UrgencyUnchanged(Exception):
    """An override to the urgency the tip already has."""


@dataclass(frozen=True, slots=True)
class Revision:
    urgency: Urgency
    reasons: tuple[Reason, ...]

    def changes(self, current: Urgency) -> bool:
        return self.urgency is not current


def after_new_information(
    current: Urgency, previous: Urgency, previous_grounds: frozenset[str], latest: Classification
) -> Revision:
    """The urgency once ``latest`` (the classifier on everything known now) follows ``previous``.

    It rises to ``latest``'s urgency when that is higher than the current one and the information
    brought it: a higher classification than before, or an urgent ground not seen before.
    """
    brought_more = URGENCY_RANK[latest.urgency] > URGENCY_RANK[previous] or bool(
        latest.urgent_grounds - previous_grounds
    )
    if URGENCY_RANK[latest.urgency] > URGENCY_RANK[current] and brought_more:
        return Revision(latest.urgency, (_raised(current, latest.urgency), *latest.reasons))
    if latest.urgency is current:
        return Revision(current, latest.reasons)
    return Revision(current, (_kept(current, latest.urgency), *latest.reasons))


def overridden(current: Urgency, to: Urgency, reason: OverrideReason, latest: Classification) -> Revision:
    """A supervisor's override: the urgency they chose, the reason first, the classifier's after."""
    if to is current:
        raise UrgencyUnchanged
    (from_en, from_fr), (to_en, to_fr) = URGENCY_WORDS[current], URGENCY_WORDS[to]
    because_en, because_fr = OVERRIDE_WORDS[reason]
    return Revision(
        to,
        (
            Reason(
                code=f"override.{reason.value}",
                en=f"A supervisor changed the urgency from {from_en} to {to_en} because of {because_en}.",
                fr=f"Un superviseur a changé l'urgence de « {from_fr} » à « {to_fr} » en raison de {because_fr}.",
            ),
            *latest.reasons,
        ),
    )


def _raised(current: Urgency, to: Urgency) -> Reason:
    (from_en, from_fr), (to_en, to_fr) = URGENCY_WORDS[current], URGENCY_WORDS[to]
    return Reason(
        code="supplement.raised_urgency",
        en=f"New information raised the urgency from {from_en} to {to_en}.",
        fr=f"De nouvelles informations ont fait passer l'urgence de « {from_fr} » à « {to_fr} ».",
    )


def _kept(current: Urgency, classified: Urgency) -> Reason:
    (kept_en, kept_fr), (classified_en, classified_fr) = URGENCY_WORDS[current], URGENCY_WORDS[classified]
    return Reason(
        code="supplement.urgency_kept",
        en=(
            f"The urgency stays {kept_en}, as decided before: the classifier alone reads {classified_en},"
            " and new information changes an urgency only by raising it on a new ground."
        ),
        fr=(
            f"L'urgence reste « {kept_fr} », comme décidé auparavant : le classement seul donne"
            f" « {classified_fr} », et une nouvelle information ne change l'urgence qu'en la relevant"
            " sur un nouveau motif."
        ),
    )
