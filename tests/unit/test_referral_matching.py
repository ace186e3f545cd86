"""The matcher on the sample directory: hard constraints always hold, choices are explained."""

from functools import cache

from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.referral import AreaLevel, Population, ProposalStatus
from schemas.tip import GenderIdentity, Need, TipFacts, TipSubmission
from services.referral.adapters import datapackage
from services.referral.app import SAMPLE_DIRECTORY
from services.referral.domain import hsds
from services.referral.domain.directory import Directory, folded
from services.referral.domain.matching import Seeker, eligible, match, match_seeker
from tests.factories import tip_body


@cache
def sample() -> Directory:
    tables, _sample, problems = datapackage.read(SAMPLE_DIRECTORY)
    assert problems == []
    profiled = hsds.providers(hsds.merge(hsds.profile_taxonomy(), tables), hsds.Confirmations())
    return Directory.of(p.provider for p in profiled if p.provider is not None)


def facts(**overrides: object) -> TipFacts:
    return TipFacts.of(TipSubmission.model_validate(tip_body(**overrides)))


def proposed(result: object) -> list[str]:
    return [proposal.provider_id for proposal in result.proposals]  # type: ignore[attr-defined]


def codes(reasons: object) -> list[str]:
    return [reason.code for reason in reasons]  # type: ignore[attr-defined]


def test_a_french_speaking_indigenous_youth_in_northern_ontario_gets_the_local_indigenous_youth_lodge() -> (
    None
):
    youth = facts(
        language="fr", location={"country": "CA", "province": "ON", "city": "Timmins"},
        victim_profile={"age": 16, "gender_identity": "woman", "languages": ["fr"], "indigenous": True},
        needs=["emergency_shelter", "culturally_specific"],
    )  # fmt: skip
    result = match(youth, sample())
    assert proposed(result)[0] == "timmins-indigenous-youth-lodge"
    first = result.proposals[0]
    assert {"area.city", "language.match", "culture.fit", "specialised.trafficking"} <= set(
        codes(first.reasons)
    )
    assert first.area_level is AreaLevel.CITY


def test_a_spanish_speaking_migrant_farm_worker_in_rural_british_columbia_is_matched_province_wide_and_told_why() -> (
    None
):
    worker = facts(
        language="es", location={"country": "CA", "province": "BC", "city": "Oliver"},
        victim_profile={"age": 31, "gender_identity": "man", "languages": ["es"], "status_in_canada": "temporary_worker"},
        needs=["legal", "immigration", "employment"],
    )  # fmt: skip
    result = match(worker, sample())
    assert proposed(result)[0] == "bc-migrant-workers-centre"
    assert codes(result.reasons) == [
        "search.widened.city",
        "search.widened.city.interpretation",
        "search.found.province",
    ]
    assert "culture.fit" in codes(result.proposals[0].reasons)


def test_an_adult_man_in_halifax_gets_a_mens_shelter_and_never_a_womens_one() -> None:
    man = facts(
        language="en", location={"country": "CA", "province": "NS", "city": "Halifax"},
        victim_profile={"age": 34, "gender_identity": "man", "languages": ["en"]}, needs=["emergency_shelter"],
    )  # fmt: skip
    result = match(man, sample())
    assert proposed(result) == ["halifax-mens-shelter"]
    assert "halifax-womens-transition-house" not in proposed(match(man, sample()))


def test_a_provider_that_opted_out_of_the_public_directory_is_still_matched_for_referrals() -> None:
    woman = facts(
        language="en", location={"country": "CA", "province": "ON", "city": "Kingston"},
        victim_profile={"age": 27, "gender_identity": "woman", "languages": ["en"]}, needs=["transitional_housing"],
    )  # fmt: skip
    result = match(woman, sample())
    assert "deborahs-gate-shelter" in proposed(result)
    assert not next(p for p in sample().providers if p.provider_id == "deborahs-gate-shelter").public_listing


def test_an_out_of_country_tip_is_referred_to_the_global_modern_slavery_directory() -> None:
    abroad = facts(location={"country": "US", "city": "Detroit"})
    result = match(abroad, sample())
    assert result.status is ProposalStatus.OUTSIDE_CANADA
    assert result.outside_referral == "https://www.globalmodernslavery.org/"


def test_without_referral_consent_nobody_is_proposed() -> None:
    result = match(facts(consent={"service_referral": False}), sample())
    assert result.status is ProposalStatus.NOT_CONSENTED and not result.proposals


def test_when_nothing_fits_even_nationally_the_search_says_each_step_it_tried() -> None:
    impossible = Seeker(
        province="YT", city="Dawson City", languages=frozenset({"fi"}), age=70, gender=GenderIdentity.MAN,
        populations=frozenset(), indigenous_known=False, needs=frozenset({Need.MEDICAL}), urgent=False,
    )  # fmt: skip
    result = match_seeker(impossible, sample())
    assert result.status is ProposalStatus.NO_MATCH
    assert len([code for code in codes(result.reasons) if code.startswith("search.widened")]) == 6


SEEKERS = st.builds(
    Seeker,
    province=st.sampled_from(
        ["AB", "BC", "MB", "NB", "NL", "NS", "NT", "NU", "ON", "PE", "QC", "SK", "YT", None]
    ),
    city=st.sampled_from(
        ["Ottawa", "Timmins", "Halifax", "Vancouver", "Kelowna", "Montréal", "Oliver", None]
    ),
    languages=st.frozensets(
        st.sampled_from(["en", "fr", "es", "oj", "cr", "iu", "ar", "fi"]), min_size=1, max_size=3
    ),
    age=st.one_of(st.none(), st.integers(min_value=8, max_value=80)),
    gender=st.sampled_from(list(GenderIdentity)),
    populations=st.frozensets(st.sampled_from(list(Population)), max_size=3),
    indigenous_known=st.booleans(),
    needs=st.frozensets(st.sampled_from(list(Need)), max_size=3),
    urgent=st.booleans(),
)


@settings(max_examples=400, deadline=None)
@given(SEEKERS)
def test_no_proposal_ever_violates_a_hard_constraint(seeker: Seeker) -> None:
    result = match_seeker(seeker, sample())
    for proposal in result.proposals:
        provider = next(p for p in sample().providers if p.provider_id == proposal.provider_id)
        assert eligible(provider, seeker)
        if seeker.age is not None:
            assert provider.minimum_age is None or seeker.age >= provider.minimum_age
            assert provider.maximum_age is None or seeker.age <= provider.maximum_age
        assert not provider.genders or seeker.gender in provider.genders
        assert not provider.populations_only or provider.populations_only & seeker.populations
        assert not seeker.needs or seeker.needs & provider.service_types
        served = {(area.level, area.province, area.city) for area in provider.areas}
        if proposal.area_level is AreaLevel.CITY:
            assert (AreaLevel.CITY, seeker.province, folded(seeker.city or "")) in served
        elif proposal.area_level is AreaLevel.PROVINCE:
            assert (AreaLevel.PROVINCE, seeker.province, None) in served
        else:
            assert (AreaLevel.NATIONAL, None, None) in served
        speaks = provider.languages & seeker.languages
        assert speaks or (provider.interpretation and "language.interpretation" in codes(proposal.reasons))
