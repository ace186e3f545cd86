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

import pytest

from schemas.triage import Urgency
from tests.unit.triage_phenomena import a_danger, a_minor, outcome, rules, told_by_a_stranger


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


# 10. "Is this trafficking?" sets nothing: neither a feeling that empties a tip with a medium sign
#     nor a sign (review of rules-2026.12.9: read as a feeling, it sent such tips to insufficient).
@pytest.mark.parametrize(
    ("language", "narrative", "question"),
    [
        pytest.param("en", "Saw a job posting online for nannies, way too good to be true.", " Is this trafficking?",
                     id="en-is-this-trafficking"),
        pytest.param("fr", "J'ai vu une offre pour des gardiennes sur Marketplace, trop belle pour être vraie.", " C'tu de la traite?",
                     id="fr-c-tu-de-la-traite"),
        pytest.param("fr", "Mon amie Mia, 19 ans, au 45 rue des Érables, son nouveau chum a pris son téléphone et elle ne voit plus personne.",
                     " Est-ce que c'est de la traite ?", id="fr-est-ce-que-c-est-de-la-traite"),
        pytest.param("en", "My employer took my passport and I have not been paid in three months.", " Is this trafficking?",
                     id="en-passport-taken-is-this-trafficking"),
    ],
)  # fmt: skip
def test_asking_whether_it_is_trafficking_changes_nothing(
    language: str, narrative: str, question: str
) -> None:
    asked = told_by_a_stranger(language, narrative + question)
    told = told_by_a_stranger(language, narrative)
    assert asked.urgency is told.urgency is not Urgency.INSUFFICIENT_INFORMATION, outcome(asked)


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


# Review of rules-2026.12.9 (urgent tips it lowered).
# R1. A denial negates only when the one at risk or the teller denies, or a note has no subject;
#     anyone else's denial leaves the sign standing, and no denial negates a sign of a minor.
@pytest.mark.parametrize(
    ("language", "narrative", "danger"),
    [
        pytest.param("en", "Her pimp denied threatening to kill her tonight. She is at 45 Oak Ave and terrified.",
                     True, id="en-her-pimp-denied"),
        pytest.param("en", "The landlord denies locking the girls in the basement.", True, id="en-the-landlord-denies"),
        pytest.param("en", "They deny locking the girls in the basement.", True, id="en-they-deny"),
        pytest.param("fr", "Le propriétaire nie enfermer les filles dans le sous-sol.", True, id="fr-le-proprietaire-nie"),
        pytest.param("fr", "Ils nient enfermer les filles dans le sous-sol.", True, id="fr-ils-nient"),
        pytest.param("fr", "M. Tremblay nie enfermer les filles dans le sous-sol.", True, id="fr-m-tremblay-nie"),
        pytest.param("fr", "Le propriétaire de la ferme nie menacer de tuer ceux qui partent ce soir.",
                     True, id="fr-le-proprietaire-de-la-ferme-nie"),
        pytest.param("en", "The worker denies any threats or violence; the owner of the salon keeps her passport.",
                     False, id="en-the-worker-denies"),
        pytest.param("fr", "La travailleuse nie toute menace ou violence; le patron du salon garde son passeport.",
                     False, id="fr-la-travailleuse-nie"),
    ],
)  # fmt: skip
def test_review_a_denial_negates_only_from_the_one_at_risk_or_the_teller(
    language: str, narrative: str, danger: bool
) -> None:
    result = rules(language, narrative)
    assert a_danger(result) is danger, outcome(result)


@pytest.mark.parametrize(
    ("language", "narrative"),
    [
        pytest.param("en", "Her stepfather denies selling his 13-year-old stepdaughter to his friends.",
                     id="en-stepfather-denies-a-stated-age"),
        pytest.param("en", "She denies being a minor, but a man drives her to hotels every night.",
                     id="en-she-denies-being-a-minor"),
        pytest.param("fr", "Elle nie être mineure, mais un homme la conduit à l'hôtel chaque soir.",
                     id="fr-elle-nie-etre-mineure"),
    ],
)  # fmt: skip
def test_review_no_denial_negates_a_sign_of_a_minor(language: str, narrative: str) -> None:
    result = rules(language, narrative)
    assert a_minor(result), outcome(result)


# R2. Leaving care at 18 is a status and no minor word; young people who leave a group home (running
#     away, going out at night) are its residents, and minors.
@pytest.mark.parametrize(
    ("language", "narrative", "minor"),
    [
        pytest.param("en", "Teens leaving the group home on Elm St are picked up by a man who takes them to parties.",
                     True, id="en-teens-leaving-the-group-home"),
        pytest.param("en", "Teens who leave the group home at night are being sold at the motel.",
                     True, id="en-teens-who-leave-the-group-home"),
        pytest.param("fr", "Les jeunes qui quittent le foyer de groupe se font ramasser le soir par un homme qui les amène dans des partys.",
                     True, id="fr-les-jeunes-qui-quittent-le-foyer"),
        pytest.param("en", "Young people aging out of foster care at 18 are recruited by a man at the shelter who keeps their pay.",
                     False, id="en-aging-out-of-foster-care"),
        pytest.param("fr", "Des jeunes qui sortent de la DPJ à 18 ans sont recrutés par un homme au refuge qui garde leur paye.",
                     False, id="fr-sortent-de-la-dpj-a-18-ans"),
    ],
)  # fmt: skip
def test_review_only_leaving_care_at_18_is_no_minor_word(language: str, narrative: str, minor: bool) -> None:
    result = rules(language, narrative)
    assert a_minor(result) is minor, outcome(result)


