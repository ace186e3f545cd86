"""Phenomena of issue 12 found in session 9, each a rule in English and in French: danger told by an
act or a state the lexicon lacked words for (hands on a neck, a caller who can only answer yes or no,
a threat through the children's school, someone put in a trunk, a door that does not open from the
inside, being handed over to other men, a one-way ticket, a photo of a relative's door, images to be
sent to the family), a school workbook against a claimed adult age, over-calls of words in another sense (years of experience,
ads taken down, money picked up, work that "kills"), advice asked for a case that may never come, a
past age told as a range, a parent's own children said to be fine, and a survivor who asks for
services.

The sentences are written from the hotline's rules, never taken from a labelled tip.
"""

import pytest

from schemas.triage import Urgency
from services.triage.domain.classification import classify
from tests.unit.test_triage_phenomena import RECEIVED, a_danger, a_minor, outcome, rules, vague_tip


# 1. Strangling told by the act: hands around or on someone's neck or throat, whoever's it is.
@pytest.mark.parametrize(
    ("language", "narrative", "danger"),
    [
        pytest.param("en", "Her manager put both hands around the cashier's neck in the back room.", True,
                     id="en-hands-around-the-cashiers-neck"),
        pytest.param("en", "The driver had his hand on his wife's throat when the van stopped.", True,
                     id="en-hand-on-his-wifes-throat"),
        pytest.param("fr", "Le gérant a mis ses mains autour du cou de la serveuse dans la cuisine.", True,
                     id="fr-mains-autour-du-cou-de-la-serveuse"),
        pytest.param("en", "The manager put his hands on the cashier's shoulders to move her aside.", False,
                     id="en-hands-on-shoulders"),
    ],
)  # fmt: skip
def test_hands_on_a_neck_are_strangling_whoever_the_neck_belongs_to(
    language: str, narrative: str, danger: bool
) -> None:
    assert rules(language, narrative).imminent_danger is danger, outcome(rules(language, narrative))


# 2. A caller who can only answer yes or no, or speaks in code, is not free to talk.
@pytest.mark.parametrize(
    ("language", "narrative"),
    [
        pytest.param("en", "Call-taker note: the woman answered only yes or no and said she is in a truck with her boss.",
                     id="en-answered-only-yes-or-no"),
        pytest.param("en", "She kept talking in code about the weather while a man spoke near her.",
                     id="en-talking-in-code"),
        pytest.param("fr", "Note de l'intervenante : la femme répondait seulement par oui ou non, son patron conduisait.",
                     id="fr-repondait-seulement-par-oui-ou-non"),
        pytest.param("fr", "Elle parlait en code de la météo pendant qu'un homme parlait près d'elle.",
                     id="fr-parlait-en-code"),
    ],
)  # fmt: skip
def test_a_caller_who_can_only_answer_yes_or_no_is_not_free_to_talk(language: str, narrative: str) -> None:
    result = rules(language, narrative)
    assert result.urgency is Urgency.URGENT and a_danger(result), outcome(result)


# 3. A controller who knows the school of someone's children threatens the family.
@pytest.mark.parametrize(
    ("language", "narrative", "danger"),
    [
        pytest.param("en", "The foreman said his cousin back home knows my kids' school, so I should keep quiet.", True,
                     id="en-knows-my-kids-school"),
        pytest.param("en", "The recruiter knows where her daughters go to school in Manila and reminds her.", True,
                     id="en-knows-where-her-daughters-go-to-school"),
        pytest.param("fr", "Le contremaître dit que son frère connaît l'école de mes enfants au Guatemala.", True,
                     id="fr-connait-l-ecole-de-mes-enfants"),
        pytest.param("fr", "Le recruteur sait à quelle école vont ses filles et il le lui rappelle.", True,
                     id="fr-sait-a-quelle-ecole-vont-ses-filles"),
        pytest.param("en", "I pick up my kids at their school at three, then I work the night shift.", False,
                     id="en-a-parent-at-the-school"),
    ],
)  # fmt: skip
def test_knowing_the_childrens_school_threatens_the_family(
    language: str, narrative: str, danger: bool
) -> None:
    assert a_danger(rules(language, narrative)) is danger, outcome(rules(language, narrative))


