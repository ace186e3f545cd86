"""Phenomena of issue 12 found in session 11 (development9), each a rule in English and in French:
a wish not to live said with its negation, a set hour for a move elsewhere, a graduating class and a
learner's permit against a claimed adult age, someone forced to see clients now, a threat to come
for what the exploiter calls his, the exploiter's car outside where she is; and over-calls: a
denial negates ("denies threats or violence", "nie toute violence"), "boîte" the noun is no limp,
young people leaving care are no minor word, a threat to tell a college is a status threat; and
tips with nothing to act on: "is this trafficking?" asked of a medium sign, and money named without
anyone keeping it.

The sentences are written from the hotline's rules, never taken from a labelled tip.
"""

from datetime import date

import pytest

from schemas.triage import Urgency
from services.triage.domain.classification import Classification, classify
from tests.unit.test_triage_phenomena import LOCATIONS, a_danger, a_minor, facts, outcome, rules


def told_by_a_stranger(language: str, narrative: str) -> Classification:
    """A web tip that says where and no more: what is happening must come from the narrative."""
    return classify(
        facts(
            language=language,
            location=LOCATIONS[language],
            assessment={"minor_involved": "unknown", "imminent_danger": "unknown", "trafficking_types": []},
        ),
        narrative,
        received_on=date(2026, 11, 30),
        second_reading=False,
    )


# 1. A wish not to live, said with its own negation ("doesn't want to be alive", "veut pu vivre",
#    "no reason to keep going"), is a risk of suicide; "no reason to keep going to that job" is not.
@pytest.mark.parametrize(
    ("language", "narrative", "danger"),
    [
        pytest.param("en", "My coworker at the nail salon says she doesn't want to be alive anymore; the owner keeps her passport.",
                     True, id="en-doesnt-want-to-be-alive"),
        pytest.param("en", "The cook told me there is no reason to keep going. The owner holds his passport and pay.",
                     True, id="en-no-reason-to-keep-going"),
        pytest.param("fr", "Ma collègue au salon d'ongles m'a écrit qu'elle veut pu vivre; la propriétaire garde son passeport.",
                     True, id="fr-veut-pu-vivre"),
        pytest.param("fr", "Le cuisinier m'a dit qu'il a plus de raison de continuer. Le patron garde son passeport et sa paye.",
                     True, id="fr-plus-de-raison-de-continuer"),
        pytest.param("en", "He says there is no reason to keep going to that job: the owner holds his passport and pay.",
                     False, id="en-no-reason-to-keep-going-to-a-job"),
        pytest.param("fr", "Il dit qu'il a plus de raison de continuer à travailler là : le patron garde son passeport et sa paye.",
                     False, id="fr-plus-de-raison-de-continuer-a-travailler"),
    ],
)  # fmt: skip
def test_a_wish_not_to_live_said_with_its_negation_is_a_risk_of_suicide(
    language: str, narrative: str, danger: bool
) -> None:
    result = rules(language, narrative)
    assert a_danger(result) is danger, outcome(result)


# 2. A denial negates what it denies ("denies threats or violence", "nie toute violence"), but not
#    the suspect's own denial: his word is no statement that nothing happened.
@pytest.mark.parametrize(
    ("language", "narrative", "danger"),
    [
        pytest.param("en", "Caller, a woman of 27, says her manager books her clients and keeps half. She denies violence or threats.",
                     False, id="en-denies-violence"),
        pytest.param("fr", "Appelante, 27 ans, dit que son gérant lui trouve des clients et garde la moitié. Elle nie toute violence ou menace.",
                     False, id="fr-nie-toute-violence"),
        pytest.param("en", "Caller, a woman of 27, says her manager books her clients and keeps half. He threatens her with violence.",
                     True, id="en-violence-not-denied"),
        pytest.param("fr", "Appelante, 27 ans, dit que son gérant lui trouve des clients et garde la moitié. Il la menace de violence.",
                     True, id="fr-violence-pas-niee"),
        pytest.param("en", "The owner denied hitting the dishwasher, who still sleeps in the restaurant's basement.",
                     True, id="en-the-suspect-denies"),
        pytest.param("fr", "Le patron nie l'avoir frappée, et elle dort encore dans le sous-sol du resto.",
                     True, id="fr-le-suspect-nie"),
    ],
)  # fmt: skip
def test_a_denial_negates_what_it_denies_unless_the_suspect_denies(
    language: str, narrative: str, danger: bool
) -> None:
    result = rules(language, narrative)
    assert a_danger(result) is danger, outcome(result)


