"""Phenomena of issue 12 found in session 12 (development10), each a rule in English and in French:
an age or an hour written with dots ("15 y.o.", "11 p.m."), a birthday with its year, too young for
cigarettes or a bar, schools and grades of children spelled out ("sixth grade", "sixième année",
"école intermédiaire"), a split lip, the means of suicide ready, a plea for help with the room one is
in, violence of this noon or this afternoon; and over-calls: a bare "at 7" beside another hour, a
negation that reaches every item of a list, a weekday said with "every", the teller's own child
among the facts of her life now, and a school grade told of a recruitment in the past. A last pass
on what the rules alone missed (the net caught it): veiled threats of death ("put me in the river",
"finish me", "won't come back from the trip", "régler ça une fois pour toutes"), a face to be cut,
something thrown against a wall, an exit bolted or chained, not let out (but a curfew is no
confinement), a breath that is not right, a pupil of a secondary school, not allowed in a bar, a
school permission slip.

Then the review of those rules (19-26, a reviewer's own sentences): a negation carried down a list
only from a danger to a danger of its kind, never onto an act; the teller's own child set aside only
in an adult's life and never once harmed; "at 15" beside an hour; a curfew needs a time; "can't do
this anymore"; ages written short ("D.O.B. 2011", "girl 15yrs", "fille 15a"); too young told of then;
a house by a lake; violence done to "a worker" or told by a bare participle.

A second review's over-calls (27-32): a threat or a weapon is a danger of the kind a negation carries
down a list; the teller's own adult age ("I'm 30") sets her own child aside; "b." after a name is an
initial; years that place a time ("10 years ago") are no age; food, a path or a game won told by a
participle of violence; "shift is at 13" is an hour.

The sentences are written from the hotline's rules, never taken from a labelled tip.
"""

import pytest

from schemas.triage import Urgency
from tests.unit.triage_phenomena import a_danger, a_minor, outcome, rules, told_by_a_stranger


# 1. An age or an hour written with dots is one word: "a 15 y.o." is a minor, "at 11 p.m." no age.
@pytest.mark.parametrize(
    ("language", "narrative", "minor"),
    [
        pytest.param("en", "The motel manager says the girl in the end unit is a 15 y.o. from Sudbury; men come and go all night.",
                     True, id="en-15-y-o"),
        pytest.param("fr", "Y'a une 15 y.o. qui sert aux tables au bar de son oncle pis elle dort dans l'arrière-boutique.",
                     True, id="fr-15-y-o"),
        pytest.param("en", "He drives the cleaners to the towers at 5 a.m. and picks them up at 11 p.m., six days a week.",
                     False, id="en-at-11-p-m"),
        pytest.param("fr", "Il amène les laveuses aux tours à 5 a.m. pis les ramasse à 11 p.m., six jours par semaine.",
                     False, id="fr-a-11-p-m"),
    ],
)  # fmt: skip
def test_an_age_or_an_hour_written_with_dots_is_read_as_one_word(
    language: str, narrative: str, minor: bool
) -> None:
    result = rules(language, narrative)
    assert a_minor(result) is minor, outcome(result)


# 2. A bare "at 7" in a sentence that tells another hour ("at midnight") is an hour, not an age; said
#    of a sale with no hour beside it, it is still an age.
@pytest.mark.parametrize(
    ("language", "narrative", "minor"),
    [
        pytest.param("en", "The van leaves the women at the warehouse at midnight and comes back for them at 7.",
                     False, id="en-at-7-after-midnight"),
        pytest.param("fr", "La van laisse les femmes à l'entrepôt à minuit pis revient les chercher à 7.",
                     False, id="fr-a-7-apres-minuit"),
        pytest.param("en", "Her cousin says the man started selling her at 14 in the motels along the highway.",
                     True, id="en-selling-her-at-14"),
        pytest.param("fr", "Sa cousine dit que l'homme a commencé à la vendre à 14 ans dans les motels de la route.",
                     True, id="fr-vendre-a-14-ans"),
    ],
)  # fmt: skip
def test_a_bare_number_after_at_beside_another_hour_is_no_age(
    language: str, narrative: str, minor: bool
) -> None:
    result = rules(language, narrative)
    assert a_minor(result) is minor, outcome(result)


# 3. A birthday given with its year is a year of birth.
@pytest.mark.parametrize(
    ("language", "narrative", "minor"),
    [
        pytest.param("en", "Her birthday is in March 2011 and the manager has her working the bar until close.",
                     True, id="en-birthday-2011"),
        pytest.param("fr", "Son anniversaire est en mars 2011 pis le gérant la fait travailler au bar jusqu'à la fermeture.",
                     True, id="fr-anniversaire-2011"),
        pytest.param("en", "Her birthday is in March 1996 and the manager has her working the bar until close.",
                     False, id="en-birthday-1996"),
        pytest.param("fr", "Son anniversaire est en mars 1996 pis le gérant la fait travailler au bar jusqu'à la fermeture.",
                     False, id="fr-anniversaire-1996"),
    ],
)  # fmt: skip
def test_a_birthday_with_its_year_is_a_year_of_birth(language: str, narrative: str, minor: bool) -> None:
    result = rules(language, narrative)
    assert a_minor(result) is minor, outcome(result)


# 4. Too young for what the law keeps from minors (cigarettes, beer, a bar) is a minor; old enough is not.
@pytest.mark.parametrize(
    ("language", "narrative", "minor"),
    [
        pytest.param("en", "She asked me to buy her beer because she is not old enough to buy it; the man she came with keeps her money.",
                     True, id="en-not-old-enough-to-buy"),
        pytest.param("fr", "Elle m'a demandé d'acheter ses cigarettes parce qu'elle a pas l'âge; le gars avec elle garde son argent.",
                     True, id="fr-a-pas-l-age"),
        pytest.param("en", "She is too young to get into a bar, yet she dances at his club every night.",
                     True, id="en-too-young-to-get-into-a-bar"),
        pytest.param("en", "She is old enough to drink; the man she came with keeps her money.",
                     False, id="en-old-enough-to-drink"),
        pytest.param("fr", "Elle a l'âge de boire; le gars avec elle garde son argent.",
                     False, id="fr-a-l-age-de-boire"),
    ],
)  # fmt: skip
def test_too_young_for_cigarettes_or_a_bar_is_a_minor(language: str, narrative: str, minor: bool) -> None:
    result = rules(language, narrative)
    assert a_minor(result) is minor, outcome(result)


