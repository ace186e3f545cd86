"""Matching a victim or survivor to providers: hard constraints first, then a ranking with reasons.

A provider that fails a hard constraint (area served, age, gender, a population-only service, the
needs, active) is never proposed. Among the rest the ranking weighs language, specialisation in
trafficking, culturally specific fit, 24/7 availability when urgent, capacity and distance. When
nothing fits, the search widens step by step (the city, then the province, then national services;
at each level a shared language first, then interpretation) and the reasons say so.
"""

from __future__ import annotations

from dataclasses import dataclass

from schemas.referral import AreaLevel, Population, ProposalStatus, ProviderProposal
from schemas.tip import GenderIdentity, Need, StatusInCanada, TipFacts
from schemas.triage import Reason, Urgency
from services.referral.domain.directory import Directory, Provider, distance_km
from services.referral.domain.geography import locate

MAX_PROPOSALS = 5
ADULT_AGE = 18
YOUTH_UNTIL = 25
OUTSIDE_CANADA_DIRECTORY = "https://www.globalmodernslavery.org/"
SEARCH_STEPS: tuple[tuple[AreaLevel, bool], ...] = (
    (AreaLevel.CITY, False), (AreaLevel.CITY, True),
    (AreaLevel.PROVINCE, False), (AreaLevel.PROVINCE, True),
    (AreaLevel.NATIONAL, False), (AreaLevel.NATIONAL, True),
)  # fmt: skip
AREA_WORDS = {
    AreaLevel.CITY: ("the caller's city", "la ville de la personne"),
    AreaLevel.PROVINCE: ("the province or territory", "la province ou le territoire"),
    AreaLevel.NATIONAL: ("all of Canada", "tout le Canada"),
}

NOT_CONSENTED = Reason(
    code="referral.not_consented",
    en="The caller did not consent to a referral to service providers.",
    fr="La personne n'a pas consenti à être orientée vers des fournisseurs de services.",
)
OUTSIDE_CANADA = Reason(
    code="referral.outside_canada",
    en="The situation is outside Canada: refer through the Global Modern Slavery Directory.",
    fr="La situation se trouve hors du Canada : orienter au moyen du Global Modern Slavery Directory.",
)
NO_MATCH = Reason(
    code="referral.no_match",
    en="No active provider in the directory meets the caller's area, eligibility and needs, even nationally.",
    fr="Aucun fournisseur actif ne répond à la région, à l'admissibilité et aux besoins, même à l'échelle nationale.",
)


