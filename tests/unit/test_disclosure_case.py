"""The disclosure case as a plain object: the gate's decision table through it, and the rules that
outlive one decision (revisions, consent changes, follow-ups, supervisors, acknowledgements).
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from schemas.disclosure import (
    Basis,
    CaseState,
    Decision,
    DisclosureAcknowledgedV1,
    DisclosureCancelledV1,
    DisclosureDecidedV1,
    DisclosureForwardedV1,
    DisclosureReviewedV1,
    LiaisonAcknowledgementV1,
    PackageField,
)
from schemas.envelope import utc_now
from schemas.intake import TipReceivedV1
from schemas.tip import Channel, Consent
from schemas.triage import Urgency
from services.common.ids import derived_event_id
from services.disclosure.domain.case import (
    REVIEW_WITHIN,
    STATE_OF,
    Case,
    CaseNotPending,
    Outcome,
    SameSupervisor,
    UnknownPackage,
)
from services.disclosure.domain.packages import Opened
from services.disclosure.domain.routing import load_routing
from tests.factories import consent_recorded, tip_received, tip_supplemented, tip_triaged
from tests.unit.test_disclosure_policy import COMBINATIONS, expected

ROUTING = load_routing()
OTTAWA = {"country": "CA", "province": "ON", "city": "Ottawa"}
POLICE, PROTECTION = "ottawa-police-htu", "cas-ottawa"
REFERENCE = "LE-7K3M-9QXD"
ORDER = "Youth Protection Act (Quebec), s. 39"
FIRST, SECOND = uuid.uuid4(), uuid.uuid4()
IDENTITY = {PackageField.REPORTER_ROLE, PackageField.CALLER_CONTACT}


def a_tip(channel: str = "web", police: bool = False, identity: bool = False) -> TipReceivedV1:
    return tip_received(
        channel=channel, location=OTTAWA, consent={"law_enforcement": police, "share_identity": identity}
    )


def decided_case(
    tip: TipReceivedV1, urgency: str = "non_urgent", minor: bool = False, danger: bool = False
) -> tuple[Case, Outcome]:
    event = tip_triaged(tip, urgency, minor=minor, danger=danger)
    case = Case.open(event, REFERENCE, tip.facts.channel)
    return case, case.on_triage(event, None, ROUTING, utc_now())


def actions(outcome: Outcome) -> list[str]:
    forwarded = [dispatch.note.action for dispatch in outcome.issue.dispatches] if outcome.issue else []
    return [note.action for note in outcome.notes] + forwarded


def events(outcome: Outcome, kind: type[Any]) -> list[Any]:
    staged = (
        [*outcome.events, *(d.event for d in outcome.issue.dispatches)] if outcome.issue else outcome.events
    )
    return [event for event in staged if isinstance(event, kind)]


@pytest.mark.parametrize(
    ("urgency", "police", "identity", "minor", "danger", "channel", "order"), COMBINATIONS
)
def test_a_new_case_stands_on_the_decision_table_and_forwards_only_what_the_gate_permits(
    urgency: Urgency,
    police: bool,
    identity: bool,
    minor: bool,
    danger: bool,
    channel: Channel,
    order: str | None,
) -> None:
    tip = a_tip(channel.value, police, identity)
    event = tip_triaged(tip, urgency.value, minor=minor, danger=danger)
    case = replace(Case.open(event, REFERENCE, channel), legal_reference=order)

    outcome = case.on_triage(event, None, ROUTING, utc_now())

    decision, basis, recipients, fields = expected(urgency, police, identity, minor, danger, channel, order)
    assert (case.decision, case.basis, case.state) == (decision, basis, STATE_OF[decision])
    assert {recipient.agency_id for recipient in case.recipients} == recipients
    assert case.fields == fields
    [decided] = events(outcome, DisclosureDecidedV1)
    assert (decided.decision, decided.basis, decided.state) == (decision, basis, STATE_OF[decision])
    assert decided.event_id == derived_event_id("disclosure", event.event_id, "disclosure.decided")
    assert actions(outcome)[0] == "decided"
    if decision is Decision.FORWARD:
        assert outcome.issue is not None
        sent = [dispatch.package for dispatch in outcome.issue.dispatches]
        assert {package.agency_id for package in sent} == recipients
        assert all(package.fields == fields and package.basis is basis for package in sent)
        assert case.packages == sent and case.forwarded_at is not None
    else:
        assert outcome.issue is None and case.packages == [] and case.forwarded_at is None
    if not identity:
        assert not case.fields & IDENTITY
    if not police:
        assert PackageField.NARRATIVE not in case.fields
    if basis is Basis.NONE:
        assert case.fields == frozenset() and case.recipients == ()


def test_a_supervisor_must_review_within_24_hours_of_receipt() -> None:
    case, _ = decided_case(a_tip(police=True))
    assert case.review_due_at == case.received_at + REVIEW_WITHIN == case.received_at + timedelta(hours=24)


def test_an_older_or_repeated_triage_revision_changes_nothing() -> None:
    tip = a_tip(police=True)
    case, _ = decided_case(tip)
    revised = tip_triaged(tip, "urgent", danger=True, revision=2)
    assert not case.on_triage(revised, None, ROUTING, utc_now()).is_empty
    before = replace(case, verdicts=list(case.verdicts), packages=list(case.packages))

    for stale in (revised, tip_triaged(tip, "non_urgent", revision=1)):
        assert case.on_triage(stale, None, ROUTING, utc_now()).is_empty
    assert case == before


def test_a_later_revision_decides_a_pending_case_again() -> None:
    tip = a_tip(police=True)
    case, _ = decided_case(tip)
    assert (case.state, case.basis) == (CaseState.PENDING_REVIEW, Basis.CONSENT)

    outcome = case.on_triage(tip_triaged(tip, "urgent", minor=True, revision=2), None, ROUTING, utc_now())

    assert (case.state, case.basis, case.triage.revision) == (CaseState.FORWARDED, Basis.CHILD_PROTECTION, 2)
    assert actions(outcome) == ["decided", "forwarded", "forwarded"]
    assert [note.detail["trigger"] for note in outcome.notes] == ["triage.revision.2"]
    assert outcome.notes[0].detail["new_case"] is False


def test_a_forwarded_case_stays_forwarded_whatever_a_revision_says() -> None:
    tip = a_tip()
    case, _ = decided_case(tip, "urgent", minor=True)
    outcome = case.on_triage(tip_triaged(tip, "non_urgent", revision=2), None, ROUTING, utc_now())
    assert case.state is CaseState.FORWARDED and case.basis is Basis.CHILD_PROTECTION
    assert actions(outcome) == ["revision_noted"] and outcome.events == () and outcome.issue is None
    assert case.triage.revision == 2


def declined(tip: TipReceivedV1) -> Case:
    case, _ = decided_case(tip)
    case.decline(FIRST, "caller_safety", utc_now())
    assert case.state is CaseState.DECLINED
    return case


def test_a_declined_case_stays_declined_on_a_revision_without_an_urgent_mandatory_ground() -> None:
    tip = a_tip(police=True)
    case = declined(tip)
    for revision, (urgency, danger) in enumerate((("non_urgent", True), ("urgent", False)), 2):
        outcome = case.on_triage(
            tip_triaged(tip, urgency, danger=danger, revision=revision), None, ROUTING, utc_now()
        )
        assert actions(outcome) == ["revision_noted"]
    assert case.state is CaseState.DECLINED and case.packages == []


def test_a_supervisors_decline_stands_even_when_an_urgent_spoken_consent_would_forward_at_once() -> None:
    tip = a_tip("phone", police=True)
    case = declined(tip)
    outcome = case.on_triage(tip_triaged(tip, "urgent", revision=2), None, ROUTING, utc_now())
    assert actions(outcome) == ["revision_noted"]
    assert case.state is CaseState.DECLINED and case.packages == []


def test_an_urgent_mandatory_ground_forwards_a_declined_case_at_once() -> None:
    tip = a_tip(police=True)
    case = declined(tip)
    outcome = case.on_triage(tip_triaged(tip, "urgent", minor=True, revision=2), None, ROUTING, utc_now())
    assert case.state is CaseState.FORWARDED and case.basis is Basis.CHILD_PROTECTION
    assert actions(outcome) == ["decided", "forwarded", "forwarded"]
    assert case.reviewed_at is None, "a forward no person approved waits for a supervisor's review after it"


def test_a_withdrawal_cancels_a_pending_consent_forward() -> None:
    tip = a_tip(police=True)
    case, _ = decided_case(tip)
    withdrawal = consent_recorded(tip, 2, ["law_enforcement"])

    outcome = case.on_consent(withdrawal, ROUTING, utc_now())

    assert case.state is CaseState.CANCELLED and case.packages == []
    [note] = outcome.notes
    assert (note.action, note.detail["previous_basis"], note.detail["consent_version"]) == (
        "forward_cancelled", "consent", 2,
    )  # fmt: skip
    [cancelled] = events(outcome, DisclosureCancelledV1)
    assert (cancelled.basis, cancelled.consent_version, cancelled.causation_id) == (
        Basis.CONSENT, 2, withdrawal.event_id,
    )  # fmt: skip
    with pytest.raises(CaseNotPending):
        case.approve(FIRST, "consent_confirmed", None, withdrawal.consent, ROUTING, utc_now())


def test_a_withdrawal_never_cancels_a_mandatory_forward_but_takes_the_callers_words_out() -> None:
    tip = a_tip(police=True)
    case, _ = decided_case(tip, danger=True)
    assert PackageField.NARRATIVE in case.fields

    outcome = case.on_consent(consent_recorded(tip, 2, ["law_enforcement"]), ROUTING, utc_now())

    assert (case.state, case.basis) == (CaseState.PENDING_REVIEW, Basis.IMMINENT_DANGER)
    assert PackageField.NARRATIVE not in case.fields
    assert actions(outcome) == ["consent_withdrawn_mandatory_basis_stands", "decided"]
    assert events(outcome, DisclosureCancelledV1) == []


def test_a_withdrawal_after_the_forward_calls_nothing_back_and_is_audited() -> None:
    consented = a_tip("phone", police=True)
    by_consent, _ = decided_case(consented, "urgent")
    mandatory = a_tip(police=True)
    by_danger, _ = decided_case(mandatory, "urgent", danger=True)

    for case, tip, effect in (
        (by_consent, consented, "already_forwarded"),
        (by_danger, mandatory, "mandatory_basis_stands"),
    ):
        outcome = case.on_consent(consent_recorded(tip, 2, ["law_enforcement"]), ROUTING, utc_now())
        [note] = outcome.notes
        assert (note.action, note.detail["effect"], note.detail["state"]) == (
            "consent_changed",
            effect,
            "forwarded",
        )
        assert outcome.events == () and case.state is CaseState.FORWARDED


def test_a_consent_identical_in_effect_changes_nothing() -> None:
    tip = a_tip(police=True)
    case, _ = decided_case(tip)
    repeated = consent_recorded(tip, 1, [], **tip.facts.consent.model_dump())
    assert case.on_consent(repeated, ROUTING, utc_now()).is_empty
    assert case.state is CaseState.PENDING_REVIEW


def test_a_new_consent_to_share_identity_decides_again_with_who_called() -> None:
    tip = a_tip(police=True)
    case, _ = decided_case(tip)
    outcome = case.on_consent(
        consent_recorded(tip, 2, [], law_enforcement=True, share_identity=True), ROUTING, utc_now()
    )
    assert case.fields >= IDENTITY and case.state is CaseState.PENDING_REVIEW
    assert [note.detail["trigger"] for note in outcome.notes] == ["consent.version.2"]


def test_a_supplement_before_any_forward_only_waits_for_it() -> None:
    tip = a_tip(police=True)
    case, _ = decided_case(tip)
    assert case.on_supplement(tip_supplemented(tip), None, ROUTING, utc_now()).is_empty


def test_a_supplement_after_a_forward_goes_to_each_first_agency_with_only_the_fields_consent_still_permits() -> (
    None
):
    tip = a_tip("phone", police=True, identity=True)
    case, first = decided_case(tip, "urgent", minor=True)
    assert first.issue is not None
    firsts = {d.package.agency_id: d.package.package_id for d in first.issue.dispatches}
    assert set(firsts) == {POLICE, PROTECTION}
    follow_up = tip_supplemented(tip, needs=["medical"])
    now_consent = Consent(law_enforcement=False, share_identity=False)

    outcome = case.on_supplement(follow_up, now_consent, ROUTING, utc_now())

    assert outcome.issue is not None and outcome.issue.supplement_id == follow_up.supplement_id
    sent = [dispatch.package for dispatch in outcome.issue.dispatches]
    assert {package.agency_id: package.supplementary_to for package in sent} == firsts
    assert all(package.basis is Basis.CHILD_PROTECTION for package in sent)
    assert all(not package.fields & (IDENTITY | {PackageField.NARRATIVE}) for package in sent)
    assert "medical" in outcome.issue.facts.needs
    assert case.state is CaseState.FORWARDED and len(case.packages) == 4
    assert len(case.first_packages) == 2


def test_a_supplement_to_a_case_forwarded_on_consent_stops_once_consent_is_withdrawn() -> None:
    tip = a_tip("chat", police=True)
    case, _ = decided_case(tip, "urgent")
    follow_up = tip_supplemented(tip)
    outcome = case.on_supplement(follow_up, Consent(), ROUTING, utc_now())
    assert outcome.issue is None
    [note] = outcome.notes
    assert (note.action, note.detail) == (
        "supplement_not_forwarded", {"cause": "no_basis", "supplement_id": str(follow_up.supplement_id)},
    )  # fmt: skip


def test_an_urgent_forward_is_reviewed_after_it_went_out_once() -> None:
    case, _ = decided_case(a_tip(), "urgent", minor=True)
    verdict, outcome = case.approve(FIRST, "reviewed_after_forward", None, None, ROUTING, utc_now())
    assert (verdict.state, verdict.approvals, verdict.approvals_needed) == (CaseState.FORWARDED, 1, 1)
    assert actions(outcome) == ["reviewed_after_forward"] and case.reviewed_at is not None
    [reviewed] = events(outcome, DisclosureReviewedV1)
    assert (reviewed.verdict, reviewed.basis) == ("reviewed_after_forward", Basis.CHILD_PROTECTION)
    with pytest.raises(CaseNotPending):
        case.approve(SECOND, "reviewed_after_forward", None, None, ROUTING, utc_now())


def test_an_approval_without_a_basis_is_refused_with_the_policys_reasons_and_changes_nothing() -> None:
    case, _ = decided_case(a_tip())
    assert case.state is CaseState.NOT_FORWARDED
    verdict, outcome = case.approve(FIRST, "consent_confirmed", None, None, ROUTING, utc_now())
    assert verdict.refused[0].code == "basis.none" and verdict.state is CaseState.NOT_FORWARDED
    assert actions(outcome) == ["approval_refused"] and outcome.events == ()
    assert case.state is CaseState.NOT_FORWARDED and case.verdicts == [] and case.packages == []


def test_one_approval_forwards_a_consented_case_with_its_approver_named() -> None:
    case, _ = decided_case(a_tip(police=True))
    verdict, outcome = case.approve(FIRST, "consent_confirmed", None, None, ROUTING, utc_now())
    assert (verdict.state, verdict.approvals, verdict.approvals_needed) == (CaseState.FORWARDED, 1, 1)
    assert actions(outcome) == ["approved", "forwarded"]
    assert outcome.issue is not None and outcome.issue.approvers == (FIRST,)
    [reviewed] = events(outcome, DisclosureReviewedV1)
    assert (reviewed.verdict, reviewed.state) == ("approved", CaseState.FORWARDED)
    assert [event.causation_id for event in events(outcome, DisclosureForwardedV1)] == [None]


def test_a_legal_obligation_needs_two_different_supervisors() -> None:
    case, _ = decided_case(a_tip())
    first, outcome = case.approve(FIRST, "legal_obligation", ORDER, None, ROUTING, utc_now())
    assert (first.state, first.approvals, first.approvals_needed) == (CaseState.PENDING_REVIEW, 1, 2)
    assert outcome.issue is None and case.legal_reference == ORDER and case.basis is Basis.LEGAL_OBLIGATION

    with pytest.raises(SameSupervisor):
        case.approve(FIRST, "legal_obligation", ORDER, None, ROUTING, utc_now())
    assert case.approvers == (FIRST,)

    second, outcome = case.approve(SECOND, "consent_confirmed", None, None, ROUTING, utc_now())
    assert (second.state, second.approvals, second.approvals_needed) == (CaseState.FORWARDED, 2, 2)
    assert outcome.issue is not None and outcome.issue.approvers == (FIRST, SECOND)
    package = case.package(outcome.issue.dispatches[0].package, outcome.issue, Opened())
    assert (package.basis, package.legal_reference) == (Basis.LEGAL_OBLIGATION, ORDER)
    assert [approver.token_id for approver in package.approved_by] == [FIRST, SECOND]


def test_only_a_pending_case_can_be_declined() -> None:
    case, _ = decided_case(a_tip(police=True))
    verdict, outcome = case.decline(FIRST, "caller_safety", utc_now())
    assert (verdict.state, case.state) == (CaseState.DECLINED, CaseState.DECLINED)
    assert actions(outcome) == ["declined"]
    with pytest.raises(CaseNotPending):
        case.decline(SECOND, "duplicate", utc_now())
    not_forwarded, _ = decided_case(a_tip())
    with pytest.raises(CaseNotPending):
        not_forwarded.decline(FIRST, "duplicate", utc_now())


def test_an_acknowledgement_records_the_first_delivery_and_only_for_the_agency_that_received_it() -> None:
    case, first = decided_case(a_tip(), "urgent", danger=True)
    assert first.issue is not None
    [package] = [dispatch.package for dispatch in first.issue.dispatches]
    receipt = LiaisonAcknowledgementV1(
        package_id=package.package_id, case_reference=REFERENCE, agency_id=POLICE
    )

    outcome = case.acknowledge(receipt)
    again = case.acknowledge(receipt.model_copy(update={"acknowledged_at": utc_now() + timedelta(hours=1)}))

    assert case.packages[0].acknowledged_at == receipt.acknowledged_at
    [delivered] = events(outcome, DisclosureAcknowledgedV1)
    assert delivered.event_id == derived_event_id(
        "disclosure", receipt.acknowledgement_id, "disclosure.acknowledged"
    )
    assert events(again, DisclosureAcknowledgedV1)[0].acknowledged_at == receipt.acknowledged_at
    with pytest.raises(UnknownPackage):
        case.acknowledge(receipt.model_copy(update={"agency_id": PROTECTION}))
    with pytest.raises(UnknownPackage):
        case.acknowledge(receipt.model_copy(update={"package_id": uuid.uuid4()}))