# 5. A school of children and a grade spelled out ("sixth grade", "sixième année", "école
#    intermédiaire") are a minor; a year of university is not.
@pytest.mark.parametrize(
    ("language", "narrative", "minor"),
    [
        pytest.param("en", "My neighbour's boy is in sixth grade and a man pays him to carry packages at night.",
                     True, id="en-sixth-grade"),
        pytest.param("fr", "Le garçon de ma voisine est en sixième année pis un homme le paie pour transporter des paquets la nuit.",
                     True, id="fr-sixieme-annee"),
        pytest.param("en", "My niece goes to the intermediate school and a man of 30 gives her hotel addresses.",
                     True, id="en-intermediate-school"),
        pytest.param("fr", "Ma nièce va à l'école intermédiaire pis un homme de 30 ans lui donne des adresses d'hôtel.",
                     True, id="fr-ecole-intermediaire"),
        pytest.param("fr", "Ma coloc est en troisième année de bac pis son patron au resto garde ses pourboires.",
                     False, id="fr-troisieme-annee-de-bac"),
    ],
)  # fmt: skip
def test_a_school_or_a_grade_of_children_spelled_out_is_a_minor(
    language: str, narrative: str, minor: bool
) -> None:
    result = rules(language, narrative)
    assert a_minor(result) is minor, outcome(result)


# 6. A split lip is an injury: a possible danger with nothing else said of violence.
@pytest.mark.parametrize(
    ("language", "narrative"),
    [
        pytest.param("en", "She came to her shift with a split lip and the owner stands by the till watching her.", id="en-split-lip"),
        pytest.param("fr", "Elle est arrivée à son quart avec la lèvre fendue pis le propriétaire la surveille à la caisse.", id="fr-levre-fendue"),
    ],
)  # fmt: skip
def test_a_split_lip_is_an_injury(language: str, narrative: str) -> None:
    result = rules(language, narrative)
    assert a_danger(result), outcome(result)
    assert result.urgency is Urgency.URGENT, outcome(result)


# 7. The means of suicide ready ("I have the pills ready") is a risk of suicide; pills a pharmacy
#    has ready are not.
@pytest.mark.parametrize(
    ("language", "narrative", "danger"),
    [
        pytest.param("en", "He takes every paycheque and says I owe him. Tonight I have the pills ready.",
                     True, id="en-pills-ready"),
        pytest.param("fr", "Il prend toute ma paye pis dit que je lui dois. À soir j'ai mes pilules prêtes.",
                     True, id="fr-pilules-pretes"),
        pytest.param("en", "He takes every paycheque and says she owes him. The pharmacy has her pills ready for pick-up.",
                     False, id="en-pharmacy-has-her-pills-ready"),
        pytest.param("fr", "Il prend toute sa paye pis dit qu'elle lui doit. La pharmacie a ses pilules prêtes à ramasser.",
                     False, id="fr-la-pharmacie-a-ses-pilules"),
    ],
)  # fmt: skip
def test_the_means_of_suicide_ready_is_danger(language: str, narrative: str, danger: bool) -> None:
    result = rules(language, narrative)
    assert a_danger(result) is danger, outcome(result)


# 8. A plea for help with the room one is in ("help room 214", "aide chambre 214") is a possible danger, however short
#    the tip; help wanted to pay for a room is not.
@pytest.mark.parametrize(
    ("language", "narrative", "danger"),
    [
        pytest.param("en", "help room 214", True, id="en-help-room"),
        pytest.param("fr", "aide chambre 214", True, id="fr-aide-chambre"),
        pytest.param("en", "She needs help to pay for room 214 at the motel.", False, id="en-help-to-pay-for-a-room"),
        pytest.param("fr", "Elle a besoin d'aide pour payer la chambre 214 au motel.", False, id="fr-aide-pour-payer-une-chambre"),
    ],
)  # fmt: skip
def test_a_plea_for_help_with_the_room_one_is_in_is_danger(
    language: str, narrative: str, danger: bool
) -> None:
    result = told_by_a_stranger(language, narrative)
    assert a_danger(result) is danger, outcome(result)
    if danger:
        assert result.urgency is Urgency.URGENT, outcome(result)


# 9. Violence of this noon or this afternoon is of today: a man who ran from it is no sign that it is
#    over; the same told of last summer is.
@pytest.mark.parametrize(
    ("language", "narrative", "danger"),
    [
        pytest.param("en", "The foreman punched the new picker this afternoon for being slow; he escaped into the field with no water.",
                     True, id="en-hit-this-afternoon"),
        pytest.param("fr", "Le contremaître a frappé un cueilleur ce midi parce qu'il était lent; le gars s'est sauvé dans le champ sans eau.",
                     True, id="fr-frappe-ce-midi"),
        pytest.param("en", "The foreman punched the new picker last summer for being slow; he escaped and works in another town.",
                     False, id="en-hit-last-summer"),
        pytest.param("fr", "Le contremaître a frappé un cueilleur l'été passé parce qu'il était lent; le gars s'est sauvé pis travaille ailleurs.",
                     False, id="fr-frappe-l-ete-passe"),
    ],
)  # fmt: skip
def test_violence_of_this_noon_is_not_over(language: str, narrative: str, danger: bool) -> None:
    result = rules(language, narrative)
    assert a_danger(result) is danger, outcome(result)


# 10. A negation reaches every item of a list that a disjunction closes ("nobody reported violence,
#     confinement or threats"); a clause with its own subject after the comma is no item of it.
@pytest.mark.parametrize(
    ("language", "narrative", "danger"),
    [
        pytest.param("en", "Nobody has reported violence, confinement or threats at the agency's houses; the workers are adults.",
                     False, id="en-nobody-reported-a-list"),
        pytest.param("fr", "Personne n'a signalé de violence, séquestration ou menaces dans les maisons de l'agence; les travailleurs sont adultes.",
                     False, id="fr-personne-n-a-signale-une-liste"),
        pytest.param("en", "The workers have no phones, the boss locks them in or threatens them.",
                     True, id="en-a-clause-of-its-own-after-the-comma"),
        pytest.param("fr", "Les travailleurs ont pas de téléphone, le boss les enferme ou les menace.",
                     True, id="fr-une-proposition-a-elle-apres-la-virgule"),
    ],
)  # fmt: skip
def test_a_negation_reaches_every_item_of_a_list_closed_by_or(
    language: str, narrative: str, danger: bool
) -> None:
    result = rules(language, narrative)
    assert a_danger(result) is danger, outcome(result)


