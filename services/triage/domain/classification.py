"""Urgency rules of the hotline, from the specialist's answers and the narrative together.

Any minor victim or imminent danger is urgent. Staff answers win over what the text suggests,
except that evidence of a minor or of danger, from either, always raises urgency and never lowers
it. A tip on which no indicator fires and that does not say where, who or what happened lacks the
information to act on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from schemas.tip import Answer, ReporterRole, TipFacts, TraffickingType
from schemas.triage import IndicatorFinding, MissingDetail, Reason, Strength, Urgency
from services.triage.domain.indicators import (
    ADULT_AGE,
    NO_FINDINGS,
    Evidence,
    Indicator,
    Judgement,
    Lexicon,
    TextFindings,
    detect,
    load_lexicon,
)
from services.triage.domain.safety_net import Model, Verdict, read

RULES_VERSION = "rules-2026.12.14"
REASON_LENGTH = 300
# Signs of what is happening: a strong indicator always; a medium one, or two weak ones, unless the
# tip itself says it is only a feeling ("rien de précis", "just a bad feeling"); a minor or violence
# in the past. One weak or context indicator alone is not concrete information.
CONCRETE = frozenset({"urgent", "strong"})
CONCRETE_UNLESS_VAGUE = frozenset({"medium"})
SIGNS_THAT_DESCRIBE = 2
STRENGTH_FR = {
    "urgent": "urgent",
    "strong": "fort",
    "medium": "moyen",
    "weak": "faible",
    "context": "contexte",
}

MINOR_STATED = Reason(
    code="minor_involved",
    en="The reporter says a minor is involved; every case involving a minor is urgent.",
    fr="La personne qui signale indique qu'une personne mineure est en cause; tout cas impliquant une personne mineure est urgent.",
)
MINOR_BY_AGE = Reason(
    code="victim_under_18",
    en="The victim's stated age is under 18; every case involving a minor is urgent.",
    fr="L'âge indiqué de la victime est inférieur à 18 ans; tout cas impliquant une personne mineure est urgent.",
)
DANGER_STATED = Reason(
    code="imminent_danger",
    en="Imminent danger to the caller or others was reported.",
    fr="Un danger imminent pour la personne qui appelle ou pour d'autres a été signalé.",
)
MINOR_AGE_IN_TEXT = "victim_under_18_in_text"
MINOR_IN_TEXT = "minor_in_text"
DANGER_IN_TEXT = "imminent_danger_in_text"
POSSIBLE_MINOR = "possible_minor"
POSSIBLE_DANGER = "possible_danger"
# The statistical second reading's possibilities carry the same codes as the rules' own: a plan
# starts, a specialist confirms, nothing is disclosed on them alone. Their text says where they came from.
NET_POSSIBLE_MINOR = "net." + POSSIBLE_MINOR
NET_POSSIBLE_DANGER = "net." + POSSIBLE_DANGER
MINOR_IN_PAST = "minor_in_past"
DANGER_OVER = "danger_over"
DANGER_RUMOURED = "danger_rumoured"
TEXT_REASONS = {
    MINOR_AGE_IN_TEXT: (
        "The account gives an age under 18 ({en}); every case involving a minor is urgent.",
        "Le récit donne un âge inférieur à 18 ans ({fr}); tout cas impliquant une personne mineure est urgent.",
    ),
    MINOR_IN_TEXT: (
        "The account describes a minor ({en}); every case involving a minor is urgent.",
        "Le récit décrit une personne mineure ({fr}); tout cas impliquant une personne mineure est urgent.",
    ),
    DANGER_IN_TEXT: (
        "The account describes imminent danger ({en}).",
        "Le récit décrit un danger imminent ({fr}).",
    ),
    POSSIBLE_MINOR: (
        "The account suggests a minor without stating it ({en}): urgent until a specialist confirms the age;"
        " not a ground for disclosure on its own.",
        "Le récit laisse croire à une personne mineure sans le dire ({fr}) : urgent jusqu'à ce qu'un"
        " intervenant confirme l'âge; ce n'est pas à lui seul un motif de communication.",
    ),
    POSSIBLE_DANGER: (
        "The account suggests danger without stating it ({en}): urgent until a specialist confirms the"
        " person's safety; not a ground for disclosure on its own.",
        "Le récit laisse croire à un danger sans le dire ({fr}) : urgent jusqu'à ce qu'un intervenant"
        " confirme la sécurité de la personne; ce n'est pas à lui seul un motif de communication.",
    ),
    NET_POSSIBLE_MINOR: (
        "No rule found it, but a statistical reading of labelled tips suggests a minor ({en}): urgent"
        " until a specialist confirms; not a ground for disclosure on its own.",
        "Aucune règle ne l'a trouvé, mais une lecture statistique de signalements étiquetés suggère une"
        " personne mineure ({fr}) : urgent jusqu'à confirmation; pas à lui seul un motif de communication.",
    ),
    NET_POSSIBLE_DANGER: (
        "No rule found it, but a statistical reading of labelled tips suggests danger ({en}): urgent"
        " until a specialist confirms; not a ground for disclosure on its own.",
        "Aucune règle ne l'a trouvé, mais une lecture statistique de signalements étiquetés suggère un"
        " danger ({fr}) : urgent jusqu'à confirmation; pas à lui seul un motif de communication.",
    ),
    MINOR_IN_PAST: (
        "The account speaks of a minor in the past, and of an adult now ({en}): not a minor case.",
        "Le récit parle d'une personne mineure dans le passé, et adulte aujourd'hui ({fr}) : pas un cas de"
        " personne mineure.",
    ),
    DANGER_OVER: (
        "The account describes violence that is over ({en}): not imminent danger.",
        "Le récit décrit une violence passée ({fr}) : pas un danger imminent.",
    ),
    DANGER_RUMOURED: (
        "The account passes on a rumour that it doubts itself ({en}), with no one and no time to act on:"
        " not imminent danger.",
        "Le récit rapporte une rumeur dont il doute lui-même ({fr}), sans personne ni moment précis :"
        " pas un danger imminent.",
    ),
}
URGENT_GROUNDS = frozenset(
    (
        MINOR_STATED.code,
        MINOR_BY_AGE.code,
        MINOR_AGE_IN_TEXT,
        MINOR_IN_TEXT,
        DANGER_STATED.code,
        DANGER_IN_TEXT,
    )
)
POSSIBILITIES = frozenset((POSSIBLE_MINOR, POSSIBLE_DANGER))
NO_URGENT_GROUND = Reason(
    code="no_urgent_ground",
    en="No minor and no imminent danger: a supervisor reviews the tip within 24 hours.",
    fr="Aucune personne mineure ni aucun danger imminent : un superviseur examine le signalement dans les 24 heures.",
)
MISSING = {
    MissingDetail.WHERE: Reason(
        code="missing.where",
        en="The tip does not say where the situation is (province, city or another country).",
        fr="Le signalement n'indique pas où se trouve la situation (province, ville ou autre pays).",
    ),
    MissingDetail.WHO: Reason(
        code="missing.who",
        en="The tip does not say who is affected.",
        fr="Le signalement n'indique pas qui est touché.",
    ),
    MissingDetail.WHAT: Reason(
        code="missing.what",
        en="The tip does not say what is happening: no type of exploitation and too short an account.",
        fr="Le signalement n'indique pas ce qui se passe : aucun type d'exploitation et un récit trop bref.",
    ),
}
ACTIONABLE_BY_READING = Reason(
    code="net.actionable",
    en="No rule found a sign of exploitation, but a statistical reading of labelled tips finds an account"
    " a specialist can act on: read as non-urgent rather than insufficient, for a supervisor to review.",
    fr="Aucune règle n'a trouvé d'indice d'exploitation, mais une lecture statistique de signalements"
    " étiquetés y trouve un récit sur lequel agir : classé non urgent plutôt qu'insuffisant, pour examen.",
)
NARRATIVE_ERASED = Reason(
    code="narrative.erased",
    en="The tip's identifying data was erased; it was classified from its other answers.",
    fr="Les données identificatoires du signalement ont été effacées; il a été classé selon ses autres réponses.",
)


@dataclass(frozen=True, slots=True)
class Classification:
    urgency: Urgency
    reasons: tuple[Reason, ...]
    minor_involved: bool
    imminent_danger: bool
    indicators: tuple[IndicatorFinding, ...] = ()
    missing: tuple[MissingDetail, ...] = ()
    ruleset_version: str = RULES_VERSION

    @property
    def urgent_grounds(self) -> frozenset[str]:
        """The codes of the reasons that make the tip urgent: a minor, or imminent danger."""
        return frozenset(reason.code for reason in self.reasons if reason.code in URGENT_GROUNDS)

    @property
    def possibilities(self) -> frozenset[str]:
        """`possible_minor` and `possible_danger`: urgent, to confirm, never a disclosure ground."""
        return frozenset(reason.code for reason in self.reasons if reason.code in POSSIBILITIES)


def classify(
    facts: TipFacts,
    narrative: str | None = None,
    narrative_erased: bool = False,
    lexicon: Lexicon | None = None,
    second_reading: bool = True,
    received_on: date | None = None,
    net: Model | None = None,
) -> Classification:
    """Decide a tip's urgency and say why, in English and French.

    When the rules find no minor and no danger in a narrative, the statistical second reading
    (`safety_net`) may still raise the tip to urgent as a possibility; ``second_reading=False`` is
    the rules alone, which the net is trained against. ``received_on`` is the day the tip was
    received, against which a year of birth in the narrative is an age (the caller passes it: the
    domain reads no clock); without it a year of birth is not read. The same reading may find an
    account to act on in a tip whose words the rules lack: it is then non-urgent, not insufficient
    (it never lowers an urgent call). ``net`` is the reading's model (the trained one by default).
    """
    lexicon = lexicon or load_lexicon()
    findings = detect(narrative, lexicon, received_on) if narrative else NO_FINDINGS
    minor_reasons = _minor_reasons(facts, findings)
    danger_reasons = _danger_reasons(facts, findings)
    possibilities = (
        *(
            (_text_reason(POSSIBLE_MINOR, findings.minor),)
            if findings.minor.possible and not minor_reasons
            else ()
        ),
        *(
            (_text_reason(POSSIBLE_DANGER, findings.danger),)
            if findings.danger.possible and not danger_reasons
            else ()
        ),
    )
    set_aside = (
        *(
            (_text_reason(MINOR_IN_PAST, findings.minor_in_past),)
            if findings.minor_in_past.stated and not minor_reasons
            else ()
        ),
        *(
            (_text_reason(DANGER_OVER, findings.danger_over),)
            if findings.danger_over.stated and not danger_reasons
            else ()
        ),
        *(
            (_text_reason(DANGER_RUMOURED, findings.danger_rumoured),)
            if findings.danger_rumoured.stated and not danger_reasons
            else ()
        ),
    )
    indicators = list(findings.indicators)
    commercial_sex = findings.sex_trade_mentioned or TraffickingType.SEX in facts.assessment.trafficking_types
    if (minor_reasons or findings.minor.possible) and commercial_sex:
        indicators.insert(0, lexicon.indicator("HT-01"))
    outputs = [_indicator_output(i.code, i.strength, i.en, i.fr) for i in indicators]
    indicator_reasons = tuple(reason for reason, _ in outputs)
    erased = (NARRATIVE_ERASED,) if narrative_erased else ()
    missing = _missing_details(facts, findings, indicators)
    version = f"{RULES_VERSION}+{lexicon.version}"
    findings_out = tuple(finding for _, finding in outputs)
    missing_reasons = tuple(MISSING[detail] for detail in missing)
    # The second reading does not overrule what the rules read and set aside on purpose: a danger
    # that is over, a minor in the past who is an adult now; nor does its guess of a minor stand
    # against an adult age the rules read (its guess of danger still may). Its guess of danger does
    # stand against a narrative that denies danger in words: the signals conflict, and a conflict is
    # a possible danger for a specialist to confirm (issue 12: recall first).
    actionable = False
    if not (minor_reasons or danger_reasons or possibilities or set_aside) and narrative and second_reading:
        verdict = read(
            narrative,
            net,
            words=findings.words,
            minor_ruled_out=findings.adults_only,
            places=_places(facts),
        )
        # A doubted rumour was set aside as no account on purpose, and a short call cut off before
        # its account ("c'est pour ma cousine, elle..." then the line cut) has none to find: the
        # reading does not undo either. It never lowers an urgent call, so recall does not pay for it.
        actionable = verdict.actionable and not findings.danger_rumoured.stated and not findings.cut_off
        if verdict.raises:
            possibilities = (_net_reason(verdict),)
    if minor_reasons or danger_reasons or possibilities:
        return Classification(
            Urgency.URGENT,
            (*minor_reasons, *danger_reasons, *possibilities, *indicator_reasons, *set_aside, *erased),
            bool(minor_reasons), bool(danger_reasons), findings_out, missing, version,
        )  # fmt: skip
    if missing and not actionable:
        return Classification(
            Urgency.INSUFFICIENT_INFORMATION, (*missing_reasons, *indicator_reasons, *set_aside, *erased),
            False, False, findings_out, missing, version,
        )  # fmt: skip
    read_as_actionable = (ACTIONABLE_BY_READING,) if missing else ()
    return Classification(
        Urgency.NON_URGENT,
        (NO_URGENT_GROUND, *read_as_actionable, *indicator_reasons, *missing_reasons, *set_aside, *erased),
        False, False, findings_out, missing, version,
    )  # fmt: skip


def _places(facts: TipFacts) -> tuple[str, ...]:
    """The tip's own place names, which a reason never quotes."""
    location = facts.location
    return tuple(str(name) for name in (location.city, location.province) if name)


