"""Phenomena of issue 12 found in session 8, each a rule in English and in French: over-calls of
danger words whose scope or sense is not danger now, ages told as an upper bound or as a birthday to
come, and a statistical guess of danger against a narrative that denies danger in so many words.

The sentences are written from the hotline's rules, never taken from a labelled tip.
"""

import pytest

from schemas.triage import Urgency
from services.triage.domain import classification, safety_net
from tests.unit.test_triage_phenomena import a_danger, a_minor, outcome, read


# 1. A negative determiner denies the whole noun phrase it opens, nouns joined by "of", "like", "or".
@pytest.mark.parametrize(
    ("language", "narrative", "danger"),
    [
        pytest.param("en", "The neighbours report no shouting or noise like violence from the unit.", False,
                     id="en-no-noise-like-violence"),
        pytest.param("en", "There was no sign of any violence at the farm where they pick apples.", False,
                     id="en-no-sign-of-any-violence"),
        pytest.param("fr", "Aucune plainte de bruit de violence dans l'immeuble où elles logent.", False,
                     id="fr-aucune-plainte-de-bruit-de-violence"),
        pytest.param("en", "No one answers the door and he beat her last night in the unit.", True,
                     id="en-a-new-clause-keeps-its-beating"),
        pytest.param("fr", "Aucune plainte des voisins, mais il la frappe tous les soirs.", True,
                     id="fr-mais-starts-a-clause-that-keeps-its-beating"),
    ],
)  # fmt: skip
def test_a_negative_determiner_denies_its_whole_noun_phrase_and_no_further(
    language: str, narrative: str, danger: bool
) -> None:
    assert a_danger(read(language, narrative)) is danger, outcome(read(language, narrative))


# 2. A report denied to the caller denies what it was about; a secret kept from everyone does not.
@pytest.mark.parametrize(
    ("language", "narrative", "danger"),
    [
        pytest.param("en", "None of them ever said anything to me about being hurt by him.", False,
                     id="en-never-said-anything-to-me-about"),
        pytest.param("en", "She never told anyone about the beatings he gives her at the house.", True,
                     id="en-a-secret-kept-from-anyone"),
        pytest.param("fr", "Aucune des filles m'a jamais parlé de se faire frapper par lui.", False,
                     id="fr-jamais-parle-de-se-faire-frapper"),
    ],
)  # fmt: skip
def test_a_report_denied_to_the_caller_denies_what_it_was_about(
    language: str, narrative: str, danger: bool
) -> None:
    assert a_danger(read(language, narrative)) is danger, outcome(read(language, narrative))


# 3. A denied belief ("I don't think he would hurt me") is the teller's judgement: no danger; a doubt
# ("I don't know if he would hurt her") stays a possibility.
@pytest.mark.parametrize(
    ("language", "narrative", "danger"),
    [
        pytest.param("en", "He keeps my pay but I don't think he would hurt me.", False, id="en-dont-think-hurt"),
        pytest.param("fr", "Il garde ma paie mais je pense pas qu'il me ferait mal.", False, id="fr-pense-pas-mal"),
        pytest.param("fr", "Il garde ma paie et je ne crois pas qu'il la frapperait.", False, id="fr-crois-pas"),
        pytest.param("en", "He keeps her pay and I don't know if he would hurt her.", True, id="en-dont-know-if"),
        pytest.param("fr", "Il garde sa paie et je sais pas s'il lui ferait mal.", True, id="fr-sais-pas-si"),
    ],
)  # fmt: skip
def test_a_denied_belief_is_no_danger_but_a_doubt_is_a_possibility(
    language: str, narrative: str, danger: bool
) -> None:
    assert a_danger(read(language, narrative)) is danger, outcome(read(language, narrative))