# 11. A weekday said with "every" ("every Friday", "tous les vendredis") is a routine, not a move soon.
@pytest.mark.parametrize(
    ("language", "narrative", "danger"),
    [
        pytest.param("en", "The agency drives the women to Windsor every Friday and keeps half of what they make.",
                     False, id="en-every-friday"),
        pytest.param("fr", "L'agence amène les femmes à Windsor tous les vendredis pis garde la moitié de ce qu'elles font.",
                     False, id="fr-tous-les-vendredis"),
        pytest.param("en", "The agency drives the women to Windsor this Friday and keeps half of what they make.",
                     True, id="en-this-friday"),
        pytest.param("fr", "L'agence amène les femmes à Windsor vendredi pis garde la moitié de ce qu'elles font.",
                     True, id="fr-vendredi"),
    ],
)  # fmt: skip
def test_a_weekday_said_with_every_is_a_routine_not_a_move_soon(
    language: str, narrative: str, danger: bool
) -> None:
    result = rules(language, narrative)
    assert a_danger(result) is danger, outcome(result)


# 12. The teller's own child, among the facts of her life now ("I have a job, a husband, a kid"), is
#     her family, no victim; a child she saw sold is.
@pytest.mark.parametrize(
    ("language", "narrative", "minor"),
    [
        pytest.param("en", "I was sold from 15 to 17. I'm 26 now, I got out years ago, and I have a job, a husband, a kid.",
                     False, id="en-a-job-a-husband-a-kid"),
        pytest.param("fr", "On m'a vendue de 15 à 17 ans. J'ai 26 ans maintenant, j'en suis sortie, j'ai une job, un chum pis un enfant.",
                     False, id="fr-une-job-un-chum-pis-un-enfant"),
        pytest.param("en", "I have seen a kid sold at that motel twice this month.",
                     True, id="en-seen-a-kid-sold"),
        pytest.param("fr", "J'ai vu un enfant vendu à ce motel deux fois ce mois-ci.",
                     True, id="fr-vu-un-enfant-vendu"),
        pytest.param("en", "I have a kid in my class whose older boyfriend sells her to his friends.",
                     True, id="en-a-kid-in-my-class"),
        pytest.param("fr", "J'ai un enfant dans ma classe que le chum plus vieux vend à ses amis.",
                     True, id="fr-un-enfant-dans-ma-classe"),
    ],
)  # fmt: skip
def test_the_tellers_own_child_among_the_facts_of_her_life_is_no_minor(
    language: str, narrative: str, minor: bool
) -> None:
    result = rules(language, narrative)
    assert a_minor(result) is minor, outcome(result)


# 13. A school grade told of a recruitment in the past, by someone an adult now and out, is a minor in
#     the past; girls recruited in a grade now are minors.
@pytest.mark.parametrize(
    ("language", "narrative", "minor"),
    [
        pytest.param("en", "The crew that recruited me in grade 9 had me doing dates for two years. Today I'm 21 and out since last year.",
                     False, id="en-recruited-me-in-grade-9"),
        pytest.param("fr", "La gang qui m'a recrutée en secondaire 3 m'a fait faire des dates deux ans. Aujourd'hui j'ai 21 ans pis j'en suis sortie l'an passé.",
                     False, id="fr-recrutee-en-secondaire-3"),
        pytest.param("en", "The crew recruits girls in grade 9 at her school and sends them on dates.",
                     True, id="en-recruits-girls-in-grade-9"),
        pytest.param("fr", "La gang recrute des filles en secondaire 3 à son école pis les envoie sur des dates.",
                     True, id="fr-recrute-des-filles-en-secondaire-3"),
    ],
)  # fmt: skip
def test_a_school_grade_told_of_a_past_recruitment_is_a_minor_in_the_past(
    language: str, narrative: str, minor: bool
) -> None:
    result = rules(language, narrative)
    assert a_minor(result) is minor, outcome(result)
    if not minor:
        assert result.urgency is not Urgency.URGENT, outcome(result)


# 14. A threat of death told by what would be done to the body, by "finishing" the one threatened or by
#     a trip she would not come back from, is danger; a trip to come back from is not.
@pytest.mark.parametrize(
    ("language", "narrative", "danger"),
    [
        pytest.param("en", "He took my phone and says if I try to leave he'll put me in the lake.", True, id="en-put-me-in-the-lake"),
        pytest.param("fr", "Il a pris mon cell pis dit que si j'essaie de partir il va me jeter dans le fleuve.", True, id="fr-me-jeter-dans-le-fleuve"),
        pytest.param("en", "Her uncle told her that if she shames the family she won't come back from this trip.", True, id="en-wont-come-back-from-the-trip"),
        pytest.param("fr", "Son oncle lui a dit que si elle refuse le mariage elle reviendra pas de ce voyage.", True, id="fr-reviendra-pas-de-ce-voyage"),
        pytest.param("en", "My cousin says her boss will finish me if I call anyone.", True, id="en-will-finish-me"),
        pytest.param("fr", "Son mari parle de régler ça une fois pour toutes, il garde son passeport.", True, id="fr-regler-ca-une-fois-pour-toutes"),
        pytest.param("en", "Her uncle keeps her passport; she will come back from this trip on the 20th.", False, id="en-back-from-the-trip"),
        pytest.param("fr", "Son oncle garde son passeport; elle reviendra de ce voyage le 20.", False, id="fr-reviendra-de-ce-voyage"),
    ],
)  # fmt: skip
def test_a_veiled_threat_of_death_is_danger(language: str, narrative: str, danger: bool) -> None:
    result = rules(language, narrative)
    assert a_danger(result) is danger, outcome(result)