def _quoted(evidence: tuple[Evidence, ...], french: bool) -> str:
    return "; ".join(
        f"{item.fr if french else item.en} : « {' », « '.join(item.words)} »"
        if french
        else f"{item.en}: “{'”, “'.join(item.words)}”"
        for item in evidence
    )


def _text_reason(code: str, judgement: Judgement) -> Reason:
    """A reason from the narrative, saying which kinds of sign decided and the words that showed them."""
    en, fr = TEXT_REASONS[code]
    for kept in range(len(judgement.evidence), 0, -1):
        english = en.format(en=_quoted(judgement.evidence[:kept], french=False))
        french = fr.format(fr=_quoted(judgement.evidence[:kept], french=True))
        if max(len(english), len(french)) <= REASON_LENGTH:
            return Reason(code=code, en=english, fr=french)
    return Reason(code=code, en=en.format(en="…"), fr=fr.format(fr="…"))


def _net_reason(verdict: Verdict) -> Reason:
    """The second reading's possibility, under the rules' code for it, with the words that weighed most."""
    en, fr = TEXT_REASONS["net." + verdict.code]
    for kept in range(len(verdict.words), 0, -1):
        english = en.format(en=", ".join(f"“{word}”" for word in verdict.words[:kept]))
        french = fr.format(fr=", ".join(f"« {word} »" for word in verdict.words[:kept]))
        if max(len(english), len(french)) <= REASON_LENGTH:
            return Reason(code=verdict.code, en=english, fr=french)
    return Reason(code=verdict.code, en=en.format(en="…"), fr=fr.format(fr="…"))