# 4. Violence told before the person left, or before she says she is safe now, is over.
@pytest.mark.parametrize(
    ("language", "narrative"),
    [
        pytest.param("en", "She left her pimp in June after he broke her arm; she feels safe here now.",
                     id="en-left-her-pimp-after-he-broke"),
        pytest.param("fr", "Elle a quitté son proxénète après qu'il lui a cassé le bras; elle se sent en sécurité ici.",
                     id="fr-lui-a-casse-se-sent-en-securite"),
    ],
)  # fmt: skip
def test_violence_before_she_left_and_felt_safe_is_over(language: str, narrative: str) -> None:
    result = read(language, narrative)
    assert result.urgency is not Urgency.URGENT, outcome(result)
    assert "danger_over" in {reason.code for reason in result.reasons}, outcome(result)


@pytest.mark.parametrize(
    ("language", "narrative"),
    [
        pytest.param("en", "She left her pimp in June but he broke her arm yesterday and is looking for her.",
                     id="en-but-yesterday"),
        pytest.param("fr", "Elle a quitté son proxénète en juin, mais il lui a cassé le bras hier soir.",
                     id="fr-mais-hier-soir"),
    ],
)  # fmt: skip
def test_violence_after_she_left_is_still_danger(language: str, narrative: str) -> None:
    assert a_danger(read(language, narrative)), outcome(read(language, narrative))


# 5. Words that look like danger in another sense: a permit tied to an employer, money taken off a
# pay, urgent care as a clinic, "urgently" in a request to look into something.
@pytest.mark.parametrize(
    ("language", "narrative", "danger"),
    [
        pytest.param("en", "The cooks can leave the house but their work permit is tied to the owner.", False,
                     id="en-permit-tied-to"),
        pytest.param("en", "The cooks are tied to the radiator at night by the owner.", True, id="en-tied-to-a-radiator"),
        pytest.param("fr", "Le patron enlève le loyer et les frais d'agence de leur paie.", False,
                     id="fr-enleve-le-loyer"),
        pytest.param("fr", "Le patron enlève les filles à la sortie du bar.", True, id="fr-enleve-les-filles"),
        pytest.param("en", "I work at the urgent care clinic where a woman came with her boss.", False,
                     id="en-urgent-care-clinic"),
        pytest.param("en", "Please look into this urgently, the details are in the attached file.", False,
                     id="en-look-into-this-urgently"),
        pytest.param("fr", "Pouvez-vous vérifier ça d'urgence, les détails sont dans le fichier.", False,
                     id="fr-verifier-ca-d-urgence"),
        pytest.param("en", "She needs help urgently, he is outside the door.", True, id="en-needs-help-urgently"),
    ],
)  # fmt: skip
def test_danger_words_in_another_sense_are_no_danger(language: str, narrative: str, danger: bool) -> None:
    assert a_danger(read(language, narrative)) is danger, outcome(read(language, narrative))


# 6. A threat of knowing where someone lives is said to the one threatened: the caller who knows where
# the exploiter lived threatens no one.
@pytest.mark.parametrize(
    ("language", "narrative", "danger"),
    [
        pytest.param("fr", "J'ai son nom et je sais où il habitait à Laval.", False, id="fr-je-sais-ou-il-habitait"),
        pytest.param("fr", "Il lui a dit « je sais où tu restes ».", True, id="fr-je-sais-ou-tu-restes"),
        pytest.param("fr", "Il sait où elle habite et il l'a dit à sa soeur.", True, id="fr-il-sait-ou-elle-habite"),
        pytest.param("en", "I have his name and I know where he lived back then.", False, id="en-i-know-where-he-lived"),
    ],
)  # fmt: skip
def test_knowing_where_someone_lives_threatens_only_when_said_to_the_threatened(
    language: str, narrative: str, danger: bool
) -> None:
    assert a_danger(read(language, narrative)) is danger, outcome(read(language, narrative))


# 7. A wish or plan does not reach into a relative clause told in the past.
@pytest.mark.parametrize(
    ("language", "narrative", "danger"),
    [
        pytest.param("en", "I want to report the man who trafficked me when I was 20; I'm 35 and safe now.", False,
                     id="en-want-to-report-who-trafficked"),
        pytest.param("en", "He wants to sell her to a man in Calgary.", True, id="en-wants-to-sell-her"),
    ],
)  # fmt: skip
def test_a_wish_does_not_reach_into_a_relative_clause_in_the_past(
    language: str, narrative: str, danger: bool
) -> None:
    assert a_danger(read(language, narrative)) is danger, outcome(read(language, narrative))