# 15. A face or a throat to be cut, and someone or something thrown against a wall, are violence.
@pytest.mark.parametrize(
    ("language", "narrative"),
    [
        pytest.param("en", "He keeps my ID and says he will cut my face if I run.", id="en-cut-my-face"),
        pytest.param("fr", "Il garde mes cartes pis dit qu'il va me taillader le visage si je me sauve.", id="fr-taillader-le-visage"),
        pytest.param("en", "Next door a man yells about money and I hear her being slammed against the wall.", id="en-slammed-against-the-wall"),
        pytest.param("fr", "À côté un homme crie pour de l'argent pis je l'entends se faire garrocher contre le mur.", id="fr-garrochee-contre-le-mur"),
    ],
)  # fmt: skip
def test_a_face_to_be_cut_or_a_body_thrown_against_a_wall_is_danger(language: str, narrative: str) -> None:
    result = rules(language, narrative)
    assert a_danger(result), outcome(result)


# 16. An exit bolted or chained, and people not let out, are confinement; a curfew ("not let out
#     after 9") restricts coming and going but confines no one now.
@pytest.mark.parametrize(
    ("language", "narrative", "danger"),
    [
        pytest.param("en", "At the massage place the back door is chained and the women sleep on the tables.", True, id="en-back-door-chained"),
        pytest.param("fr", "Au salon de massage la porte d'en arrière est cadenassée pis les femmes dorment sur les tables.", True, id="fr-porte-cadenassee"),
        pytest.param("en", "The owner doesn't let the women out of the house, he keeps their passports.", True, id="en-doesnt-let-them-out"),
        pytest.param("fr", "Le propriétaire les laisse pas sortir de la maison, il garde leurs passeports.", True, id="fr-les-laisse-pas-sortir"),
        pytest.param("en", "The owner doesn't let them leave the house after 9 pm, he keeps their passports.", False, id="en-a-curfew"),
        pytest.param("fr", "Le propriétaire les laisse pas sortir de la maison après 21 h, il garde leurs passeports.", False, id="fr-un-couvre-feu"),
    ],
)  # fmt: skip
def test_an_exit_chained_or_people_not_let_out_is_confinement_but_a_curfew_is_not(
    language: str, narrative: str, danger: bool
) -> None:
    result = rules(language, narrative)
    assert a_danger(result) is danger, outcome(result)


# 17. A breath that is not right ("breathing weird", "respire bizarre") is a medical emergency.
@pytest.mark.parametrize(
    ("language", "narrative"),
    [
        pytest.param("en", "My friend is at her pimp's place, he gave her pills and now she's breathing weird.", id="en-breathing-weird"),
        pytest.param("fr", "Mon amie est chez son pimp, il lui a donné des pilules pis là elle respire bizarre.", id="fr-respire-bizarre"),
    ],
)  # fmt: skip
def test_a_breath_that_is_not_right_is_a_medical_emergency(language: str, narrative: str) -> None:
    result = told_by_a_stranger(language, narrative)
    assert a_danger(result), outcome(result)
    assert result.urgency is Urgency.URGENT, outcome(result)


# 18. A pupil of a secondary school, someone not allowed in a bar and a school permission slip are
#     (possible) minors; a diploma finished long ago is not.
@pytest.mark.parametrize(
    ("language", "narrative", "minor"),
    [
        pytest.param("fr", "Une élève du secondaire est absente depuis trois jours; un homme de la mine l'a amenée à Fermont.",
                     True, id="fr-eleve-du-secondaire"),
        pytest.param("fr", "La nouvelle danseuse peut même pas rentrer dans un bar, pis le gérant la ramène chez lui.",
                     True, id="fr-peut-pas-rentrer-dans-un-bar"),
        pytest.param("en", "The new dancer can't even get into a bar legally, and the manager drives her home.",
                     True, id="en-cant-get-into-a-bar-legally"),
        pytest.param("en", "One of the girls in the car had a permission slip for a field trip in her bag; the driver was paid by a man.",
                     True, id="en-permission-slip"),
        pytest.param("fr", "Une des filles dans l'auto avait un formulaire d'autorisation pour une sortie scolaire; un homme a payé la course.",
                     True, id="fr-sortie-scolaire"),
        pytest.param("fr", "Ma coloc a fini son secondaire en 2015; son patron au resto garde ses pourboires.",
                     False, id="fr-a-fini-son-secondaire"),
    ],
)  # fmt: skip
def test_a_pupil_a_bar_not_allowed_or_a_permission_slip_is_a_minor(
    language: str, narrative: str, minor: bool
) -> None:
    result = rules(language, narrative)
    assert a_minor(result) is minor, outcome(result)


# The review of session 12's rules (266 sentences of the reviewer's own): what the new rules hid.


# 19. A negation is carried down a list only from a danger to a danger of its kind ("nobody reported
#     violence, confinement or threats"): never onto an act ("aren't paid, locked in or beaten", "pas de
#     paye, battues ou violées"), nor after a lack ("no phone", "pas de cell") or a clause of no danger
#     ("nobody helps her").
@pytest.mark.parametrize(
    ("language", "narrative", "danger"),
    [
        pytest.param("en", "The girls aren't paid, locked in at night, or beaten if they refuse.", True, id="en-not-paid-locked-in-or-beaten"),
        pytest.param("en", "She hasn't been paid in months, raped, or beaten by the men he sends.", True, id="en-not-paid-raped-or-beaten"),
        pytest.param("en", "She's not allowed out, strangled or slapped if she asks.", True, id="en-not-allowed-out-strangled-or-slapped"),
        pytest.param("en", "They weren't allowed to leave, choked or beaten when they tried.", True, id="en-not-allowed-to-leave-choked-or-beaten"),
        pytest.param("en", "Nobody helps her, beaten or threatened every night by her pimp.", True, id="en-nobody-helps-her-beaten-or-threatened"),
        pytest.param("en", "No pay, beaten or raped by the boss, that's their life.", True, id="en-no-pay-beaten-or-raped"),
        pytest.param("en", "no phone, no $, locked in or beat if she talks back", True, id="en-no-phone-locked-in-or-beat"),
        pytest.param("fr", "Elle a pas de cell, battue ou enfermée tous les soirs.", True, id="fr-pas-de-cell-battue-ou-enfermee"),
        pytest.param("fr", "Pas de paye, pas de papiers, enfermées ou battues si elles se plaignent.", True, id="fr-pas-de-paye-enfermees-ou-battues"),
        pytest.param("fr", "Personne l'aide, battue ou menacée chaque soir par son pimp.", True, id="fr-personne-l-aide-battue-ou-menacee"),
        pytest.param("fr", "Pas de paye, battues ou violées par le boss, c'est leur vie.", True, id="fr-pas-de-paye-battues-ou-violees"),
        pytest.param("fr", "pas de cell pas d'argent, enfermée ou battue si elle répond", True, id="fr-pas-de-cell-enfermee-ou-battue"),
        pytest.param("en", "no one reported violence or threats until last night when he said he'd kill her", True, id="en-until-last-night-a-threat"),
        pytest.param("en", "he doesn't hit her or the kids, but tonight he locked them in", True, id="en-but-tonight-locked-in"),
        pytest.param("en", "Nobody has reported violence, confinement or threats.", False, id="en-nobody-reported-dangers-of-a-kind"),
        pytest.param("fr", "Personne n'a signalé de violence, séquestration ou menaces.", False, id="fr-personne-n-a-signale-des-dangers"),
    ],
)  # fmt: skip
def test_a_negation_is_carried_down_a_list_of_dangers_never_onto_acts(
    language: str, narrative: str, danger: bool
) -> None:
    result = rules(language, narrative)
    assert a_danger(result) is danger, outcome(result)


