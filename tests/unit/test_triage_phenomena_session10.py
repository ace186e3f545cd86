"""Phenomena of issue 12 found in session 10 (development8), each a rule in English and in French:
a threat to "our" family, pressure on the neck told by its verb, a caller "not able to talk" (but
not one who cannot speak a language), a school grade written as "3e secondaire", injuries told by
a cast or a black eye, a plea made without a sound, a lock on the outside of a door and an order
not to leave, hiding in a bathroom told without its article; and over-calls: knocking on doors,
joual "est plus en danger" (no longer), a worker's child back home, an adult's age in brackets
beside her children's, a range of ages told after its places or with a past verb, an adult's age
in the past, and "years ago" judged against the age now. Review of rules-2026.12.7 (rules-2026.12.8):
standard French "est plus en danger" is more in danger unless a cue after it says it is over, a
man's adult age never silences a minor hint about someone else, and a past "under 18" is 17.

The sentences are written from the hotline's rules, never taken from a labelled tip.
"""

import pytest

from schemas.triage import Urgency
from services.triage.domain.classification import Classification
from tests.unit.test_triage_phenomena import a_danger, a_minor, outcome, rules


# 1. A threat to harm the family, said with "our" / "nos", is a threat to the family.
@pytest.mark.parametrize(
    ("language", "narrative"),
    [
        pytest.param("en", "The recruiter told my cousin that if he quits the crew they will hurt our mother in Manila.",
                     id="en-hurt-our-mother"),
        pytest.param("fr", "Le recruteur a dit à mon cousin que s'il lâche l'équipe, ils vont faire du mal à nos parents au Mexique.",
                     id="fr-faire-du-mal-a-nos-parents"),
    ],
)  # fmt: skip
def test_a_threat_to_our_family_is_danger(language: str, narrative: str) -> None:
    result = rules(language, narrative)
    assert result.urgency is Urgency.URGENT and a_danger(result), outcome(result)


# 2. Pressure on the neck told by its verb is strangling.
@pytest.mark.parametrize(
    ("language", "narrative"),
    [
        pytest.param("en", "When the cleaner argues back, the owner squeezes her throat until she goes quiet.",
                     id="en-squeezes-her-throat"),
        pytest.param("fr", "Quand la serveuse répond, le patron appuie sur sa gorge jusqu'à ce qu'elle se taise.",
                     id="fr-appuie-sur-sa-gorge"),
    ],
)  # fmt: skip
def test_pressure_on_the_neck_is_danger(language: str, narrative: str) -> None:
    result = rules(language, narrative)
    assert result.urgency is Urgency.URGENT and a_danger(result), outcome(result)


# 3. A caller not able to talk is not free to talk; a worker who cannot speak a language is not.
@pytest.mark.parametrize(
    ("language", "narrative", "danger"),
    [
        pytest.param("en", "I am not able to talk right now, the manager is standing behind me.", True,
                     id="en-not-able-to-talk"),
        pytest.param("fr", "Chu pas capable de parler, le boss est juste derrière moi.", True,
                     id="fr-pas-capable-de-parler"),
        pytest.param("en", "The dishwasher is not able to speak English and the owner keeps his pay.", False,
                     id="en-not-able-to-speak-english"),
        pytest.param("fr", "Le plongeur est pas capable de parler anglais et le proprio garde sa paye.", False,
                     id="fr-pas-capable-de-parler-anglais"),
        pytest.param("fr", "La plongeuse peut pas parler anglais et le proprio garde sa paye.", False,
                     id="fr-peut-pas-parler-anglais"),
    ],
)  # fmt: skip
def test_a_caller_not_able_to_talk_is_danger_but_not_a_language_not_spoken(
    language: str, narrative: str, danger: bool
) -> None:
    result = rules(language, narrative)
    assert a_danger(result) is danger, outcome(result)


# 4. A school grade written as an ordinal ("3e secondaire", "9th grade student") is a minor.
@pytest.mark.parametrize(
    ("language", "narrative"),
    [
        pytest.param("fr", "Une fille de 3e secondaire se fait amener dans des partys à Laval par un gars de 24 ans.",
                     id="fr-3e-secondaire"),
        pytest.param("en", "A 9th grade student gets driven to parties in Laval by a man of 24.",
                     id="en-9th-grade-student"),
    ],
)  # fmt: skip
def test_a_school_grade_written_as_an_ordinal_is_a_minor(language: str, narrative: str) -> None:
    result = rules(language, narrative)
    assert result.urgency is Urgency.URGENT and a_minor(result), outcome(result)


