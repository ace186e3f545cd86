"""The gate's decision table: every combination of urgency, consent, minor, danger, channel and legal
order, checked against the rules restated here independently of the policy code.
"""

import itertools

import pytest

from schemas.disclosure import Basis, Decision, PackageField, RecipientKind
from schemas.tip import Channel, Consent, Location
from schemas.triage import Urgency
from services.disclosure.domain.policy import Case, decide
from services.disclosure.domain.routing import load_routing

OTTAWA = Location(country="CA", province="ON", city="Ottawa")
ROUTING = load_routing()
COMBINATIONS = list(
    itertools.product(
        Urgency,
        (False, True),
        (False, True),
        (False, True),
        (False, True),
        Channel,
        (None, "CYFSA s. 125(1)"),
    )
)


def expected(
    urgency: Urgency,
    police: bool,
    identity: bool,
    minor: bool,
    danger: bool,
    channel: Channel,
    order: str | None,
) -> tuple[Decision, Basis, set[str], set[PackageField]]:
    if minor:
        basis = Basis.CHILD_PROTECTION
    elif danger:
        basis = Basis.IMMINENT_DANGER
    elif order:
        basis = Basis.LEGAL_OBLIGATION
    elif police:
        basis = Basis.CONSENT
    else:
        return Decision.DO_NOT_FORWARD, Basis.NONE, set(), set()
    urgent = urgency is Urgency.URGENT
    mandatory_now = basis in (Basis.CHILD_PROTECTION, Basis.IMMINENT_DANGER)
    spoken_consent = basis is Basis.CONSENT and channel in (Channel.PHONE, Channel.CHAT)
    decision = Decision.FORWARD if urgent and (mandatory_now or spoken_consent) else Decision.HOLD_FOR_REVIEW
    recipients = {"ottawa-police-htu", "cas-ottawa"} if minor else {"ottawa-police-htu"}
    fields = {PackageField.SITUATION, PackageField.LOCATION, PackageField.WHEN, PackageField.NAMED_PERSONS}
    if police:
        fields.add(PackageField.NARRATIVE)
    if identity:
        fields |= {PackageField.REPORTER_ROLE, PackageField.CALLER_CONTACT}
    return decision, basis, recipients, fields


@pytest.mark.parametrize(
    ("urgency", "police", "identity", "minor", "danger", "channel", "order"), COMBINATIONS
)
def test_the_gate_follows_the_decision_table(
    urgency: Urgency,
    police: bool,
    identity: bool,
    minor: bool,
    danger: bool,
    channel: Channel,
    order: str | None,
) -> None:
    case = Case(
        urgency=urgency, channel=channel, consent=Consent(law_enforcement=police, share_identity=identity),
        minor_involved=minor, imminent_danger=danger, location=OTTAWA, outside_canada=False, legal_reference=order,
    )  # fmt: skip
    gate = decide(case, ROUTING)
    decision, basis, recipients, fields = expected(urgency, police, identity, minor, danger, channel, order)
    assert (gate.decision, gate.basis) == (decision, basis)
    assert {recipient.agency_id for recipient in gate.recipients} == recipients
    assert gate.fields == fields
    assert gate.reasons[0].code == f"basis.{basis.value}"
    if basis is Basis.LEGAL_OBLIGATION:
        assert gate.approvals_needed == 2
    if not identity:
        assert PackageField.CALLER_CONTACT not in gate.fields


def test_the_table_covers_every_combination() -> None:
    assert len(COMBINATIONS) == 3 * 2 * 2 * 2 * 2 * 4 * 2


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