# 20. The teller's own child is set aside only in a life told by an adult (an adult age now, an age of
#     the past), and never once the child comes back as the object of what is done ("makes my kid do
#     videos", "mon pimp l'a pris").
@pytest.mark.parametrize(
    ("language", "narrative", "minor"),
    [
        pytest.param("en", "I have a job, a boyfriend and a kid, and the boyfriend makes my kid do videos for men online.", True, id="en-makes-my-kid-do-videos"),
        pytest.param("en", "i have a job a bf and a baby, bf makes me do dates and the baby is alone in the car rn", True, id="en-the-baby-alone-in-the-car"),
        pytest.param("fr", "J'ai un bébé maintenant pis mon pimp l'a pris à soir.", True, id="fr-mon-pimp-l-a-pris"),
        pytest.param("fr", "J'ai une job, un chum pis un enfant, pis mon chum fait faire des vidéos à mon enfant pour des hommes en ligne.", True, id="fr-fait-faire-des-videos-a-mon-enfant"),
        pytest.param("en", "I was sold from 15 to 17. I'm 26 now, I have a job, a husband and a kid, and my ex sells my kid to his friends.", True, id="en-an-adult-whose-ex-sells-her-kid"),
        pytest.param("fr", "On m'a vendue de 15 à 17 ans. J'ai 26 ans maintenant, j'ai une job, un chum pis un bébé, pis mon ancien pimp l'a pris à soir.", True, id="fr-une-adulte-dont-le-pimp-a-pris-le-bebe"),
        pytest.param("en", "I was sold from 15 to 17. I'm 26 now, I got out years ago, and I have a job, a husband, a kid.", False, id="en-an-adult-life-now"),
        pytest.param("fr", "On m'a vendue de 15 à 17 ans. J'ai 26 ans maintenant, j'en suis sortie, j'ai une job, un chum pis un enfant.", False, id="fr-une-vie-d-adulte-maintenant"),
    ],
)  # fmt: skip
def test_the_tellers_own_child_is_set_aside_only_in_an_adults_life_and_never_once_harmed(
    language: str, narrative: str, minor: bool
) -> None:
    result = rules(language, narrative)
    assert a_minor(result) is minor, outcome(result)


# 21. A bare "at 15" is an age beside any hour: no clock shows 15, and an age opens the sentence ("At 13
#     she was sold at 9 p.m.") or follows a verb that dates a life ("got her at 12", "pimped at 15");
#     "start work at 6 and finish at 8 pm" is a working day. French says "à 15 ans" and "à 21 h".
@pytest.mark.parametrize(
    ("language", "narrative", "minor"),
    [
        pytest.param("en", "At 13 she was sold at 9 p.m. behind the arena.", True, id="en-at-13-opens-the-sentence"),
        pytest.param("en", "Pimped at 15, she still gets dropped at the motel at 11 pm.", True, id="en-pimped-at-15"),
        pytest.param("en", "They got her at 15 and drop her at the truck stop at midnight.", True, id="en-got-her-at-15"),
        pytest.param("en", "They got her at 12, pick her up at 8 pm.", True, id="en-got-her-at-12"),
        pytest.param("en", "At 14 she's already sold at 9 pm at the truck stop.", True, id="en-at-14-already-sold"),
        pytest.param("fr", "À 13 ans elle a été vendue à 21 h derrière l'aréna.", True, id="fr-a-13-ans-vendue-a-21-h"),
        pytest.param("fr", "Ils l'ont eue à 12 ans, la ramassent à 20 h.", True, id="fr-eue-a-12-ans"),
        pytest.param("en", "They start work at 6 and finish at 8 pm, the boss keeps their passports.", False, id="en-start-work-at-6"),
        pytest.param("fr", "Ils commencent à travailler à 6 h pis finissent à 20 h, le boss garde leurs passeports.", False, id="fr-commencent-a-6-h"),
    ],
)  # fmt: skip
def test_an_age_after_at_is_no_hour_past_12_at_the_start_or_after_a_verb_that_dates_a_life(
    language: str, narrative: str, minor: bool
) -> None:
    result = rules(language, narrative)
    assert a_minor(result) is minor, outcome(result)


# 22. A curfew is a time after "after", "before" or "past" ("after 9 pm", "après minuit", "before
#     dark"); kept in until something is paid or done, or from the moment they arrive, is confinement
#     ("before the debt is paid", "avant qu'elles fassent 1000 piasses", "après leur arrivée").
@pytest.mark.parametrize(
    ("language", "narrative", "danger"),
    [
        pytest.param("en", "They won't let the workers leave the farm before the debt is paid.", True, id="en-before-the-debt-is-paid"),
        pytest.param("en", "The boss doesn't let the girls leave the house before they make 1000 dollars.", True, id="en-before-they-make-1000"),
        pytest.param("fr", "Le boss laisse pas les filles sortir de la maison avant qu'elles fassent 1000 piasses.", True, id="fr-avant-qu-elles-fassent-1000"),
        pytest.param("en", "He never lets her out of the basement before he's done with her.", True, id="en-before-he-is-done-with-her"),
        pytest.param("en", "He doesn't let them out of the room before the clients are done.", True, id="en-before-the-clients-are-done"),
        pytest.param("fr", "Y les laisse pas sortir de la chambre avant que les clients aient fini.", True, id="fr-avant-que-les-clients-aient-fini"),
        pytest.param("en", "The owner never lets them out of the house after they arrive.", True, id="en-after-they-arrive"),
        pytest.param("fr", "Le proprio les laisse jamais sortir de la maison après leur arrivée.", True, id="fr-apres-leur-arrivee"),
        pytest.param("en", "They won't let her out past the front door.", True, id="en-past-the-front-door"),
        pytest.param("en", "The owner never lets them out of the house after dark, he keeps their passports.", False, id="en-a-curfew-after-dark"),
        pytest.param("fr", "Le boss laisse pas les filles sortir de la maison après minuit, il garde leurs passeports.", False, id="fr-un-couvre-feu-apres-minuit"),
    ],
)  # fmt: skip
def test_a_curfew_is_a_time_and_kept_in_until_something_is_paid_or_done_is_confinement(
    language: str, narrative: str, danger: bool
) -> None:
    result = rules(language, narrative)
    assert a_danger(result) is danger, outcome(result)