# 8. Ages told as an upper bound or as a birthday to come.
@pytest.mark.parametrize(
    ("language", "narrative", "minor"),
    [
        pytest.param("en", "A girl at the truck stop, she could not have been more than 14.", True,
                     id="en-could-not-have-been-more-than-14"),
        pytest.param("en", "A girl at the truck stop, she couldn't of been more then 15.", True,
                     id="en-couldnt-of-been-more-then-15"),
        pytest.param("en", "The girl at the motel is no older than 16 I'd say.", True, id="en-no-older-than-16"),
        pytest.param("fr", "Une fille au relais, elle avait pas plus de 14 ans.", True, id="fr-pas-plus-de-14-ans"),
        pytest.param("en", "The girl he drives to Kelowna turns 16 in March.", True, id="en-turns-16-in-march"),
        pytest.param("en", "The girl he drives to Kelowna will be 18 next month.", True, id="en-will-be-18-next-month"),
        pytest.param("fr", "La fille qu'il amène à Gatineau va avoir 16 ans en mars.", True, id="fr-va-avoir-16-ans"),
        pytest.param("fr", "La fille qu'il amène à Gatineau aura 18 ans le mois prochain.", True,
                     id="fr-aura-18-ans-le-mois-prochain"),
        pytest.param("en", "The woman he drives to Kelowna turns 25 in March.", False, id="en-turns-25"),
        pytest.param("en", "The woman at the motel works no more than 14 hours a day.", False,
                     id="en-no-more-than-14-hours"),
    ],
)  # fmt: skip
def test_an_age_told_as_an_upper_bound_or_a_birthday_to_come(
    language: str, narrative: str, minor: bool
) -> None:
    assert a_minor(read(language, narrative)) is minor, outcome(read(language, narrative))


# 9. Someone's own children, told the way parents tell them ("a mom with two kids (8 and 11)", "mes
# deux flos de 5 ans pis 9 ans"), are set aside beside adult victims.
@pytest.mark.parametrize(
    ("language", "narrative"),
    [
        pytest.param("en", "I'm a mom with two kids (8 and 11) and the women next door, all in their twenties,"
                     " are driven to work by the same man.", id="en-a-mom-with-two-kids"),
        pytest.param("fr", "Moi j'ai mes deux flos de 5 ans pis 9 ans, pis les femmes d'à côté (20-30 ans) sont"
                     " conduites au travail par le même gars.", id="fr-mes-deux-flos-pis"),
    ],
)  # fmt: skip
def test_a_parents_own_children_beside_adult_victims_are_not_minors(language: str, narrative: str) -> None:
    assert not a_minor(read(language, narrative)), outcome(read(language, narrative))


# 10. A statistical guess of danger stands against a narrative that denies danger in words: the signals
# conflict, and a conflict is a possible danger for a specialist to confirm (issue 12, item 5: recall
# first). A denial still silences a danger *word* in its scope (tests of negation elsewhere).
@pytest.mark.parametrize(
    ("language", "narrative"),
    [
        pytest.param("en", "She is not in immediate danger, he is away for two weeks, but he keeps her passport.",
                     id="en-not-in-danger"),
        pytest.param("fr", "Elle est pas en danger immédiat, le gars est parti pour deux semaines, mais il garde son passeport.",
                     id="fr-pas-en-danger-immediat"),
    ],
)  # fmt: skip
def test_a_statistical_guess_of_danger_against_a_denial_makes_the_tip_urgent_as_a_possible_danger(
    language: str, narrative: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def guesses_danger(text: str, *_: object, **options: object) -> safety_net.Verdict:
        # As the real reading would if the rules told it that danger is ruled out.
        raises = not options.get("danger_ruled_out", False)
        return safety_net.Verdict(0.9, raises, "possible_danger", ("passport",), True)

    monkeypatch.setattr(classification, "read", guesses_danger)
    result = read(language, narrative)
    assert result.urgency is Urgency.URGENT
    assert "possible_danger" in {getattr(reason, "code", reason) for reason in result.reasons}
