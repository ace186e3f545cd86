"""The law-enforcement gate as policy code: a pure function of the case, versioned, its rules as data.

Policy v2 (``gate-2026.12.1.json``; 2026.12.0 let a tip entered by an administrator count as a call):
- a basis is the caller's law-enforcement consent or a mandatory ground: suspected abuse of a
  minor, imminent danger, a legal obligation a supervisor records with its structured reference;
- tips from the public web form and from email are always held for a supervisor, whatever the
  ground (seed 003); an urgent one waits in the expedited queue;
- a phone or chat tip goes at once only on a mandatory ground the specialist recorded during the
  call, with the specialist named as its actor, and is reviewed after;
- a ground found only in the text, or triage's ``possible_minor``/``possible_danger``, is never a
  basis on its own: a supervisor confirms it first;
- a package carries, per basis, only the fields its recipient needs to act; the caller's words,
  the victim profile and needs only with law-enforcement consent; who called only with identity
  consent.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from pathlib import Path

from schemas.disclosure import (
    CALLER_IDENTITY,
    Basis,
    Decision,
    LegalReference,
    PackageField,
    Recipient,
    ReviewQueue,
)
from schemas.tip import Channel, Consent, Location
from schemas.triage import Reason, Urgency
from services.disclosure.domain.routing import Routing

POLICY_FILE = Path(__file__).parent / "gate-2026.12.1.json"
GROUNDS = (Basis.CHILD_PROTECTION, Basis.IMMINENT_DANGER)


@dataclass(frozen=True, slots=True)
class Rules:
    """The policy's data: versioned, so that a decision names the rules it was taken under."""

    version: str
    review_windows: dict[ReviewQueue, timedelta]
    at_risk_share: float
    always_reviewed: frozenset[Channel]
    spoken: frozenset[Channel]
    call_takers: frozenset[str]
    """The staff roles whose answers during a call may forward at once."""
    fields_by_basis: dict[Basis, frozenset[PackageField]]
    with_law_enforcement_consent: frozenset[PackageField]
    with_identity_consent: frozenset[PackageField]
    victim_names_need_identity_when_reporter_is_victim: bool


@cache
def load_rules(path: Path = POLICY_FILE) -> Rules:
    data = json.loads(path.read_text(encoding="utf-8"))

    def fields(names: list[str]) -> frozenset[PackageField]:
        return frozenset(PackageField(name) for name in names)

    return Rules(
        version=data["version"],
        review_windows={
            ReviewQueue(queue): timedelta(minutes=minutes)
            for queue, minutes in data["review_windows_minutes"].items()
        },
        at_risk_share=data["at_risk_share"],
        always_reviewed=frozenset(Channel(channel) for channel in data["always_reviewed_channels"]),
        spoken=frozenset(Channel(channel) for channel in data["spoken_channels"]),
        call_takers=frozenset(data["call_taker_roles"]),
        fields_by_basis={Basis(basis): fields(names) for basis, names in data["fields_by_basis"].items()},
        with_law_enforcement_consent=fields(data["with_law_enforcement_consent"]),
        with_identity_consent=fields(data["with_identity_consent"]),
        victim_names_need_identity_when_reporter_is_victim=data[
            "victim_names_need_identity_consent_when_the_reporter_is_the_victim"
        ],
    )


POLICY_VERSION = load_rules().version

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
    en="The specialist recorded this mandatory ground during the call: it goes out at once in their name, and a supervisor reviews it after.",
    fr="La ou le spécialiste a consigné ce motif obligatoire pendant l'appel : transmis immédiatement en son nom, puis examiné par un superviseur.",
)
WRITTEN_CHANNEL = Reason(
    code="decision.written_channel_reviewed",
    en="Every tip from the web form or by email is studied by a supervisor, who decides whether it goes out.",
    fr="Tout signalement reçu par le formulaire Web ou par courriel est étudié par un superviseur, qui décide de sa transmission.",
)
GROUND_TO_CONFIRM = Reason(
    code="decision.ground_to_confirm",
    en="The ground was found in what was written, not recorded by a specialist during a call: a supervisor confirms it first.",
    fr="Le motif a été relevé dans le texte, non consigné par une ou un spécialiste pendant un appel : un superviseur le confirme d'abord.",
)
POSSIBLE_GROUND = Reason(
    code="decision.possible_ground",
    en="Triage found a possible minor or a possible danger: never a basis on its own; a supervisor decides.",
    fr="Le triage a relevé une possible personne mineure ou un possible danger : jamais un motif à lui seul; un superviseur décide.",
)
FOR_REVIEW = Reason(
    code="decision.review_first",
    en="A supervisor reviews it before anything goes out.",
    fr="Un superviseur l'examine avant toute transmission.",
)
EXPEDITED = Reason(
    code="queue.expedited",
    en="Urgent: it waits in the expedited review queue, due within minutes.",
    fr="Urgent : en attente dans la file d'examen accélérée, à traiter en quelques minutes.",
)
SECOND_SUPERVISOR = Reason(
    code="decision.second_supervisor",
    en="A legal obligation needs two different supervisors approving the same reference.",
    fr="Une obligation légale exige deux superviseurs différents qui approuvent la même référence.",
)
IDENTITY_WITHHELD = Reason(
    code="fields.identity_withheld",
    en="The caller did not consent to sharing their identity: who called is withheld.",
    fr="La personne n'a pas consenti à ce que son identité soit communiquée : elle n'est pas transmise.",
)
NARRATIVE_WITHHELD = Reason(
    code="fields.narrative_withheld",
    en="Without the caller's consent to involve the police, their own words, the victim's profile and needs stay with the hotline.",
    fr="Sans le consentement de la personne à impliquer la police, son récit, le profil de la victime et ses besoins restent à la Ligne.",
)