# 23. "Anymore" after "can't" ("I can't do this anymore", "I cannot take it any more") tells how one
#     is now, not that anything is over; "doesn't live with her anymore" is over.
@pytest.mark.parametrize(
    ("language", "narrative", "danger"),
    [
        pytest.param("en", "I have all my pills lined up, I can't do this anymore, he's outside.", True, id="en-can-t-do-this-anymore"),
        pytest.param("en", "I have all my pills lined up, I cannot take it any more, he's outside.", True, id="en-cannot-take-it-any-more"),
        pytest.param("fr", "J'ai toutes mes pilules alignées, je suis pu capable de continuer, il est dehors.", True, id="fr-pu-capable-de-continuer"),
        pytest.param("en", "He beat her last year, he doesn't live with her anymore.", False, id="en-doesn-t-live-with-her-anymore"),
        pytest.param("fr", "Il la battait l'an passé, il reste plus avec elle.", False, id="fr-reste-plus-avec-elle"),
    ],
)  # fmt: skip
def test_anymore_after_cannot_is_a_state_of_now_not_something_over(
    language: str, narrative: str, danger: bool
) -> None:
    result = rules(language, narrative)
    assert a_danger(result) is danger, outcome(result)


# 24. Ages written short: a date of birth with its dots ("D.O.B. 2011", "b. 2012"), a birthday written
#     "bday", years glued to the age after a word for the person ("girl 15yrs", "fille 15a"); the
#     same of an adult is no minor.
@pytest.mark.parametrize(
    ("language", "narrative", "minor"),
    [
        pytest.param("en", "D.O.B. 2011, she works at the spa at night.", True, id="en-d-o-b-2011"),
        pytest.param("en", "d.o.b. 03/04/2011 - the girl is working for him.", True, id="en-d-o-b-a-full-date"),
        pytest.param("en", "Her bday is 2011 and he sells her.", True, id="en-bday-is-2011"),
        pytest.param("en", "The girl, b. 2012, is doing dates for him.", True, id="en-b-2012"),
        pytest.param("en", "girl 15yrs sold at the motel", True, id="en-girl-15yrs"),
        pytest.param("en", "Girl 14yrs since he met her online, now with him at the motel", True, id="en-girl-14yrs-since"),
        pytest.param("en", "Daughter 14 years back then, 16 now, still with him.", True, id="en-daughter-14-years-back"),
        pytest.param("fr", "fille 15a vendue au motel", True, id="fr-fille-15a"),
        pytest.param("fr", "La fille a 15 a. pis y la vend.", True, id="fr-la-fille-a-15-a"),
        pytest.param("en", "D.O.B. 1990, she works at the spa at night.", False, id="en-d-o-b-1990"),
        pytest.param("en", "She has worked for him 15yrs and he keeps her passport.", False, id="en-worked-15yrs"),
        pytest.param("fr", "fille 25a vendue au motel", False, id="fr-fille-25a"),
    ],
)  # fmt: skip
def test_an_age_written_short_is_an_age(language: str, narrative: str, minor: bool) -> None:
    result = rules(language, narrative)
    assert a_minor(result) is minor, outcome(result)


# 25. Over-calls the review found: too young for a drink told of then by someone an adult now is a minor
#     in the past ("too young to drink back then; she's 30 now"); a house by a lake is no body put in
#     a lake; "finish you off with paperwork" is no threat, with a knife it is.
@pytest.mark.parametrize(
    ("language", "narrative", "minor"),
    [
        pytest.param("en", "She was too young to drink back then; she's 30 now and the agency that exploited her closed.", False, id="en-too-young-back-then-30-now"),
        pytest.param("fr", "Elle était trop jeune pour boire dans ce temps-là; elle a 30 ans maintenant et l'agence qui l'exploitait a fermé.", False, id="fr-trop-jeune-dans-ce-temps-la-30-ans-maintenant"),
        pytest.param("en", "She's too young to drink and he sells her.", True, id="en-too-young-now"),
        pytest.param("fr", "Elle est trop jeune pour boire pis il la vend.", True, id="fr-trop-jeune-maintenant"),
    ],
)  # fmt: skip
def test_too_young_told_of_then_by_an_adult_now_is_a_minor_in_the_past(
    language: str, narrative: str, minor: bool
) -> None:
    result = rules(language, narrative)
    assert a_minor(result) is minor, outcome(result)


@pytest.mark.parametrize(
    ("language", "narrative", "danger"),
    [
        pytest.param("en", "The manager said he'd put them in the lake house for the summer and they'd clean the cottages.", False, id="en-the-lake-house"),
        pytest.param("en", "The boss said he would finish you off with paperwork if you complain about the hours.", False, id="en-finish-you-off-with-paperwork"),
        pytest.param("en", "The pimp threatened to put her in the lake if she talks.", True, id="en-put-her-in-the-lake"),
        pytest.param("en", "He said he'll finish you off with a knife.", True, id="en-finish-you-off-with-a-knife"),
        pytest.param("fr", "Le gérant a dit qu'il allait la jeter dans le lac si elle parle.", True, id="fr-la-jeter-dans-le-lac"),
        pytest.param("fr", "Le gérant a dit qu'il les mettrait au chalet du lac pour l'été.", False, id="fr-le-chalet-du-lac"),
    ],
)  # fmt: skip
def test_a_house_by_a_lake_or_paperwork_is_no_veiled_threat(
    language: str, narrative: str, danger: bool
) -> None:
    result = rules(language, narrative)
    assert a_danger(result) is danger, outcome(result)