# 3. "Boîte" after a determiner or before "vocale" is a box, not the verb to limp.
@pytest.mark.parametrize(
    ("language", "narrative", "danger"),
    [
        pytest.param("fr", "Message laissé sur la boîte vocale : des cueilleurs dorment dans la grange, le patron a leurs passeports.",
                     False, id="fr-boite-vocale"),
        pytest.param("fr", "Elle fait du ménage pour une boîte de Laval qui garde son passeport.",
                     False, id="fr-une-boite"),
        pytest.param("fr", "Elle boite depuis que le patron l'a poussée, et il garde son passeport.",
                     True, id="fr-elle-boite"),
    ],
)  # fmt: skip
def test_boite_the_noun_is_no_limp(language: str, narrative: str, danger: bool) -> None:
    result = rules(language, narrative)
    assert a_danger(result) is danger, outcome(result)


# 4. A set hour makes a move soon when the move takes people elsewhere; a daily pick-up at a set hour
#    is how a working day starts.
@pytest.mark.parametrize(
    ("language", "narrative", "urgent"),
    [
        pytest.param("en", "The boss keeps the pickers' passports. A bus comes at 4 am to take them to another farm in Quebec.",
                     True, id="en-at-4-am-to-another-farm"),
        pytest.param("fr", "Le boss garde les passeports des cueilleurs. Un autobus vient à 4 h pour les emmener dans une autre ferme en Ontario.",
                     True, id="fr-a-4-h-dans-une-autre-ferme"),
        pytest.param("en", "The boss keeps the pickers' passports. A bus picks them up at 4 am and brings them back at 8 pm.",
                     False, id="en-daily-pick-up-at-4-am"),
        pytest.param("fr", "Le boss garde les passeports des cueilleurs. Un autobus les ramasse à 4 h et les ramène à 20 h.",
                     False, id="fr-ramassage-a-4-h"),
    ],
)  # fmt: skip
def test_a_set_hour_makes_a_move_elsewhere_soon_but_not_a_daily_pick_up(
    language: str, narrative: str, urgent: bool
) -> None:
    result = rules(language, narrative)
    assert (result.urgency is Urgency.URGENT) is urgent, outcome(result)


# 5. A graduating class still to come, or a learner's permit, beside a claimed 19 is a possible minor;
#    a class long graduated beside an adult age is not.
@pytest.mark.parametrize(
    ("language", "narrative", "minor"),
    [
        pytest.param("en", "She tells clients she's 19 but her profile says class of 2028. An older man drives her to the motels.",
                     True, id="en-class-of-2028"),
        pytest.param("fr", "Elle dit aux clients qu'elle a 19 ans mais son profil dit finissante 2028. Un homme plus vieux la conduit aux motels.",
                     True, id="fr-finissante-2028"),
        pytest.param("en", "She says she is 19, yet she just got her learner's permit. A man drives her to the motels and takes the cash.",
                     True, id="en-learners-permit"),
        pytest.param("fr", "Elle dit avoir 19 ans, mais elle vient d'avoir son permis d'apprentie conductrice. Un homme la conduit aux motels.",
                     True, id="fr-permis-d-apprentie"),
        pytest.param("en", "She is 26, class of 2018, and a man drives her to the motels and takes the cash.",
                     False, id="en-class-of-2018"),
        pytest.param("fr", "Elle a 26 ans, finissante 2018, et un homme la conduit aux motels et garde l'argent.",
                     False, id="fr-finissante-2018"),
    ],
)  # fmt: skip
def test_a_class_to_graduate_or_a_learners_permit_is_a_possible_minor(
    language: str, narrative: str, minor: bool
) -> None:
    result = rules(language, narrative)
    assert a_minor(result) is minor, outcome(result)
    if minor:
        # Arithmetic on a class year is approximate: a possible minor, never one stated.
        assert result.urgency is Urgency.URGENT and not result.minor_involved, outcome(result)