# 5. Knocking on doors is no blow.
@pytest.mark.parametrize(
    ("language", "narrative"),
    [
        pytest.param("en", "A woman in her thirties knocks on the truck doors at the rest stop every night while a man waits in a car.",
                     id="en-knocks-on-the-truck-doors"),
        pytest.param("fr", "Une femme dans la trentaine cogne aux portes des camions au relais tous les soirs pendant qu'un homme attend dans une auto.",
                     id="fr-cogne-aux-portes"),
    ],
)  # fmt: skip
def test_knocking_on_doors_is_not_danger(language: str, narrative: str) -> None:
    result = rules(language, narrative)
    assert not a_danger(result), outcome(result)


# 6. Joual drops the "ne": "elle est plus en danger" is no longer in danger; "plus ... que" stays danger.
@pytest.mark.parametrize(
    ("language", "narrative", "danger"),
    [
        pytest.param("fr", "Mon amie a quitté la ferme la semaine passée, elle est plus en danger.", False,
                     id="fr-est-plus-en-danger"),
        pytest.param("fr", "Depuis qu'il a trouvé son cell, elle est plus en danger que ses collègues.", True,
                     id="fr-plus-en-danger-que-ses-collegues"),
        pytest.param("en", "My friend left the farm last week, she is no longer in danger.", False,
                     id="en-no-longer-in-danger"),
    ],
)  # fmt: skip
def test_no_longer_in_danger_in_joual_is_not_danger(language: str, narrative: str, danger: bool) -> None:
    result = rules(language, narrative)
    assert a_danger(result) is danger, outcome(result)


# 7. A worker's child back home, to whom he sends money, is his family, not a victim.
@pytest.mark.parametrize(
    ("language", "narrative"),
    [
        pytest.param("en", "One of the pickers has a little girl back home he sends money to; the farmer keeps their passports.",
                     id="en-little-girl-back-home"),
        pytest.param("fr", "Un des cueilleurs a une petite fille au Honduras à qui il envoie de l'argent; le fermier garde leurs passeports.",
                     id="fr-petite-fille-a-qui-il-envoie-de-l-argent"),
    ],
)  # fmt: skip
def test_a_workers_child_back_home_is_no_minor(language: str, narrative: str) -> None:
    result = rules(language, narrative)
    assert not a_minor(result), outcome(result)


# 8. An adult's age in brackets after the person ("woman, 38") sets her own children aside.
@pytest.mark.parametrize(
    ("language", "narrative"),
    [
        pytest.param("en", "My tenant (woman, 38) lives with her three kids, 6, 8 and 10; her cousin takes her whole pay.",
                     id="en-woman-38-with-her-kids"),
        pytest.param("fr", "Ma locataire (femme, 38 ans) vit avec ses trois enfants de 6, 8 et 10 ans; son cousin prend toute sa paye.",
                     id="fr-femme-38-ans-avec-ses-enfants"),
    ],
)  # fmt: skip
def test_an_adult_age_in_brackets_sets_her_own_children_aside(language: str, narrative: str) -> None:
    result = rules(language, narrative)
    assert not a_minor(result), outcome(result)


# 9. A range of ages told after its places, or with a past verb, is a period of the past: an adult
# now and out is no minor case; a range said of now stays a minor.
@pytest.mark.parametrize(
    ("language", "narrative", "minor"),
    [
        pytest.param("en", "A woman I mentor, 27 now, was trafficked between Regina and Saskatoon from 16 to 18. She has been out for years.", False,
                     id="en-trafficked-between-places-from-16-to-18"),
        pytest.param("fr", "Une femme que j'accompagne, 27 ans maintenant, a été exploitée entre Regina et Saskatoon de 16 à 18 ans. Elle en est sortie depuis des années.", False,
                     id="fr-exploitee-entre-des-villes-de-16-a-18-ans"),
        pytest.param("en", "I'm 30. Between 14 and 16, my uncle's friend sold me in Sherbrooke. I'm safe now.", False,
                     id="en-between-14-and-16-he-sold-me"),
        pytest.param("fr", "J'ai 30 ans. Entre 14 et 16 ans, l'ami de mon oncle me vendait à Sherbrooke. Je suis en sécurité maintenant.", False,
                     id="fr-entre-14-et-16-ans-il-me-vendait"),
        pytest.param("fr", "Elle a entre 14 et 16 ans. L'ami de son oncle la vendait à des clients hier soir.", True,
                     id="fr-elle-a-entre-14-et-16-ans"),
    ],
)  # fmt: skip
def test_a_range_of_ages_in_the_past_is_no_minor_now(language: str, narrative: str, minor: bool) -> None:
    result = rules(language, narrative)
    assert a_minor(result) is minor, outcome(result)


