"""The gate's decision table, policy v2 (gate-2026.12.1): every combination of urgency, consent, who
established each ground, triage's possibilities, channel and legal order, checked against the rules
restated here from issue 13 independently of the policy code; then the minimum-necessary table,
field by field, on a package's content.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Literal

import pytest

from schemas.disclosure import (
    Basis,
    Decision,
    LegalReference,
    PackageField,
    PackagePerson,
    RecipientKind,
    ReviewQueue,
)
from schemas.sealed import PersonRelation
from schemas.tip import Answer, Channel, Consent, Location, TipFacts, TipSubmission
from schemas.triage import IndicatorFinding, Strength, Urgency
from services.disclosure.domain import packages
from services.disclosure.domain.packages import Opened
from services.disclosure.domain.policy import POLICY_VERSION, Case, Grounds, decide, load_rules
from services.disclosure.domain.routing import load_routing
from tests.factories import tip_body

Source = Literal["none", "recorded", "text"]
OTTAWA = Location(country="CA", province="ON", city="Ottawa")
ROUTING = load_routing()
ORDER = LegalReference(
    statute="Child, Youth and Family Services Act, 2017", section="125(1)", docket="CV-26-1234"
)
SPOKEN = (Channel.PHONE, Channel.CHAT)
COMBINATIONS = list(
    itertools.product(
        Urgency,
        (False, True),
        (False, True),
        ("none", "recorded", "text"),
        ("none", "recorded", "text"),
        (False, True),
        Channel,
        (None, ORDER),
    )
)
# Restated from issue 13 item 2: what a recipient needs to act on each basis.
TO_ACT = {
    Basis.CHILD_PROTECTION: {
        "situation",
        "minor_ground",
        "danger",
        "location",
        "when",
        "suspect_names",
        "victim_names",
    },
    Basis.IMMINENT_DANGER: {"situation", "danger", "location", "when", "suspect_names", "victim_names"},
    Basis.LEGAL_OBLIGATION: {"situation", "location", "when", "suspect_names"},
    Basis.CONSENT: {
        "situation",
        "minor_ground",
        "danger",
        "location",
        "when",
        "suspect_names",
        "victim_names",
    },
}
SERVICES_ONLY = {"victim_profile", "needs"}


def expected(
    urgency: Urgency, police: bool, identity: bool, minor: Source, danger: Source, possible: bool,
    channel: Channel, order: LegalReference | None,
) -> tuple[Decision, Basis, set[str], set[str], ReviewQueue | None]:  # fmt: skip
    established = {g for g, source in ((Basis.CHILD_PROTECTION, minor), (Basis.IMMINENT_DANGER, danger)) if source == "recorded"}  # fmt: skip
    written = {
        g
        for g, source in ((Basis.CHILD_PROTECTION, minor), (Basis.IMMINENT_DANGER, danger))
        if source == "text"
    }
    if Basis.CHILD_PROTECTION in established:
        basis = Basis.CHILD_PROTECTION
    elif Basis.IMMINENT_DANGER in established:
        basis = Basis.IMMINENT_DANGER
    elif order:
        basis = Basis.LEGAL_OBLIGATION
    elif Basis.CHILD_PROTECTION in written:
        basis = Basis.CHILD_PROTECTION
    elif Basis.IMMINENT_DANGER in written:
        basis = Basis.IMMINENT_DANGER
    elif police:
        basis = Basis.CONSENT
    else:
        basis = Basis.NONE
    urgent = urgency is Urgency.URGENT
    if basis is Basis.NONE and not possible:
        return Decision.DO_NOT_FORWARD, basis, set(), set(), None
    # Web and email: always a supervisor first; phone and chat: at once only on the specialist's own ground.
    at_once = urgent and channel in SPOKEN and basis in established
    queue = None if at_once else ReviewQueue.EXPEDITED if urgent else ReviewQueue.STANDARD
    decision = Decision.FORWARD if at_once else Decision.HOLD_FOR_REVIEW
    if basis is Basis.NONE:
        return decision, basis, set(), set(), queue
    minor_now = basis is Basis.CHILD_PROTECTION or Basis.CHILD_PROTECTION in established
    recipients = {"ottawa-police-htu", "cas-ottawa"} if minor_now else {"ottawa-police-htu"}
    fields = set(TO_ACT[basis])
    if police:
        fields |= {"narrative", *SERVICES_ONLY}
    if identity:
        fields |= {"reporter_role", "caller_contact"}
    return decision, basis, recipients, fields, queue


@pytest.mark.parametrize(
    ("urgency", "police", "identity", "minor", "danger", "possible", "channel", "order"), COMBINATIONS
)
def test_the_gate_follows_the_decision_table_of_policy_v2(
    urgency: Urgency, police: bool, identity: bool, minor: Source, danger: Source, possible: bool,
    channel: Channel, order: LegalReference | None,
) -> None:  # fmt: skip
    grounds = Grounds(
        recorded=frozenset(g for g, s in ((Basis.CHILD_PROTECTION, minor), (Basis.IMMINENT_DANGER, danger)) if s == "recorded"),
        unconfirmed=frozenset(g for g, s in ((Basis.CHILD_PROTECTION, minor), (Basis.IMMINENT_DANGER, danger)) if s == "text"),
        possible=possible,
    )  # fmt: skip
    case = Case(
        urgency=urgency, channel=channel, consent=Consent(law_enforcement=police, share_identity=identity),
        grounds=grounds, location=OTTAWA, outside_canada=False, legal_reference=order,
    )  # fmt: skip
    gate = decide(case, ROUTING)
    decision, basis, recipients, fields, queue = expected(
        urgency, police, identity, minor, danger, possible, channel, order
    )
    assert (gate.decision, gate.basis, gate.queue) == (decision, basis, queue)
    assert {recipient.agency_id for recipient in gate.recipients} == recipients
    assert {field.value for field in gate.fields} == fields
    assert gate.reasons[0].code == f"basis.{basis.value}"
    assert gate.policy_version == POLICY_VERSION == "gate-2026.12.1"
    if basis is Basis.LEGAL_OBLIGATION:
        assert gate.approvals_needed == 2
    if channel in (Channel.WEB, Channel.EMAIL):
        assert gate.decision is not Decision.FORWARD
    if not police:
        assert not {field.value for field in gate.fields} & (SERVICES_ONLY | {"narrative"})


def test_the_table_covers_every_combination() -> None:
    assert len(COMBINATIONS) == 3 * 2 * 2 * 3 * 3 * 2 * 4 * 2


def test_a_later_decision_never_goes_at_once_even_on_the_specialists_ground() -> None:
    case = Case(
        urgency=Urgency.URGENT, channel=Channel.PHONE, consent=Consent(),
        grounds=Grounds(recorded=frozenset({Basis.CHILD_PROTECTION})), location=OTTAWA, outside_canada=False,
        first_decision=False,
    )  # fmt: skip
    gate = decide(case, ROUTING)
    assert (gate.decision, gate.queue) == (Decision.HOLD_FOR_REVIEW, ReviewQueue.EXPEDITED)


def test_the_victims_name_stays_home_when_the_victim_called_without_consent_to_share_identity() -> None:
    def fields(identity: bool) -> frozenset[PackageField]:
        case = Case(
            urgency=Urgency.URGENT, channel=Channel.PHONE, consent=Consent(share_identity=identity),
            grounds=Grounds(recorded=frozenset({Basis.IMMINENT_DANGER})), location=OTTAWA, outside_canada=False,
            reporter_is_victim=True,
        )  # fmt: skip
        return decide(case, ROUTING).fields

    assert PackageField.VICTIM_NAMES not in fields(identity=False)
    assert PackageField.SUSPECT_NAMES in fields(identity=False)
    assert PackageField.VICTIM_NAMES in fields(identity=True)


def test_the_expedited_queue_is_due_within_fifteen_minutes_as_policy_data() -> None:
    windows = load_rules().review_windows
    assert windows[ReviewQueue.EXPEDITED].total_seconds() == 15 * 60
    assert windows[ReviewQueue.STANDARD].total_seconds() == 24 * 3600


# --- minimum necessary, field by field on what a package carries ------------------------------

FACTS = TipFacts.of(
    TipSubmission.model_validate(
        tip_body(
            assessment={"minor_involved": "yes", "imminent_danger": "yes", "victim_age": 15, "trafficking_types": ["sex"]},
            victim_profile={"age": 15, "gender_identity": "two_spirit", "languages": ["cr", "en"], "indigenous": True,
                            "status_in_canada": "no_status"},
        )
    )
)  # fmt: skip
OPENED = Opened(
    narratives=["the caller's own words"],
    named_persons=[PackagePerson(name="suspect name", relation=PersonRelation.SUSPECT),
                   PackagePerson(name="victim name", relation=PersonRelation.VICTIM),
                   PackagePerson(name="witness name", relation=PersonRelation.WITNESS)],
    contact=None,
)  # fmt: skip
# Restated per basis: which keys of the package's content are filled (others absent).
CONTENT_BY_BASIS = {
    Basis.CHILD_PROTECTION: {"trafficking_types", "indicators", "minor_involved", "victim_age", "imminent_danger",
                             "location", "received_at", "suspects", "victims"},
    Basis.IMMINENT_DANGER: {"trafficking_types", "indicators", "imminent_danger", "location", "received_at",
                            "suspects", "victims"},
    Basis.LEGAL_OBLIGATION: {"trafficking_types", "indicators", "location", "received_at", "suspects"},
    Basis.CONSENT: {"trafficking_types", "indicators", "minor_involved", "victim_age", "imminent_danger",
                    "location", "received_at", "suspects", "victims", "narrative", "victim_profile", "needs"},
}  # fmt: skip
BASIS_CASES = {
    Basis.CHILD_PROTECTION: (Grounds(recorded=frozenset({Basis.CHILD_PROTECTION})), None, Consent()),
    Basis.IMMINENT_DANGER: (Grounds(recorded=frozenset({Basis.IMMINENT_DANGER})), None, Consent()),
    Basis.LEGAL_OBLIGATION: (Grounds(), ORDER, Consent()),
    Basis.CONSENT: (Grounds(), None, Consent(law_enforcement=True)),
}


@pytest.mark.parametrize("basis", list(CONTENT_BY_BASIS))
def test_each_basis_carries_field_by_field_only_what_its_recipient_needs(basis: Basis) -> None:
    grounds, order, consent = BASIS_CASES[basis]
    case = Case(
        urgency=Urgency.URGENT, channel=Channel.PHONE, consent=consent, grounds=grounds, location=OTTAWA,
        outside_canada=False, legal_reference=order,
    )  # fmt: skip
    gate = decide(case, ROUTING)
    assert gate.basis is basis
    findings = [
        IndicatorFinding(code="HT-01", strength=Strength.STRONG),
        IndicatorFinding(code="HT-22", strength=Strength.CONTEXT),
    ]
    content = packages.content(
        gate.fields, FACTS, findings, True, True,
        datetime(2026, 11, 30, tzinfo=UTC), OPENED,
    ).model_dump(exclude_none=True)  # fmt: skip
    assert set(content) == CONTENT_BY_BASIS[basis]
    assert "caller_contact" not in content and "reporter_role" not in content
    if "victim_age" in content:
        assert content["victim_age"] == 15 and content["minor_involved"] == Answer.YES
    assert [person["name"] for person in content.get("suspects", [])] == ["suspect name"]
    assert all(person["name"] != "witness name" for person in content.get("victims", []))
    codes = [finding["code"] for finding in content["indicators"]]
    assert codes == (["HT-01", "HT-22"] if consent.law_enforcement else ["HT-01"]), (
        "context names who the victim is"
    )
    if not consent.law_enforcement:
        dumped = str(content)
        for profile_value in ("two_spirit", "no_status", "'cr'", "indigenous", "legal", "emergency_shelter"):
            assert profile_value not in dumped


def test_a_file_outside_canada_goes_to_the_national_unit() -> None:
    recipients = ROUTING.recipients(
        Location(country="US", city="Detroit"), outside_canada=True, minor_involved=True
    )
    assert [(r.agency_id, r.kind) for r in recipients] == [("rcmp-htncc", RecipientKind.NATIONAL)]


def test_a_place_without_a_province_goes_to_the_national_unit() -> None:
    recipients = ROUTING.recipients(Location(country="CA"), outside_canada=False, minor_involved=False)
    assert [r.agency_id for r in recipients] == ["rcmp-htncc"]


def test_a_city_without_its_own_unit_goes_to_the_provincial_police_and_cities_match_without_accents() -> None:
    assert [
        r.agency_id
        for r in ROUTING.recipients(Location(country="CA", province="QC", city="Joliette"), False, False)
    ] == ["surete-du-quebec"]
    assert [r.agency_id for r in ROUTING.recipients(Location(country="CA", province="QC", city="montreal"), False, True)] == [
        "spvm", "dpj-qc",
    ]  # fmt: skip


def test_every_province_and_territory_has_police_and_child_protection() -> None:
    provinces = {"AB", "BC", "MB", "NB", "NL", "NS", "NT", "NU", "ON", "PE", "QC", "SK", "YT"}
    assert set(ROUTING.police) == provinces
    assert set(ROUTING.child_protection) == provinces


def test_a_legal_reference_names_a_docket_or_an_order_and_compares_without_case_or_spacing() -> None:
    with pytest.raises(ValueError, match="docket or the order number"):
        LegalReference(statute="Youth Protection Act", section="39")
    same = LegalReference(
        statute="child, youth and family services act,  2017", section="125(1)", docket="cv-26-1234"
    )
    assert ORDER.same_as(same)
    assert not ORDER.same_as(LegalReference(statute=ORDER.statute, section="125(2)", docket=ORDER.docket))