def _minor_reasons(facts: TipFacts, findings: TextFindings) -> tuple[Reason, ...]:
    reasons: list[Reason] = []
    if facts.assessment.minor_involved is Answer.YES:
        reasons.append(MINOR_STATED)
    ages = [facts.assessment.victim_age, facts.victim_profile.age if facts.victim_profile else None]
    if any(age is not None and age < ADULT_AGE for age in ages):
        reasons.append(MINOR_BY_AGE)
    if findings.minor.stated:
        reasons.append(
            _text_reason(MINOR_AGE_IN_TEXT if findings.minor.by_age else MINOR_IN_TEXT, findings.minor)
        )
    return tuple(reasons)


def _danger_reasons(facts: TipFacts, findings: TextFindings) -> tuple[Reason, ...]:
    reasons: list[Reason] = []
    if facts.assessment.imminent_danger is Answer.YES:
        reasons.append(DANGER_STATED)
    if findings.danger.stated:
        reasons.append(_text_reason(DANGER_IN_TEXT, findings.danger))
    return tuple(reasons)


# An indicator's reason and finding depend on the indicator alone, and the contracts are immutable:
# each is made once and shared by every tip it fires on (a validated model costs microseconds).
@lru_cache(maxsize=1024)
def _indicator_output(code: str, strength: str, en: str, fr: str) -> tuple[Reason, IndicatorFinding]:
    reason = Reason(
        code=f"indicator.{code}",
        en=f"Indicator {code} ({strength}): {en}.",
        fr=f"Indicateur {code} ({STRENGTH_FR[strength]}) : {fr}.",
    )
    return reason, IndicatorFinding(code=code, strength=Strength(strength))