# 10. An adult's age in the past ("from age 19 to 22") is no minor in the past.
@pytest.mark.parametrize(
    ("language", "narrative"),
    [
        pytest.param("en", "Resident (F, 24) was exploited from age 19 to 22 by a man in Moncton. No contact since.",
                     id="en-from-age-19-to-22"),
        pytest.param("fr", "Résidente (F, 24 ans) exploitée de 19 à 22 ans par un homme à Moncton. Aucun contact depuis.",
                     id="fr-de-19-a-22-ans"),
    ],
)  # fmt: skip
def test_an_adult_age_in_the_past_is_no_minor(language: str, narrative: str) -> None:
    result = rules(language, narrative)
    assert not a_minor(result), outcome(result)


def a_minor_then(result: Classification) -> bool:
    """A minor now, or a minor in the past set aside (an adult now and out), as its reason says."""
    return a_minor(result) or any(reason.code == "minor_in_past" for reason in result.reasons)


# 11. "Years ago" dates an event, not an age: judged against the age now, a minor in the past only
# if the age now less those years is under 18.
@pytest.mark.parametrize(
    ("language", "narrative", "minor"),
    [
        pytest.param("en", "A man in his 70s was brought here to work on a farm 12 years ago and was never paid. He left in 2019.", False,
                     id="en-in-his-70s-12-years-ago"),
        pytest.param("fr", "Un homme de 64 ans a été amené ici il y a 12 ans pour travailler sur une ferme sans être payé. Il est parti en 2019.", False,
                     id="fr-64-ans-il-y-a-12-ans"),
        pytest.param("en", "She is 20 now and was brought here 5 years ago. She still works for him every night and he keeps all her pay.", True,
                     id="en-20-now-5-years-ago"),
        pytest.param("fr", "Elle a 20 ans maintenant et a été amenée ici il y a 5 ans. Elle travaille encore pour lui tous les soirs et il garde toute sa paye.", True,
                     id="fr-20-ans-il-y-a-5-ans"),
    ],
)  # fmt: skip
def test_years_ago_are_judged_against_the_age_now(language: str, narrative: str, minor: bool) -> None:
    result = rules(language, narrative)
    assert a_minor_then(result) is minor, outcome(result)


# 12. Injuries told by a cast or a black eye, and a plea made without a sound, are a possible danger.
@pytest.mark.parametrize(
    ("language", "narrative"),
    [
        pytest.param("en", "The nanny had a black eye on Monday and her wrist in a cast today.",
                     id="en-black-eye-and-a-cast"),
        pytest.param("fr", "La gardienne avait un œil au beurre noir lundi et un plâtre au poignet aujourd'hui.",
                     id="fr-oeil-au-beurre-noir-et-un-platre"),
        pytest.param("en", "At the counter she mouthed the word help while he paid.",
                     id="en-mouthed-help"),
        pytest.param("fr", "Au comptoir, elle m'a fait « aide » avec la bouche pendant qu'il payait.",
                     id="fr-fait-aide-avec-la-bouche"),
    ],
)  # fmt: skip
def test_injuries_told_by_their_signs_and_a_silent_plea_are_urgent(language: str, narrative: str) -> None:
    result = rules(language, narrative)
    assert result.urgency is Urgency.URGENT and a_danger(result), outcome(result)


# 13. A lock on the outside of a door and an order not to leave are confinement; hiding in a
# bathroom is a caller not free to talk, with or without its article.
@pytest.mark.parametrize(
    ("language", "narrative"),
    [
        pytest.param("en", "There is a new padlock on the outside of the bunkhouse door since Friday.",
                     id="en-padlock-on-the-outside"),
        pytest.param("fr", "Il y a un cadenas neuf à l'extérieur de la porte du dortoir depuis vendredi.",
                     id="fr-cadenas-a-l-exterieur"),
        pytest.param("en", "The foreman told the crew: you don't leave until I say so.",
                     id="en-you-dont-leave-until-i-say"),
        pytest.param("fr", "Le contremaître a dit à l'équipe : vous sortez pas d'ici tant que je le dis pas.",
                     id="fr-vous-sortez-pas-tant-que"),
        pytest.param("fr", "chu cachée dans salle de bain au motel, écris pas",
                     id="fr-cachee-dans-salle-de-bain"),
        pytest.param("en", "im hiding in bathroom at the motel dont text back",
                     id="en-hiding-in-bathroom"),
    ],
)  # fmt: skip
def test_a_lock_outside_an_order_not_to_leave_and_hiding_are_danger(language: str, narrative: str) -> None:
    result = rules(language, narrative)
    assert result.urgency is Urgency.URGENT and a_danger(result), outcome(result)