# 26. Violence done to "a worker", "one girl", and violence told by its bare participle ("beaten or
#     starved", "raped"), are danger; "hit a deer" is not, and "never beaten" is denied.
@pytest.mark.parametrize(
    ("language", "narrative", "danger"),
    [
        pytest.param("en", "The boss punched a worker in the face this morning.", True, id="en-punched-a-worker"),
        pytest.param("en", "No days off, no pay, or rest, and the boss punched a worker in the face this morning.", True, id="en-no-pay-and-punched-a-worker"),
        pytest.param("en", "She has no phone, beaten or starved every day.", True, id="en-beaten-or-starved"),
        pytest.param("en", "Not paid, beaten, or threatened with deportation, that's what the workers told me happens every day.", True, id="en-not-paid-beaten"),
        pytest.param("fr", "Le boss a frappé un gars au visage à matin.", True, id="fr-a-frappe-un-gars"),
        pytest.param("fr", "Elle a pas de cell, battue ou affamée tous les jours.", True, id="fr-battue-ou-affamee"),
        pytest.param("en", "He hit a deer on the highway last night.", False, id="en-hit-a-deer"),
        pytest.param("en", "She was never beaten, she just wants her pay.", False, id="en-never-beaten"),
    ],
)  # fmt: skip
def test_violence_done_to_a_worker_or_told_by_its_bare_participle_is_danger(
    language: str, narrative: str, danger: bool
) -> None:
    result = rules(language, narrative)
    assert a_danger(result) is danger, outcome(result)


# 27. A threat, a weapon or a move is a danger of the same kind as violence for a negation carried down
#     a list ("no weapons, threats or violence", "aucune menace, arme ou violence"); a list of acts
#     after a negation stays told ("no weapons, threatened or beaten").
@pytest.mark.parametrize(
    ("language", "narrative", "danger"),
    [
        pytest.param("en", "There were no threats, violence or confinement, the workers go home every day.", False, id="en-no-threats-violence-or-confinement"),
        pytest.param("en", "No weapons, threats or violence were seen at the farm.", False, id="en-no-weapons-threats-or-violence"),
        pytest.param("fr", "Aucune arme, menace ou violence n'a été vue à la ferme.", False, id="fr-aucune-arme-menace-ou-violence"),
        pytest.param("en", "No threats, weapons or violence at the house, she comes and goes.", False, id="en-no-threats-weapons-or-violence"),
        pytest.param("en", "There's no violence, threats or confinement, just unpaid overtime.", False, id="en-no-violence-threats-or-confinement"),
        pytest.param("fr", "Aucune menace, arme ou violence, elles rentrent chez elles le soir.", False, id="fr-aucune-menace-arme-ou-violence"),
        pytest.param("en", "She reports no weapons, threats or confinement; she wants help with her wages.", False, id="en-reports-no-weapons-threats-or-confinement"),
        pytest.param("en", "No threats, violence, weapons or confinement were mentioned by the workers.", False, id="en-no-threats-violence-weapons-or-confinement"),
        pytest.param("en", "No beatings, threats or locks; the workers just aren't paid overtime.", False, id="en-no-beatings-threats-or-locks"),
        pytest.param("en", "No threat, weapon or confinement at the farm, they come and go.", False, id="en-no-threat-weapon-or-confinement"),
        pytest.param("en", "There is no danger, threat or violence, they just want their pay.", False, id="en-no-danger-threat-or-violence"),
        pytest.param("fr", "Il n'y a aucun danger, menace ou violence, ils veulent leur paye.", False, id="fr-aucun-danger-menace-ou-violence"),
        pytest.param("en", "No danger, beaten or raped every night.", True, id="en-no-danger-beaten-or-raped"),
        pytest.param("fr", "Personne a rapporté de violence, de séquestration ou de menaces, elles sont libres de partir.", False, id="fr-personne-a-rapporte-de-menaces"),
        pytest.param("fr", "Pas de menaces, de violence ou d'enfermement, juste des heures pas payées.", False, id="fr-pas-de-menaces-de-violence"),
        pytest.param("fr", "Pas de coups, de menaces ou de séquestration; juste des heures pas payées.", False, id="fr-pas-de-coups-de-menaces"),
        pytest.param("en", "No weapons, threatened or beaten every night by the boss.", True, id="en-no-weapons-threatened-or-beaten"),
        pytest.param("fr", "Pas d'armes, menacées ou battues chaque soir par le boss.", True, id="fr-pas-d-armes-menacees-ou-battues"),
    ],
)  # fmt: skip
def test_a_threat_or_a_weapon_is_a_danger_of_the_kind_a_negation_carries_down_a_list(
    language: str, narrative: str, danger: bool
) -> None:
    result = rules(language, narrative)
    assert a_danger(result) is danger, outcome(result)


# 28. The teller's own adult age ("I'm 30", "j'ai 26 ans", "she's 28") tells an adult life as an
#     adult age "now" does, and sets her own child aside; an age "now" under 18 is the child's.
@pytest.mark.parametrize(
    ("language", "narrative", "minor"),
    [
        pytest.param("en", "I'm 30, I have a kid now, and I want to report the farm that kept my passport in 2015.", False, id="en-i-m-30-a-kid-now"),
        pytest.param("en", "I am 27, I have a job, a boyfriend and a kid. I want info about my rights from my old job.", False, id="en-i-am-27-a-job-a-kid"),
        pytest.param("fr", "J'ai 30 ans, j'ai un enfant maintenant, je veux dénoncer l'agence qui m'exploitait en 2015.", False, id="fr-j-ai-30-ans-un-enfant"),
        pytest.param("fr", "J'ai 26 ans, j'ai une job, un chum pis un bébé, je veux savoir mes droits pour mon ancienne job.", False, id="fr-j-ai-26-ans-un-bebe"),
        pytest.param("en", "She's 28, she has a kid of her own now, she left the agency in 2019.", False, id="en-she-s-28-a-kid-of-her-own"),
        pytest.param("en", "I have a job, a husband and a kid now, I'm 33; the spa kept my wages in 2016.", False, id="en-a-kid-now-i-m-33"),
        pytest.param("en", "Im 30 i have a kid now, i want to report my ex boss from 2013 for wages", False, id="en-im-30-texting"),
        pytest.param("en", "I'm 30, I have a job, a husband and a kid, and I want to report my old boss from 2012.", False, id="en-i-m-30-a-job-a-husband-a-kid"),
        pytest.param("en", "I have a kid now, 12, and the guy who pimped me is making her work at the motel", True, id="en-a-kid-now-12"),
    ],
)  # fmt: skip
def test_the_tellers_own_adult_age_sets_her_own_child_aside_and_an_age_now_under_18_does_not(
    language: str, narrative: str, minor: bool
) -> None:
    result = rules(language, narrative)
    assert a_minor(result) is minor, outcome(result)