def _missing_details(
    facts: TipFacts, findings: TextFindings, indicators: list[Indicator]
) -> tuple[MissingDetail, ...]:
    location = facts.location
    knows_where = facts.outside_canada or location.province is not None or location.city is not None
    knows_who = (
        facts.reporter_role is ReporterRole.VICTIM
        or facts.victim_profile is not None
        or findings.people_mentioned
    )
    strengths = {indicator.strength for indicator in indicators}
    signs = [indicator for indicator in indicators if indicator.strength != "context"]
    knows_what = (
        bool(facts.assessment.trafficking_types)
        or bool(strengths & CONCRETE)
        or (bool(strengths & CONCRETE_UNLESS_VAGUE) and not findings.vague)
        or (len(signs) >= SIGNS_THAT_DESCRIBE and not findings.vague)
        or (bool(signs) and findings.sex_trade_mentioned and not findings.vague)
        or (findings.exploitation_described and not findings.vague)
        or findings.minor_in_past.stated
        or findings.danger_over.stated
    )
    if findings.danger_rumoured.stated:
        # A rumour its teller doubts is no account of what is happening to anyone.
        knows_what = bool(facts.assessment.trafficking_types)
    return tuple(
        detail
        for detail, known in (
            (MissingDetail.WHERE, knows_where),
            (MissingDetail.WHO, knows_who),
            (MissingDetail.WHAT, knows_what),
        )
        if not known
    )