# 4. Years of experience or of service are no age.
@pytest.mark.parametrize(
    ("language", "narrative", "minor"),
    [
        pytest.param("en", "The welder has 15 years of experience and the agency keeps his passport.", False,
                     id="en-15-years-of-experience"),
        pytest.param("fr", "La soudeuse a 15 ans d'expérience et l'agence garde son passeport.", False,
                     id="fr-15-ans-d-experience"),
        pytest.param("fr", "Le cuisinier, avec 12 ans de métier, dort dans la cuisine du restaurant.", False,
                     id="fr-12-ans-de-metier"),
        pytest.param("fr", "La soudeuse a 15 ans et l'agence garde son passeport.", True, id="fr-a-15-ans"),
        pytest.param("en", "The welder is 15 years old and has no experience; the agency keeps his passport.", True,
                     id="en-15-years-old-no-experience"),
    ],
)  # fmt: skip
def test_years_of_experience_are_no_age(language: str, narrative: str, minor: bool) -> None:
    assert a_minor(rules(language, narrative)) is minor, outcome(rules(language, narrative))


# 5. Words of danger in another sense: things taken down or removed, money picked up, work that
# "kills" the workers, a question of what a service does. The same verbs with a person stay danger.
@pytest.mark.parametrize(
    ("language", "narrative", "danger"),
    [
        pytest.param("fr", "Elle voudrait faire enlever les vieilles photos qui restent en ligne.", False,
                     id="fr-enlever-les-vieilles-photos"),
        pytest.param("en", "She wants to take down the old ads that are still online.", False,
                     id="en-take-down-the-old-ads"),
        pytest.param("fr", "Un homme passe chercher l'argent du loyer chaque vendredi.", False,
                     id="fr-passe-chercher-l-argent"),
        pytest.param("fr", "Un homme vient la chercher ce soir pour l'amener à Toronto.", True,
                     id="fr-vient-la-chercher-ce-soir"),
        pytest.param("en", "The job is killing us, twelve hours a day on the line.", False, id="en-the-job-is-killing-us"),
        pytest.param("fr", "Le contremaître nous tue à l'ouvrage, douze heures par jour.", False,
                     id="fr-nous-tue-a-l-ouvrage"),
        pytest.param("en", "He is killing her slowly, she has bruises every week.", True, id="en-he-is-killing-her"),
        pytest.param("fr", "Est-ce que vous aidez aussi les travailleurs agricoles?", False,
                     id="fr-est-ce-que-vous-aidez"),
        pytest.param("fr", "Aidez-moi, il est à la porte.", True, id="fr-aidez-moi"),
    ],
)  # fmt: skip
def test_danger_words_in_another_sense_are_no_danger(language: str, narrative: str, danger: bool) -> None:
    assert a_danger(rules(language, narrative)) is danger, outcome(rules(language, narrative))


# 6. Advice asked for a case that may never come ("what do I do if he ever...", "s'il revient, je
# fais quoi?") states no danger; a minor is hypothetical only in an open condition ("if I ever see a
# kid"), and anything said of now or tonight is not hypothetical.
@pytest.mark.parametrize(
    ("language", "narrative", "danger"),
    [
        pytest.param("en", "What should I do if my roommate's boss ever gets violent with her? So far he hasn't.", False,
                     id="en-what-should-i-do-if-ever-violent"),
        pytest.param("fr", "Si le patron la frappe un jour, qu'est-ce que je fais? Pour l'instant rien.", False,
                     id="fr-si-un-jour-qu-est-ce-que-je-fais"),
        pytest.param("fr", "S'il la menace, je fais quoi?", False, id="fr-s-il-la-menace-je-fais-quoi"),
        pytest.param("en", "What do I do if he hits her again tonight?", True, id="en-what-do-i-do-if-tonight"),
        pytest.param("en", "What do I do? He hits her every night.", True, id="en-advice-without-a-condition"),
    ],
)  # fmt: skip
def test_advice_asked_for_a_case_that_may_never_come_states_no_danger(
    language: str, narrative: str, danger: bool
) -> None:
    assert a_danger(rules(language, narrative)) is danger, outcome(rules(language, narrative))


@pytest.mark.parametrize(
    ("language", "narrative", "minor"),
    [
        pytest.param("en", "How would I know if I ever met a child being sold?", False, id="en-if-i-ever-met-a-child"),
        pytest.param("fr", "Qu'est-ce que je fais si jamais je vois une adolescente qui se fait vendre?", False,
                     id="fr-si-jamais-une-adolescente"),
        pytest.param("en", "What do I do if my niece, 15, is being sold by her boyfriend?", True,
                     id="en-what-do-i-do-if-my-niece-15"),
        pytest.param("fr", "Qu'est-ce que je fais si ma voisine de 15 ans se fait vendre?", True,
                     id="fr-si-ma-voisine-de-15-ans"),
    ],
)  # fmt: skip
def test_a_minor_is_hypothetical_only_in_an_open_condition(
    language: str, narrative: str, minor: bool
) -> None:
    assert a_minor(rules(language, narrative)) is minor, outcome(rules(language, narrative))