# 29. A bare "b." before a year is a date of birth, after a name too ("Jessica B. 2011, he sells her"):
#     folded text cannot tell it from an initial ("John B. 2012 was when..."), and a birth missed is worse.
@pytest.mark.parametrize(
    ("language", "narrative", "minor"),
    [
        pytest.param("en", "The girl, b. 2012, is doing dates for him.", True, id="en-the-girl-b-2012"),
        pytest.param("en", "Girl named Jessica B. 2011, he sells her at the motel.", True, id="en-jessica-b-2011"),
        pytest.param("en", "She was b. 2011 and he posts ads of her.", True, id="en-she-was-b-2011"),
        pytest.param("fr", "La fille, Sarah B. 2011, travaille pour lui au motel.", True, id="fr-sarah-b-2011"),
        pytest.param("en", "b. 2012 - the girl works at the motel for him.", True, id="en-b-2012-opens-the-tip"),
        pytest.param("fr", "La fille (b. 2012) travaille au motel pour lui.", True, id="fr-la-fille-b-2012"),
    ],
)  # fmt: skip
def test_a_bare_b_before_a_year_is_a_birth_wherever_it_stands(
    language: str, narrative: str, minor: bool
) -> None:
    result = rules(language, narrative)
    assert a_minor(result) is minor, outcome(result)


# 30. Years just after a word for a person are her age ("girl 15yrs"), even when words after them seem
#     to place a time ("girl 14yrs since he met her", "daughter 14 years back then"): an over-call at worst.
@pytest.mark.parametrize(
    ("language", "narrative", "minor"),
    [
        pytest.param("en", "girl 15yrs sold at the motel", True, id="en-girl-15yrs"),
        pytest.param("en", "daughter 14 years old, he sells her at the motel", True, id="en-daughter-14-years-old"),
    ],
)  # fmt: skip
def test_years_after_a_person_are_her_age(language: str, narrative: str, minor: bool) -> None:
    result = rules(language, narrative)
    assert a_minor(result) is minor, outcome(result)


# 31. A bare participle of violence names food ("whipped coffee", "battered fish", "crème fouettée"),
#     a way ("a beaten path") or a game won over someone ("beat a guy at pool"): no danger; "beat her at
#     the motel", "whipped with a belt", "beaten at cards by her pimp" and the French passive are.
@pytest.mark.parametrize(
    ("language", "narrative", "danger"),
    [
        pytest.param("en", "She works at the café making whipped coffee, the owner keeps her passport.", False, id="en-whipped-coffee"),
        pytest.param("en", "She fries battered fish at the chip shop; the boss holds her passport.", False, id="en-battered-fish"),
        pytest.param("en", "The workers walk a beaten path to the fields, the farmer keeps their passports.", False, id="en-a-beaten-path"),
        pytest.param("en", "He beat a guy at pool last night and won 50 dollars, the women at the bar are adults.", False, id="en-beat-a-guy-at-pool"),
        pytest.param("en", "The boss beat a worker at chess during lunch.", False, id="en-beat-a-worker-at-chess"),
        pytest.param("fr", "Elle fait de la crème fouettée au café, le patron garde son passeport.", False, id="fr-creme-fouettee"),
        pytest.param("en", "He beat her at the motel last night.", True, id="en-beat-her-at-the-motel"),
        pytest.param("fr", "Elle a été battue aux cartes par son pimp, elle a des bleus partout.", True, id="fr-battue-aux-cartes-par-son-pimp"),
        pytest.param("fr", "Elle est battue aux dards du bar par son pimp à soir.", True, id="fr-battue-aux-dards"),
        pytest.param("en", "She was beaten at cards by her pimp, she has bruises everywhere.", True, id="en-beaten-at-cards-by-her-pimp"),
        pytest.param("en", "She was whipped with a belt in the kitchen.", True, id="en-whipped-with-a-belt"),
        pytest.param("fr", "Le boss a battu un gars au garage hier soir.", True, id="fr-battu-un-gars-au-garage"),
    ],
)  # fmt: skip
def test_a_participle_of_violence_that_names_food_a_path_or_a_game_won_is_no_danger(
    language: str, narrative: str, danger: bool
) -> None:
    result = rules(language, narrative)
    assert a_danger(result) is danger, outcome(result)


# 32. Past 12, "at 13" beside another hour is an hour in a clause that tells a working day in the
#     present ("shift is at 13", "opens at 14"); it is an age when it opens the sentence, follows a
#     verb that dates a life, or a past of work ("worked at 14").
@pytest.mark.parametrize(
    ("language", "narrative", "minor"),
    [
        pytest.param("en", "Shift is at 13 and ends at 9 pm, the employer holds their passports.", False, id="en-shift-is-at-13"),
        pytest.param("en", "The kitchen opens at 14 and closes at 11 pm, the boss keeps their passports.", False, id="en-opens-at-14"),
        pytest.param("en", "She worked at 14 at the motel, picked up at 9 pm.", True, id="en-worked-at-14"),
        pytest.param("en", "They got her at 15 and drop her at the truck stop at midnight.", True, id="en-got-her-at-15-beside-midnight"),
        pytest.param("en", "At 13 she starts at the motel at 9 pm.", True, id="en-at-13-opens-a-working-sentence"),
    ],
)  # fmt: skip
def test_an_hour_past_12_is_an_hour_only_in_a_clause_of_a_working_day_in_the_present(
    language: str, narrative: str, minor: bool
) -> None:
    result = rules(language, narrative)
    assert a_minor(result) is minor, outcome(result)