@dataclass(frozen=True, slots=True)
class Seeker:
    """Who needs help, as far as the tip tells: only what matching needs."""

    province: str | None
    city: str | None
    languages: frozenset[str]
    age: int | None
    gender: GenderIdentity
    populations: frozenset[Population]
    indigenous_known: bool
    needs: frozenset[Need]
    urgent: bool

    @classmethod
    def of(cls, facts: TipFacts, urgency: Urgency = Urgency.NON_URGENT) -> Seeker:
        profile = facts.victim_profile
        age = (profile.age if profile else None) or facts.assessment.victim_age
        gender = profile.gender_identity if profile else GenderIdentity.UNKNOWN
        populations: set[Population] = set()
        if profile and profile.indigenous:
            populations.add(Population.INDIGENOUS)
        if profile and profile.status_in_canada is StatusInCanada.TEMPORARY_WORKER:
            populations |= {Population.MIGRANT_WORKERS, Population.NEWCOMERS}
        if profile and profile.status_in_canada in (
            StatusInCanada.REFUGEE_CLAIMANT,
            StatusInCanada.NO_STATUS,
        ):
            populations.add(Population.NEWCOMERS)
        if gender is GenderIdentity.MAN:
            populations.add(Population.MEN)
        if gender is GenderIdentity.WOMAN:
            populations.add(Population.WOMEN)
        if gender in (GenderIdentity.NON_BINARY, GenderIdentity.TWO_SPIRIT):
            populations.add(Population.TWO_SPIRIT_LGBTQI)
        if gender is GenderIdentity.TWO_SPIRIT:
            populations.add(Population.INDIGENOUS)
        if age is not None and age < YOUTH_UNTIL:
            populations.add(Population.YOUTH)
        languages = (
            frozenset(profile.languages) if profile and profile.languages else frozenset({facts.language})
        )
        return cls(
            province=facts.location.province.value if facts.location.province else None,
            city=facts.location.city, languages=languages, age=age, gender=gender,
            populations=frozenset(populations), indigenous_known=bool(profile and profile.indigenous is not None),
            needs=frozenset(facts.needs), urgent=urgency is Urgency.URGENT,
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class Match:
    status: ProposalStatus
    proposals: tuple[ProviderProposal, ...]
    reasons: tuple[Reason, ...]
    outside_referral: str | None = None


def match(facts: TipFacts, directory: Directory, urgency: Urgency = Urgency.NON_URGENT) -> Match:
    """Propose providers for a tip, best first, each with its reasons; say how far the search went."""
    if not facts.consent.service_referral:
        return Match(ProposalStatus.NOT_CONSENTED, (), (NOT_CONSENTED,))
    if facts.outside_canada:
        return Match(ProposalStatus.OUTSIDE_CANADA, (), (OUTSIDE_CANADA,), OUTSIDE_CANADA_DIRECTORY)
    return match_seeker(Seeker.of(facts, urgency), directory)


def match_seeker(seeker: Seeker, directory: Directory) -> Match:
    search: list[Reason] = []
    for level, interpretation in SEARCH_STEPS:
        if level is AreaLevel.CITY and not seeker.city:
            continue
        candidates = [
            provider
            for provider in directory.serving(level, seeker.province, seeker.city)
            if eligible(provider, seeker) and _speaks(provider, seeker, interpretation)
        ]
        if candidates:
            ranked = sorted(
                ((_score(provider, seeker, level, interpretation), provider) for provider in candidates),
                key=lambda item: (-item[0][0], item[0][1], item[1].name),
            )
            proposals = tuple(
                ProviderProposal(
                    provider_id=provider.provider_id,
                    provider_name=provider.name,
                    services=sorted(provider.service_types),
                    reasons=list(reasons),
                    score=round(score, 2),
                    area_level=level,
                )
                for (score, _distance, reasons), provider in ranked[:MAX_PROPOSALS]
            )
            return Match(ProposalStatus.PROPOSED, proposals, (*search, _found(level, interpretation)))
        search.append(_widened(level, interpretation))
    return Match(ProposalStatus.NO_MATCH, (), (*search, NO_MATCH))


def eligible(provider: Provider, seeker: Seeker) -> bool:
    """The hard constraints other than area and language: never relaxed."""
    if not provider.active:
        return False
    if seeker.age is not None:
        if provider.minimum_age is not None and seeker.age < provider.minimum_age:
            return False
        if provider.maximum_age is not None and seeker.age > provider.maximum_age:
            return False
    elif provider.minimum_age is not None and provider.minimum_age >= ADULT_AGE:
        return False  # an adults-only service for someone who may be a minor: not without knowing
    if provider.genders and seeker.gender not in provider.genders:
        return False  # an unknown gender is in no list: a gender-specific service needs to know
    if provider.populations_only and not (provider.populations_only & seeker.populations):
        return False
    return not seeker.needs or bool(seeker.needs & provider.service_types)


def _speaks(provider: Provider, seeker: Seeker, interpretation: bool) -> bool:
    return bool(provider.languages & seeker.languages) or (interpretation and provider.interpretation)


def _score(
    provider: Provider, seeker: Seeker, level: AreaLevel, interpretation: bool
) -> tuple[float, float, tuple[Reason, ...]]:
    """The provider's score, its distance (for ties) and the reasons for both."""
    reasons = [_area_reason(provider, level)]
    score = 0.0
    met = sorted(seeker.needs & provider.service_types)
    if met:
        score += 2 * len(met)
        reasons.append(
            Reason(code="needs.met", en=f"Offers: {', '.join(met)}.", fr=f"Offre : {', '.join(met)}.")
        )
    shared = sorted(provider.languages & seeker.languages)
    if shared:
        score += 3
        reasons.append(
            Reason(
                code="language.match",
                en=f"Serves in: {', '.join(shared)}.",
                fr=f"Services en : {', '.join(shared)}.",
            )
        )
    elif interpretation:
        score += 1
        reasons.append(
            Reason(
                code="language.interpretation",
                en="Works with an interpreter.",
                fr="Travaille avec un interprète.",
            )
        )
    if provider.trafficking_specialised:
        score += 2
        reasons.append(
            Reason(
                code="specialised.trafficking",
                en="Specialised in human trafficking.",
                fr="Spécialisé en traite de personnes.",
            )
        )
    fit = sorted((provider.population_focus | provider.populations_only) & seeker.populations)
    if fit:
        score += 2
        reasons.append(
            Reason(code="culture.fit", en=f"Focused on: {', '.join(fit)}.", fr=f"Axé sur : {', '.join(fit)}.")
        )
    if seeker.urgent and provider.open_24_7:
        score += 2
        reasons.append(
            Reason(
                code="available.24_7",
                en="Open 24/7, for an urgent case.",
                fr="Ouvert 24 h sur 24, pour un cas urgent.",
            )
        )
    if provider.capacity_available is not None:
        if provider.capacity_available > 0:
            score += 1
            reasons.append(
                Reason(code="capacity.available", en="Has room now.", fr="A de la place maintenant.")
            )
        else:
            score -= 2
            reasons.append(Reason(code="capacity.full", en="Reported full.", fr="Déclaré complet."))
    distance = _distance(provider, seeker)
    if distance is not None:
        score += max(0.0, 2.0 * (1 - distance / 500))
        reasons.append(
            Reason(
                code="distance.km", en=f"About {distance:.0f} km away.", fr=f"À environ {distance:.0f} km."
            )
        )
    return score, distance if distance is not None else float("inf"), tuple(reasons)


def _distance(provider: Provider, seeker: Seeker) -> float | None:
    here = locate(seeker.province, seeker.city)
    if here is None or provider.latitude is None or provider.longitude is None:
        return None
    return distance_km(here, (provider.latitude, provider.longitude))


def _area_reason(provider: Provider, level: AreaLevel) -> Reason:
    if level is AreaLevel.CITY:
        return Reason(code="area.city", en=f"Serves {provider.city}.", fr=f"Dessert {provider.city}.")
    if level is AreaLevel.PROVINCE:
        return Reason(
            code="area.province", en=f"Serves all of {provider.province}.",
            fr=f"Dessert l'ensemble de {provider.province}.",
        )  # fmt: skip
    return Reason(code="area.national", en="Serves all of Canada.", fr="Dessert tout le Canada.")


def _widened(level: AreaLevel, interpretation: bool) -> Reason:
    return _search_step("widened", level, interpretation)


def _found(level: AreaLevel, interpretation: bool) -> Reason:
    return _search_step("found", level, interpretation)


def _search_step(outcome: str, level: AreaLevel, interpretation: bool) -> Reason:
    """Say what one step of the search looked for, and whether it found providers or widened."""
    where_en, where_fr = AREA_WORDS[level]
    how_en, how_fr = (
        ("with an interpreter", "avec interprète")
        if interpretation
        else ("in the caller's language", "dans la langue de la personne")
    )
    if outcome == "found":
        en = f"Providers found for {where_en}, {how_en}, best fit first."
        fr = f"Fournisseurs trouvés pour {where_fr}, {how_fr}, du plus au moins adapté."
    else:
        en = f"No eligible provider for {where_en} {how_en}; the search was widened."
        fr = f"Aucun fournisseur admissible pour {where_fr} {how_fr}; la recherche a été élargie."
    return Reason(
        code=f"search.{outcome}.{level.value}{'.interpretation' if interpretation else ''}", en=en, fr=fr
    )