# 7. A past age told as a range ("à 15-16 ans elle a été", "when she was 14 to 16"), the person an
# adult now and out, is a minor in the past; a former youth in care is no youth now.
@pytest.mark.parametrize(
    ("language", "narrative"),
    [
        pytest.param("fr", "Mon amie a 27 ans. À 14-15 ans elle a été vendue par un voisin; elle va bien maintenant.",
                     id="fr-a-14-15-ans-elle-a-ete"),
        pytest.param("en", "My friend is 27. When she was 14 to 15 a neighbour sold her; she is safe now.",
                     id="en-when-she-was-14-to-15"),
        pytest.param("en", "A former youth in care, now 25 and safe, wants to give a statement about a man.",
                     id="en-former-youth-in-care"),
    ],
)  # fmt: skip
def test_a_past_age_told_as_a_range_is_a_minor_in_the_past(language: str, narrative: str) -> None:
    result = rules(language, narrative)
    assert result.urgency is not Urgency.URGENT, outcome(result)


# 8. A parent's own children listed with their ages after "single mom", beside the parent's adult age.
@pytest.mark.parametrize(
    ("language", "narrative", "minor"),
    [
        pytest.param("en", "I'm 36, a single mom, two kids (5 and 9), and the cleaning agency never paid me.", False,
                     id="en-single-mom-two-kids-5-and-9"),
        pytest.param("en", "A single mom, two kids (7 and 9), both sold by her boyfriend every weekend.", True,
                     id="en-single-mom-without-an-adult-age"),
    ],
)  # fmt: skip
def test_a_parents_own_children_beside_an_adult_age_are_family(
    language: str, narrative: str, minor: bool
) -> None:
    assert a_minor(rules(language, narrative)) is minor, outcome(rules(language, narrative))


# 9. A parent's own children listed with their ages and said in the same breath to be fine with the
# family ("we're all fine", "on va tous bien") are family, not victims; another child named apart
# still counts.
@pytest.mark.parametrize(
    ("language", "narrative", "minor"),
    [
        pytest.param("en", "I'm a single dad, two kids (8 and 12), we're all fine. The farm never paid my wages.",
                     False, id="en-two-kids-were-all-fine"),
        pytest.param("fr", "J'ai deux enfants de 9 et 13 ans, on va tous bien. La ferme m'a jamais payé.", False,
                     id="fr-deux-enfants-on-va-tous-bien"),
        pytest.param("en", "I'm a single dad, two kids (8 and 12). The farmer makes the 12 year old work nights.",
                     True, id="en-two-kids-not-said-fine"),
        pytest.param("fr", "J'ai deux enfants de 9 et 13 ans, on va tous bien. Le voisin vend une fille de 14 ans.",
                     True, id="fr-another-child-named-apart"),
    ],
)  # fmt: skip
def test_a_parents_own_children_said_to_be_fine_with_the_family_are_family(
    language: str, narrative: str, minor: bool
) -> None:
    assert a_minor(rules(language, narrative)) is minor, outcome(rules(language, narrative))


# 10. A survivor who names herself so says what happened: a request for services, not an empty tip.
@pytest.mark.parametrize(
    ("language", "narrative"),
    [
        pytest.param("en", "I'm a survivor and I'm looking for a support group near me.", id="en-im-a-survivor"),
        pytest.param("fr", "Je suis une survivante et je cherche un groupe de soutien près de chez moi.",
                     id="fr-je-suis-une-survivante"),
    ],
)  # fmt: skip
def test_a_survivor_who_asks_for_services_is_not_an_empty_tip(language: str, narrative: str) -> None:
    result = classify(vague_tip(language), narrative, received_on=RECEIVED, second_reading=False)
    assert result.urgency is not Urgency.INSUFFICIENT_INFORMATION, outcome(result)
    assert "missing.what" not in {reason.code for reason in result.reasons}, outcome(result)