# 6. Someone forced to see clients now ("he's making me see men", "y me force à voir des clients") is
#    with the exploiter now; the same told in the past of an adult out of it is not.
@pytest.mark.parametrize(
    ("language", "narrative", "danger"),
    [
        pytest.param("en", "I'm in a room above a bar in Sudbury, he's making me see clients and he has my bank card.",
                     True, id="en-making-me-see-clients"),
        pytest.param("fr", "Chu dans une chambre au-dessus d'un bar à Sherbrooke, y me force à voir des clients pis y a ma carte.",
                     True, id="fr-me-force-a-voir-des-clients"),
        pytest.param("en", "Years ago he made me see clients. I am 34 now and far away from him.",
                     False, id="en-made-me-see-clients-years-ago"),
        pytest.param("fr", "Y a dix ans, il m'a forcée à voir des clients. J'ai 34 ans et je suis loin de lui.",
                     False, id="fr-m-a-forcee-il-y-a-dix-ans"),
    ],
)  # fmt: skip
def test_being_forced_to_see_clients_now_is_danger(language: str, narrative: str, danger: bool) -> None:
    result = rules(language, narrative)
    assert a_danger(result) is danger, outcome(result)


# 7. A threat to come for what the exploiter calls his, or the exploiter's car outside where she is,
#    is a possible danger; a relative coming for her is not.
@pytest.mark.parametrize(
    ("language", "narrative", "danger"),
    [
        pytest.param("en", "She left the man who sold her at truck stops. He posted that he's coming to get what's his.",
                     True, id="en-coming-to-get-whats-his"),
        pytest.param("fr", "Elle a laissé l'homme qui la vendait dans les relais. Il a écrit qu'il va venir chercher ce qui lui appartient.",
                     True, id="fr-venir-chercher-ce-qui-lui-appartient"),
        pytest.param("en", "She left the man who sold her at truck stops. Tonight his van is parked outside our building.",
                     True, id="en-his-van-outside-our-building"),
        pytest.param("fr", "Elle a laissé l'homme qui la vendait dans les relais. Ce soir son camion est stationné devant l'immeuble.",
                     True, id="fr-son-camion-devant-l-immeuble"),
        pytest.param("en", "My aunt will come for me at the bus station; the agency kept my passport.",
                     False, id="en-aunt-will-come-for-me"),
    ],
)  # fmt: skip
def test_a_threat_to_come_for_her_or_his_car_outside_is_a_possible_danger(
    language: str, narrative: str, danger: bool
) -> None:
    result = rules(language, narrative)
    assert a_danger(result) is danger, outcome(result)


# 8. Young people leaving care are adults by then: the care they leave is no word for a minor; a
#    girl who ran from her group home still is a possible minor.
@pytest.mark.parametrize(
    ("language", "narrative", "minor"),
    [
        pytest.param("fr", "Je travaille avec les jeunes qui quittent la DPJ. Une femme de 19 ans loge chez un homme qui la fait coucher avec ses amis.",
                     False, id="fr-jeunes-qui-quittent-la-dpj"),
        pytest.param("en", "I work with youth aging out of foster care. A woman of 19 stays with a man who has her sleep with his friends.",
                     False, id="en-youth-aging-out-of-care"),
        pytest.param("fr", "Une fille qui a fugué de son foyer de groupe loge chez un homme qui la fait coucher avec ses amis.",
                     True, id="fr-fugue-du-foyer-de-groupe"),
        pytest.param("en", "A girl who ran from her group home stays with a man who has her sleep with his friends.",
                     True, id="en-ran-from-group-home"),
    ],
)  # fmt: skip
def test_young_people_leaving_care_are_no_minor_word(language: str, narrative: str, minor: bool) -> None:
    result = rules(language, narrative)
    assert a_minor(result) is minor, outcome(result)


# 9. A threat to tell a college or a school is a threat to an adult's status, not of harm.
@pytest.mark.parametrize(
    ("language", "narrative", "danger"),
    [
        pytest.param("fr", "Le proprio du dépanneur garde le passeport de deux étudiantes et menace d'écrire au cégep qu'elles travaillent trop.",
                     False, id="fr-menace-d-ecrire-au-cegep"),
        pytest.param("en", "The store owner keeps two students' passports and threatens to tell the college they work too many hours.",
                     False, id="en-threatens-to-tell-the-college"),
        pytest.param("fr", "Le proprio du dépanneur garde le passeport de deux étudiantes et menace de les battre.",
                     True, id="fr-menace-de-les-battre"),
    ],
)  # fmt: skip
def test_a_threat_to_tell_a_college_is_a_status_threat(language: str, narrative: str, danger: bool) -> None:
    result = rules(language, narrative)
    assert a_danger(result) is danger, outcome(result)


