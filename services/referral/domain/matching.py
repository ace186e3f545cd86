"""Matching a tip to providers of the referral directory, with the reasons for each match."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from schemas.referral import ProposalStatus, ProviderProposal
from schemas.tip import Need, TipFacts
from schemas.triage import Reason

NATIONAL = "CA"
MAX_PROPOSALS = 5


@dataclass(frozen=True, slots=True)
class Provider:
    provider_id: str
    name: str
    areas: frozenset[str]
    services: frozenset[Need]
    languages: frozenset[str]


@dataclass(frozen=True, slots=True)
class Match:
    status: ProposalStatus
    proposals: tuple[ProviderProposal, ...]
    reasons: tuple[Reason, ...]


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
    en="No provider in the directory serves this area.",
    fr="Aucun fournisseur du répertoire ne dessert cette région.",
)
MATCHED = Reason(
    code="referral.matched",
    en="Providers serving the area, best fit first.",
    fr="Fournisseurs desservant la région, du plus au moins adapté.",
)


def match(facts: TipFacts, directory: Iterable[Provider]) -> Match:
    """Propose the providers that serve the tip's province, ranked by fit."""
    if not facts.consent.service_referral:
        return Match(ProposalStatus.NOT_CONSENTED, (), (NOT_CONSENTED,))
    if facts.location.country != NATIONAL:
        return Match(ProposalStatus.OUTSIDE_CANADA, (), (OUTSIDE_CANADA,))
    province = facts.location.province.value if facts.location.province else None
    languages = {facts.language, *(facts.victim_profile.languages if facts.victim_profile else ())}
    needs = set(facts.needs)
    scored = []
    for provider in directory:
        serves_province = province is not None and province in provider.areas
        if not serves_province and NATIONAL not in provider.areas:
            continue
        met_needs = needs & provider.services
        speaks = languages & provider.languages
        score = 2 * len(met_needs) + (1 if speaks else 0) + (1 if serves_province else 0)
        scored.append((score, provider, serves_province, met_needs, speaks))
    if not scored:
        return Match(ProposalStatus.NO_MATCH, (), (NO_MATCH,))
    scored.sort(key=lambda item: (-item[0], item[1].name))
    proposals = tuple(
        ProviderProposal(
            provider_id=provider.provider_id,
            provider_name=provider.name,
            services=sorted(provider.services),
            reasons=_reasons(province, serves_province, met_needs, speaks),
        )
        for _, provider, serves_province, met_needs, speaks in scored[:MAX_PROPOSALS]
    )
    return Match(ProposalStatus.PROPOSED, proposals, (MATCHED,))


def _reasons(
    province: str | None, serves_province: bool, met_needs: set[Need], speaks: set[str]
) -> list[Reason]:
    reasons = [
        Reason(
            code="area.province",
            en=f"Serves {province}.",
            fr=f"Dessert la province ou le territoire {province}.",
        )
        if serves_province
        else Reason(code="area.national", en="Serves all of Canada.", fr="Dessert tout le Canada.")
    ]
    if met_needs:
        listed = ", ".join(sorted(met_needs))
        reasons.append(Reason(code="needs.met", en=f"Offers: {listed}.", fr=f"Offre : {listed}."))
    if speaks:
        listed = ", ".join(sorted(speaks))
        reasons.append(
            Reason(code="language.match", en=f"Serves in: {listed}.", fr=f"Offre des services en : {listed}.")
        )
    return reasons