# 11. Danger told by what is done, in words the lexicon lacked: someone put in a trunk, a jump from a
# moving car, a door that does not open from the inside, bread and water, being passed on to other
# men, a one-way ticket, wanting out before he comes back.
@pytest.mark.parametrize(
    ("language", "narrative"),
    [
        pytest.param("en", "Two men put a woman in the trunk of a grey sedan behind the bar a minute ago.",
                     id="en-put-in-the-trunk"),
        pytest.param("en", "A girl threw herself out of a moving van at the lights on our street and ran.",
                     id="en-out-of-a-moving-van"),
        pytest.param("fr", "Elle m'écrit d'un cell emprunté, il a gardé le sien.", id="fr-d-un-cell-emprunte"),
        pytest.param("fr", "Une femme a sauté d'une voiture en marche au coin de la rue et elle pleure.",
                     id="fr-sautee-d-une-voiture-en-marche"),
        pytest.param("en", "We sleep in the shed, the door does not open from the inside, he brings only bread and water.",
                     id="en-door-does-not-open-from-the-inside"),
        pytest.param("fr", "On dort dans le garage, la porte s'ouvre pas de l'intérieur, on a juste du pain et de l'eau.",
                     id="fr-porte-s-ouvre-pas-de-l-interieur"),
        pytest.param("fr", "Le propriétaire m'a pas laissée sortir depuis lundi.", id="fr-m-a-pas-laissee-sortir"),
        pytest.param("en", "The manager says Dana is getting handed over to his friends in Halifax this weekend.",
                     id="en-handed-over-to-this-weekend"),
        pytest.param("fr", "Le gars dit qu'elle va être refilée à ses chums de Québec en fin de semaine.",
                     id="fr-refilee-a-ses-chums"),
        pytest.param("en", "Her boss bought her a one way ticket to Fort McMurray for tomorrow morning.",
                     id="en-one-way-ticket-tomorrow"),
        pytest.param("fr", "Son patron lui a acheté un billet aller simple pour Halifax demain matin.",
                     id="fr-aller-simple-demain"),
        pytest.param("en", "She wants to get out now, before he comes back from the store.", id="en-before-he-comes-back"),
        pytest.param("fr", "Elle veut partir tout de suite, avant qu'il revienne du dépanneur.",
                     id="fr-avant-qu-il-revienne"),
    ],
)  # fmt: skip
def test_danger_told_by_what_is_done(language: str, narrative: str) -> None:
    result = rules(language, narrative)
    assert result.urgency is Urgency.URGENT and a_danger(result), outcome(result)


# 12. Threats without a danger word: a photo of a relative's door, images to be sent to the family,
# "you'll see what happens".
@pytest.mark.parametrize(
    ("language", "narrative"),
    [
        pytest.param("en", "Since I left he texted me a picture of my mom's house with nothing else.",
                     id="en-picture-of-my-moms-house"),
        pytest.param("fr", "Depuis que je suis partie il m'a texté une photo de la maison de chez mes parents.",
                     id="fr-photo-de-la-maison-de-chez-mes-parents"),
        pytest.param("en", "If I stop working he will send the pictures to my father, he says.",
                     id="en-send-the-pictures-to-my-father"),
        pytest.param("fr", "Si j'arrête, il va envoyer les photos à mon mari, qu'il dit.", id="fr-envoyer-les-photos-a-mon-mari"),
        pytest.param("en", "He told her that if she talks to the inspector she will find out what happens.",
                     id="en-find-out-what-happens"),
        pytest.param("fr", "Il lui a dit que si elle parle à l'inspecteur, elle va voir ce qui va arriver.",
                     id="fr-elle-va-voir-ce-qui-va-arriver"),
    ],
)  # fmt: skip
def test_a_threat_without_a_danger_word(language: str, narrative: str) -> None:
    result = rules(language, narrative)
    assert result.urgency is Urgency.URGENT and a_danger(result), outcome(result)


# 13. A school workbook beside a claimed adult age, and an age after a student noun, tell of a minor.
@pytest.mark.parametrize(
    ("language", "narrative"),
    [
        pytest.param("en", "The girl at the motel says she's 19, but there were workbooks from a middle school on the desk.",
                     id="en-claimed-19-workbooks"),
        pytest.param("fr", "La fille du motel dit qu'elle a 19 ans, mais il y avait des cahiers d'exercices sur la table.",
                     id="fr-dit-19-ans-cahiers-d-exercices"),
        pytest.param("en", "Our student (14) told a teacher a man picks her up after class for 'parties'.",
                     id="en-student-14"),
        pytest.param("fr", "Notre élève (14) a dit qu'un homme la ramasse après l'école pour des « partys ».",
                     id="fr-eleve-14"),
    ],
)  # fmt: skip
def test_a_school_workbook_or_a_students_age_tells_of_a_minor(language: str, narrative: str) -> None:
    result = rules(language, narrative)
    assert result.urgency is Urgency.URGENT and a_minor(result), outcome(result)


@pytest.mark.parametrize(
    ("language", "narrative"),
    [
        pytest.param("en", "I put the groceries in the trunk of my car and saw nothing unusual.", id="en-groceries-in-the-trunk"),
        pytest.param("fr", "J'ai mis les sacs d'épicerie dans le coffre de mon auto.", id="fr-sacs-dans-le-coffre"),
    ],
)  # fmt: skip
def test_things_put_in_a_trunk_are_no_danger(language: str, narrative: str) -> None:
    assert not rules(language, narrative).imminent_danger, outcome(rules(language, narrative))