@dataclass(frozen=True, slots=True)
class Grounds:
    """The mandatory grounds of a case, by who established them."""

    recorded: frozenset[Basis] = frozenset()
    """The specialist's own answers during a phone call or a chat."""
    confirmed: frozenset[Basis] = frozenset()
    """Confirmed by a supervisor."""
    unconfirmed: frozenset[Basis] = frozenset()
    """Found in the text by triage or ticked on a form: a supervisor confirms them."""
    possible: bool = False
    """Triage's ``possible_minor`` or ``possible_danger``."""

    @property
    def established(self) -> frozenset[Basis]:
        return self.recorded | self.confirmed


@dataclass(frozen=True, slots=True)
class Case:
    """What the gate decides on."""

    urgency: Urgency
    channel: Channel
    consent: Consent
    grounds: Grounds
    location: Location
    outside_canada: bool
    reporter_is_victim: bool = False
    legal_reference: LegalReference | None = None
    first_decision: bool = True
    """Only the decision on a tip's first triage may send it at once: what comes later is reviewed."""


@dataclass(frozen=True, slots=True)
class GateDecision:
    decision: Decision
    basis: Basis
    recipients: tuple[Recipient, ...]
    fields: frozenset[PackageField]
    reasons: tuple[Reason, ...]
    approvals_needed: int
    queue: ReviewQueue | None
    needs_confirmation: bool = False
    """The basis (or the possibility of one) is not established: the approving supervisor confirms it."""
    policy_version: str = POLICY_VERSION

    @property
    def has_basis(self) -> bool:
        return self.basis is not Basis.NONE


def basis_of(case: Case) -> tuple[Basis, bool]:
    """The strongest basis, and whether it still needs a supervisor to confirm it: established
    grounds first (they hold even if consent is withdrawn), then a legal obligation, then a ground
    no one has confirmed yet, then consent.
    """
    for ground in GROUNDS:
        if ground in case.grounds.established:
            return ground, False
    if case.legal_reference is not None:
        return Basis.LEGAL_OBLIGATION, False
    for ground in GROUNDS:
        if ground in case.grounds.unconfirmed:
            return ground, True
    if case.consent.law_enforcement:
        return Basis.CONSENT, False
    return Basis.NONE, case.grounds.possible


def permitted_fields(basis: Basis, case: Case, rules: Rules) -> frozenset[PackageField]:
    """What the recipient needs to act on this basis; the rest only as the caller allowed."""
    if basis is Basis.NONE:
        return frozenset()
    fields = set(rules.fields_by_basis[basis])
    if case.consent.law_enforcement:
        fields |= rules.with_law_enforcement_consent
    if case.consent.share_identity:
        fields |= rules.with_identity_consent
    elif case.reporter_is_victim and rules.victim_names_need_identity_when_reporter_is_victim:
        # The victim who called would be named among the victims.
        fields.discard(PackageField.VICTIM_NAMES)
    return frozenset(fields)


def decide(case: Case, routing: Routing, rules: Rules | None = None) -> GateDecision:
    """Decide whether a case may go to law enforcement, on which basis, to whom, carrying what."""
    rules = rules or load_rules()
    basis, to_confirm = basis_of(case)
    if basis is Basis.NONE and not to_confirm:
        return GateDecision(
            Decision.DO_NOT_FORWARD, basis, (), frozenset(), (BASIS_REASONS[basis],), 0, None,
            policy_version=rules.version,
        )  # fmt: skip
    urgent = case.urgency is Urgency.URGENT
    at_once = (
        case.first_decision
        and urgent
        and case.channel in rules.spoken
        and case.channel not in rules.always_reviewed
        and basis in case.grounds.recorded
    )
    fields = permitted_fields(basis, case, rules)
    reasons = [BASIS_REASONS[basis]]
    if at_once:
        reasons.append(AT_ONCE)
    else:
        if case.channel in rules.always_reviewed:
            reasons.append(WRITTEN_CHANNEL)
        if to_confirm:
            reasons.append(GROUND_TO_CONFIRM if basis is not Basis.NONE else POSSIBLE_GROUND)
        reasons.append(FOR_REVIEW)
        if urgent:
            reasons.append(EXPEDITED)
    if basis is Basis.LEGAL_OBLIGATION:
        reasons.append(SECOND_SUPERVISOR)
    if basis is not Basis.NONE and PackageField.NARRATIVE not in fields:
        reasons.append(NARRATIVE_WITHHELD)
    if basis is not Basis.NONE and not fields & CALLER_IDENTITY:
        reasons.append(IDENTITY_WITHHELD)
    return GateDecision(
        decision=Decision.FORWARD if at_once else Decision.HOLD_FOR_REVIEW,
        basis=basis,
        recipients=routing.recipients(
            case.location,
            case.outside_canada,
            basis is Basis.CHILD_PROTECTION or Basis.CHILD_PROTECTION in case.grounds.established,
        )
        if basis is not Basis.NONE
        else (),
        fields=fields,
        reasons=tuple(reasons),
        approvals_needed=0 if at_once else 2 if basis is Basis.LEGAL_OBLIGATION else 1,
        queue=None if at_once else ReviewQueue.EXPEDITED if urgent else ReviewQueue.STANDARD,
        needs_confirmation=to_confirm,
        policy_version=rules.version,
    )