# 10. "Is this trafficking?" asked of a medium sign alone is a question, not an account; a strong sign
#     asked about is still one.
@pytest.mark.parametrize(
    ("language", "narrative", "insufficient"),
    [
        pytest.param("en", "Saw a job posting online for nannies, way too good to be true. Is this trafficking?",
                     True, id="en-is-this-trafficking"),
        pytest.param("fr", "J'ai vu une offre pour des gardiennes sur Marketplace, trop belle pour être vraie. C'tu de la traite?",
                     True, id="fr-c-tu-de-la-traite"),
        pytest.param("en", "My employer took my passport and I have not been paid in three months. Is this trafficking?",
                     False, id="en-passport-taken-is-this-trafficking"),
        pytest.param("fr", "Mon employeur a pris mon passeport pis j'ai pas été payée depuis trois mois. C'tu de la traite?",
                     False, id="fr-passeport-pris-c-tu-de-la-traite"),
    ],
)  # fmt: skip
def test_asking_whether_a_medium_sign_is_trafficking_is_no_account(
    language: str, narrative: str, insufficient: bool
) -> None:
    result = told_by_a_stranger(language, narrative)
    assert (result.urgency is Urgency.INSUFFICIENT_INFORMATION) is insufficient, outcome(result)


# 11. Money named is no sign of money withheld ("y'a ben de l'argent"); money kept or handed over to
#     someone else is ("garde toute l'argent", "redonne l'argent au gars").
@pytest.mark.parametrize(
    ("language", "narrative", "insufficient"),
    [
        pytest.param("fr", "Mon voisin a ben de l'argent pour un gars qui travaille pas, ça me semble croche.",
                     True, id="fr-ben-de-l-argent"),
        pytest.param("fr", "Ma voisine voit des clients dans son appart pis elle redonne l'argent à un gars qui attend en bas.",
                     False, id="fr-redonne-l-argent-au-gars"),
        pytest.param("fr", "Ma voisine voit des clients dans son appart pis son chum garde toute l'argent.",
                     False, id="fr-garde-toute-l-argent"),
    ],
)  # fmt: skip
def test_money_named_is_no_sign_but_money_kept_or_handed_over_is(
    language: str, narrative: str, insufficient: bool
) -> None:
    result = told_by_a_stranger(language, narrative)
    assert (result.urgency is Urgency.INSUFFICIENT_INFORMATION) is insufficient, outcome(result)


# 12. Danger the rules alone missed on development9 (the net caught it): a padlock put on a door by
#     its verb, a plea written in the familiar imperative ("aide-moi"), a threat that it is over for
#     her or that he is coming to deal with him, and an exploiter who found a woman who had left him;
#     a job found for her, or a help offered, is none of these.
@pytest.mark.parametrize(
    ("language", "narrative", "danger"),
    [
        pytest.param("en", "The owner padlocks the bunkhouse door at night; six pickers sleep inside.",
                     True, id="en-padlocks"),
        pytest.param("fr", "Elle m'a passé un billet « aide-moi » au comptoir, son patron la laisse jamais seule.",
                     True, id="fr-aide-moi"),
        pytest.param("fr", "Son gérant lui a écrit que c'est fini pour elle si elle parle aux policiers.",
                     True, id="fr-c-est-fini-pour-elle"),
        pytest.param("en", "Her manager texted her that it's over for her if she talks to the police.",
                     True, id="en-its-over-for-her"),
        pytest.param("en", "The recruiter says he is coming tomorrow to deal with him because he asked for his pay.",
                     True, id="en-coming-to-deal-with-him"),
        pytest.param("en", "She left her pimp in the spring, but tonight he found her new address.",
                     True, id="en-found-her-new-address"),
        pytest.param("fr", "Elle a quitté son pimp au printemps, mais ce soir il l'a retrouvée avec une appli.",
                     True, id="fr-il-l-a-retrouvee"),
        pytest.param("en", "He found her a job at the farm and keeps her passport.",
                     False, id="en-found-her-a-job"),
        pytest.param("fr", "Je l'aide moi-même à remplir ses papiers; son patron garde son passeport.",
                     False, id="fr-je-l-aide-moi-meme"),
    ],
)  # fmt: skip
def test_danger_the_rules_alone_missed_on_development9(language: str, narrative: str, danger: bool) -> None:
    result = rules(language, narrative)
    assert a_danger(result) is danger, outcome(result)