# 12. Standard French "est plus en danger" is more in danger: urgent unless a cue after it says it is
# over ("elle est partie", "elle est en sécurité"), the only joual "no longer" read as such.
@pytest.mark.parametrize(
    ("language", "narrative", "urgent"),
    [
        pytest.param("fr", "Ma voisine est plus en danger depuis que son patron sait qu'elle a parlé à une travailleuse sociale.", True,
                     id="fr-plus-en-danger-depuis-que"),
        pytest.param("fr", "La cuisinière est plus en danger maintenant, il a trouvé le numéro de la ligne dans son sac.", True,
                     id="fr-plus-en-danger-maintenant"),
        pytest.param("fr", "Elle est plus en danger, il est sorti de prison hier.", True,
                     id="fr-plus-en-danger-il-est-sorti-de-prison"),
        pytest.param("fr", "Ma cousine est plus en danger, elle est partie de chez lui en octobre.", False,
                     id="fr-plus-en-danger-elle-est-partie"),
        pytest.param("fr", "La danseuse est plus en danger, elle est en sécurité astheure chez sa tante.", False,
                     id="fr-plus-en-danger-elle-est-en-securite-astheure"),
    ],
)  # fmt: skip
def test_more_in_danger_in_standard_french_is_urgent_unless_said_over(
    language: str, narrative: str, urgent: bool
) -> None:
    result = rules(language, narrative)
    assert (result.urgency is Urgency.URGENT and a_danger(result)) is urgent, outcome(result)


# 13. A man's adult age ("a man, 50", "in his 60s", "un homme de 50 ans") is his own: it never
# silences a hint that a girl beside him is a minor, nor makes a minor in the past an adult now.
@pytest.mark.parametrize(
    ("language", "narrative"),
    [
        pytest.param("en", "A man, 50, brings a very young girl to the motel on Fridays and pays the room in cash.",
                     id="en-a-man-50-a-very-young-girl"),
        pytest.param("fr", "Un homme de 50 ans amène une toute jeune fille au motel le vendredi et paie la chambre comptant.",
                     id="fr-un-homme-de-50-ans-une-toute-jeune-fille"),
        pytest.param("en", "Her boss (m 45) drives a very young girl to the truck stop every night.",
                     id="en-boss-m-45-a-very-young-girl"),
        pytest.param("fr", "Son mari de 45 ans conduit une toute jeune fille au relais routier chaque soir.",
                     id="fr-son-mari-de-45-ans-une-toute-jeune-fille"),
    ],
)  # fmt: skip
def test_a_mans_adult_age_never_silences_a_minor_hint(language: str, narrative: str) -> None:
    result = rules(language, narrative)
    assert result.urgency is Urgency.URGENT and a_minor(result), outcome(result)


@pytest.mark.parametrize(
    ("language", "narrative"),
    [
        pytest.param("en", "She was 15 when a man in his 60s started selling her at the truck stop. She left him.",
                     id="en-was-15-a-man-in-his-60s"),
        pytest.param("fr", "Elle avait 15 ans quand un homme dans la soixantaine a commencé à la vendre au relais. Elle l'a quitté.",
                     id="fr-avait-15-ans-un-homme-dans-la-soixantaine"),
    ],
)  # fmt: skip
def test_a_mans_adult_age_does_not_make_a_minor_in_the_past_an_adult_now(
    language: str, narrative: str
) -> None:
    result = rules(language, narrative)
    assert result.urgency is Urgency.URGENT and a_minor(result), outcome(result)


# 14. "Under 18" in the past is 17 at most: a minor in the past, even beside an age of 18.
@pytest.mark.parametrize(
    ("language", "narrative"),
    [
        pytest.param("en", "It started when she was 18, or under 18, and her boss sold her to clients in Laval.",
                     id="en-18-or-under-18"),
        pytest.param("fr", "Ça a commencé quand elle avait 18 ans, ou moins de 18 ans, et son patron la vendait à des clients à Laval.",
                     id="fr-18-ans-ou-moins-de-18-ans"),
    ],
)  # fmt: skip
def test_under_18_in_the_past_is_a_minor_in_the_past(language: str, narrative: str) -> None:
    result = rules(language, narrative)
    assert result.urgency is Urgency.URGENT and a_minor(result), outcome(result)


# 15. A man's age told as his age now is his own, a survivor's: a minor in the past he was, set aside.
@pytest.mark.parametrize(
    ("language", "narrative"),
    [
        pytest.param("en", "Client, male, now 20, was sold by his uncle from 15 to 17 in Gatineau. He left two years ago and has had no contact since.",
                     id="en-male-now-20"),
        pytest.param("fr", "Un jeune homme, maintenant 20 ans, a été vendu par son oncle de 15 à 17 ans à Gatineau. Il est parti il y a deux ans, aucun contact depuis.",
                     id="fr-jeune-homme-maintenant-20-ans"),
    ],
)  # fmt: skip
def test_a_male_survivors_age_now_sets_a_past_minor_aside(language: str, narrative: str) -> None:
    result = rules(language, narrative)
    assert not a_minor(result) and result.urgency is not Urgency.URGENT, outcome(result)