# R5. A stated age stands whatever follows in the next sentence ("She is 16. 45 Oak Ave." was read as
#     two numbers in a row, a count); "sells her", "la vend" are signs of sexual exploitation.
@pytest.mark.parametrize(
    ("language", "narrative", "urgent"),
    [
        pytest.param("en", "He will tell the school she is working for him. She is 16. 45 Oak Ave.", True,
                     id="en-she-is-16-then-an-address"),
        pytest.param("fr", "Il va dire à l'école qu'elle travaille pour lui. Elle a 16. 45 rue des Érables.", True,
                     id="fr-elle-a-16-puis-une-adresse"),
        pytest.param("en", "He will tell the school she is working for him. She is 26. 45 Oak Ave.", False,
                     id="en-she-is-26-then-an-address"),
        pytest.param("fr", "Il va dire à l'école qu'elle travaille pour lui. Elle a 26. 45 rue des Érables.", False,
                     id="fr-elle-a-26-puis-une-adresse"),
    ],
)  # fmt: skip
def test_review_a_stated_age_stands_before_an_address(language: str, narrative: str, urgent: bool) -> None:
    result = rules(language, narrative)
    assert (result.urgency is Urgency.URGENT) is urgent, outcome(result)


@pytest.mark.parametrize(
    ("language", "narrative", "insufficient"),
    [
        pytest.param("en", "Her boyfriend sells her to men at the motel on Main St.", False, id="en-sells-her-to-men"),
        pytest.param("en", "Her boyfriend sells her.", False, id="en-her-boyfriend-sells-her"),
        pytest.param("fr", "Son chum la vend à des hommes au motel de la rue Principale.", False, id="fr-la-vend"),
        pytest.param("en", "She sells jewellery at the market on Main St.", True, id="en-she-sells-jewellery"),
        pytest.param("fr", "Elle vend des bijoux au marché de la rue Principale.", True, id="fr-elle-vend-des-bijoux"),
    ],
)  # fmt: skip
def test_review_selling_her_is_a_sign_of_sexual_exploitation(
    language: str, narrative: str, insufficient: bool
) -> None:
    result = told_by_a_stranger(language, narrative)
    assert (result.urgency is Urgency.INSUFFICIENT_INFORMATION) is insufficient, outcome(result)


# R4. A class year said as a grad year ("her grad year is 2027", "a 2027 grad") gives an age roughly;
#     Quebec's secondaire 5 ends the year students turn 17, so a finissante of a year may be 17 today.
@pytest.mark.parametrize(
    ("language", "narrative", "minor"),
    [
        pytest.param("en", "She says she is 19 but her grad year is 2027. A man drives her to hotels every night.",
                     True, id="en-her-grad-year-is"),
        pytest.param("en", "She says she is 19 but she is a 2027 grad. A man drives her to hotels every night.",
                     True, id="en-a-grad-of-the-year"),
        pytest.param("fr", "Elle dit avoir 19 ans mais elle est finissante du secondaire 2025. Un homme la conduit à l'hôtel chaque soir.",
                     True, id="fr-finissante-du-secondaire-turns-17"),
        pytest.param("en", "She says she is 25 and her grad year was 2019. A man drives her to hotels every night.",
                     False, id="en-a-grad-year-long-past"),
        pytest.param("fr", "Elle dit avoir 25 ans, finissante du secondaire 2018. Un homme la conduit à l'hôtel chaque soir.",
                     False, id="fr-finissante-d-il-y-a-longtemps"),
    ],
)  # fmt: skip
def test_review_a_grad_year_gives_an_age_roughly(language: str, narrative: str, minor: bool) -> None:
    result = rules(language, narrative)
    assert a_minor(result) is minor, outcome(result)


# R6. A number, a street's name and its kind is an address ("at 12 Main St"), never an age at the time;
#     an age said before a street ("she was 12 on Main St") stays one.
@pytest.mark.parametrize(
    ("language", "narrative", "minor"),
    [
        pytest.param("en", "My cousin works at the spa at 12 Main St, the owner keeps her passport.",
                     False, id="en-at-12-main-st"),
        pytest.param("en", "My cousin, class of 2020, works at the spa at 12 Main St, the owner keeps her passport.",
                     False, id="en-class-of-2020-at-12-main-st"),
        pytest.param("en", "He sells her at the motel on Main St. She is 12 and lives with him at 45 Oak Ave.",
                     True, id="en-she-is-12-and-an-address"),
        pytest.param("fr", "Il la vend au motel de la rue Principale. Elle a 12 ans et vit avec lui au 45 rue des Érables.",
                     True, id="fr-elle-a-12-ans-et-une-adresse"),
    ],
)  # fmt: skip
def test_review_a_number_that_opens_an_address_is_no_age(language: str, narrative: str, minor: bool) -> None:
    result = rules(language, narrative)
    assert a_minor(result) is minor, outcome(result)
