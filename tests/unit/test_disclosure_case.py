"""The disclosure case as a plain object under policy v2: decisions that stick, people not tokens,
consent as intake recorded it, follow-ups that wait for a supervisor, and a case that moves.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
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
    LegalReference,
    LiaisonAcknowledgementV2,
    PackageField,
    ReviewQueue,
)
from schemas.envelope import utc_now
from schemas.intake import ConsentRecordedV1, TipReceivedV1
from schemas.triage import Urgency
from services.common.ids import derived_event_id
from services.disclosure.domain.case import (
    Case,
    CaseNotPending,
    NotAwaitingConfirmation,
    Outcome,
    SameSupervisor,
    Supervisor,
    UnknownPackage,
)
from services.disclosure.domain.consent import ConsentRecord
from services.disclosure.domain.packages import Opened, Source
from services.disclosure.domain.routing import load_routing
from tests.factories import SPECIALIST, consent_recorded, tip_received, tip_supplemented, tip_triaged

ROUTING = load_routing()
OTTAWA = {"country": "CA", "province": "ON", "city": "Ottawa"}
MONTREAL = {"country": "CA", "province": "QC", "city": "Montréal"}
POLICE, PROTECTION = "ottawa-police-htu", "cas-ottawa"
REFERENCE = "LE-7K3M-9QXD"
ORDER = LegalReference(statute="Youth Protection Act (Quebec)", section="39", docket="500-41-000123-268")
OTHER_ORDER = LegalReference(
    statute="Youth Protection Act (Quebec)", section="39", docket="500-41-000999-268"
)
ANNE, BRUNO = uuid.uuid4(), uuid.uuid4()
FIRST, SECOND = Supervisor(ANNE, uuid.uuid4()), Supervisor(BRUNO, uuid.uuid4())
FIRST_AGAIN = Supervisor(ANNE, uuid.uuid4())
"""The same person as FIRST, with another supervisor token."""
IDENTITY = {PackageField.REPORTER_ROLE, PackageField.CALLER_CONTACT}
SERVICES_ONLY = {PackageField.VICTIM_PROFILE, PackageField.NEEDS}


def a_tip(
    channel: str = "web",
    police: bool = False,
    identity: bool = False,
    minor_answer: str = "no",
    danger_answer: str = "no",
    location: dict[str, str] = OTTAWA,
) -> TipReceivedV1:
    return tip_received(
        channel=channel, location=location, consent={"law_enforcement": police, "share_identity": identity},
        assessment={"minor_involved": minor_answer, "imminent_danger": danger_answer, "trafficking_types": ["sex"]},
    )  # fmt: skip


def history(*events: ConsentRecordedV1) -> list[ConsentRecord]:
    return [ConsentRecord(e.version, e.consent, e.recorded_by_role, e.recorded_at) for e in events]


def decided_case(
    tip: TipReceivedV1,
    urgency: str = "non_urgent",
    minor: bool = False,
    danger: bool = False,
    possible: tuple[str, ...] = (),
    records: Sequence[ConsentRecord] = (),
) -> tuple[Case, Outcome]:
    event = tip_triaged(tip, urgency, minor=minor, danger=danger, possible=possible)
    case = Case.open(event, REFERENCE, tip.facts.channel, tip.recorded_by)
    return case, case.on_triage(event, records, ROUTING, utc_now(), Source.of_tip(tip))


def actions(outcome: Outcome) -> list[str]:
    forwarded = [dispatch.note.action for dispatch in outcome.issue.dispatches] if outcome.issue else []
    return [note.action for note in outcome.notes] + forwarded


def events(outcome: Outcome, kind: type[Any]) -> list[Any]:
    staged = (
        [*outcome.events, *(d.event for d in outcome.issue.dispatches)] if outcome.issue else outcome.events
    )
    return [event for event in staged if isinstance(event, kind)]


# --- item 1: who may send what at once ----------------------------------------------------------


@pytest.mark.parametrize("channel", ["web", "email"])
def test_a_web_or_email_tip_with_a_minor_ticked_waits_for_a_supervisor_in_the_expedited_queue(
    channel: str,
) -> None:
    tip = a_tip(channel, minor_answer="yes")
    case, outcome = decided_case(tip, "urgent", minor=True)
    assert (case.state, case.decision, case.basis) == (
        CaseState.PENDING_REVIEW,
        Decision.HOLD_FOR_REVIEW,
        Basis.CHILD_PROTECTION,
    )
    assert outcome.issue is None and case.packages == []
    assert case.queue is ReviewQueue.EXPEDITED
    assert case.review_due_at == case.received_at + timedelta(minutes=15)
    [decided] = events(outcome, DisclosureDecidedV1)
    assert decided.queue is ReviewQueue.EXPEDITED and decided.policy_version == "gate-2026.12.1"


@pytest.mark.parametrize("channel", ["phone", "chat"])
def test_a_call_goes_at_once_on_the_minor_the_specialist_recorded_in_the_specialists_name(
    channel: str,
) -> None:
    tip = a_tip(channel, minor_answer="yes")
    case, outcome = decided_case(tip, "urgent", minor=True)
    assert case.state is CaseState.FORWARDED and outcome.issue is not None
    assert {d.package.agency_id for d in outcome.issue.dispatches} == {POLICE, PROTECTION}
    assert [(a.role, a.person_id) for a in outcome.issue.approvers] == [("specialist", SPECIALIST)]
    assert {d.note.actor for d in outcome.issue.dispatches} == {f"specialist:{SPECIALIST}"}
    assert case.queue is ReviewQueue.STANDARD and case.review_reasons == ("forwarded_at_once",)
    package = case.package(outcome.issue.dispatches[0], outcome.issue, Opened())
    assert [(a.role, a.person_id) for a in package.approved_by] == [("specialist", SPECIALIST)]


def test_a_call_a_supervisor_took_goes_at_once_in_the_supervisors_name() -> None:
    tip = tip_received(channel="phone", location=OTTAWA, recorded_as="supervisor",
                       assessment={"minor_involved": "yes", "imminent_danger": "no", "trafficking_types": ["sex"]})  # fmt: skip
    case, outcome = decided_case(tip, "urgent", minor=True)
    assert case.state is CaseState.FORWARDED and outcome.issue is not None
    assert [(a.role, a.person_id) for a in outcome.issue.approvers] == [("supervisor", SPECIALIST)]


def test_a_phone_tip_an_administrator_entered_is_no_call_and_waits_for_a_supervisor() -> None:
    tip = tip_received(channel="phone", location=OTTAWA, recorded_as="admin",
                       assessment={"minor_involved": "yes", "imminent_danger": "yes", "trafficking_types": ["sex"]})  # fmt: skip
    case, outcome = decided_case(tip, "urgent", minor=True, danger=True)
    assert outcome.issue is None and case.packages == []
    assert (case.state, case.decision, case.queue) == (
        CaseState.PENDING_REVIEW,
        Decision.HOLD_FOR_REVIEW,
        ReviewQueue.EXPEDITED,
    )
    assert case.recorded_grounds == frozenset()


def test_a_phone_tip_whose_urgency_comes_only_from_the_text_goes_to_the_expedited_queue_not_to_police() -> (
    None
):
    tip = a_tip("phone")
    case, outcome = decided_case(tip, "urgent", minor=True, danger=True)
    assert outcome.issue is None and case.packages == []
    assert (case.state, case.basis, case.queue) == (
        CaseState.PENDING_REVIEW,
        Basis.CHILD_PROTECTION,
        ReviewQueue.EXPEDITED,
    )
    [decided] = events(outcome, DisclosureDecidedV1)
    assert "decision.ground_to_confirm" in [reason.code for reason in decided.reasons]


def test_a_possible_minor_is_never_a_basis_and_its_approval_needs_the_ground_named() -> None:
    tip = a_tip("phone")
    case, outcome = decided_case(tip, "urgent", possible=("possible_minor",))
    assert (case.state, case.basis, case.queue) == (
        CaseState.PENDING_REVIEW,
        Basis.NONE,
        ReviewQueue.EXPEDITED,
    )
    assert outcome.issue is None

    verdict, refused = case.approve(FIRST, "mandatory_ground_confirmed", [], ROUTING, utc_now())
    assert "approval.ground_not_named" in [reason.code for reason in verdict.refused]
    assert actions(refused) == ["approval_refused"] and case.packages == []

    verdict, forwarded = case.approve(
        FIRST, "mandatory_ground_confirmed", [], ROUTING, utc_now(), ground=Basis.CHILD_PROTECTION
    )
    assert verdict.state is CaseState.FORWARDED and case.confirmed_grounds == {Basis.CHILD_PROTECTION}
    assert forwarded.issue is not None
    assert [(a.role, a.person_id) for a in forwarded.issue.approvers] == [("supervisor", ANNE)]
    assert forwarded.notes[0].actor == f"supervisor:{ANNE}"


def test_a_supervisors_approval_confirms_a_ground_found_in_the_text() -> None:
    case, _ = decided_case(a_tip("web"), "urgent", danger=True)
    verdict, outcome = case.approve(FIRST, "mandatory_ground_confirmed", [], ROUTING, utc_now())
    assert verdict.state is CaseState.FORWARDED and case.basis is Basis.IMMINENT_DANGER
    assert case.confirmed_grounds == {Basis.IMMINENT_DANGER} and case.queue is None
    assert outcome.issue is not None and {d.package.agency_id for d in outcome.issue.dispatches} == {POLICE}


def test_a_consented_call_is_not_sent_at_once_without_a_mandatory_ground() -> None:
    case, outcome = decided_case(a_tip("phone", police=True), "urgent")
    assert (case.state, case.basis, case.queue) == (
        CaseState.PENDING_REVIEW,
        Basis.CONSENT,
        ReviewQueue.EXPEDITED,
    )
    assert outcome.issue is None


# --- item 2: without law-enforcement consent, nothing that exists to find services -----------------


def test_a_package_without_law_enforcement_consent_never_carries_the_victim_profile_or_needs() -> None:
    case, outcome = decided_case(a_tip("phone", minor_answer="yes"), "urgent", minor=True)
    assert outcome.issue is not None
    for dispatch in outcome.issue.dispatches:
        assert not dispatch.package.fields & (SERVICES_ONLY | IDENTITY | {PackageField.NARRATIVE})
        content = case.package(dispatch, outcome.issue, Opened()).content
        assert content.victim_profile is None and content.needs is None and content.narrative is None


# --- item 3: decisions that stick ---------------------------------------------------------------


def declined(tip: TipReceivedV1, urgency: str = "non_urgent") -> Case:
    case, _ = decided_case(tip, urgency)
    case.decline(FIRST, "caller_safety", utc_now())
    assert case.state is CaseState.DECLINED and case.queue is None
    return case


def test_decline_then_an_urgent_revision_leaves_the_case_declined_and_queued_for_review() -> None:
    tip = a_tip("web", police=True)
    case = declined(tip)
    outcome = case.on_triage(tip_triaged(tip, "urgent", minor=True, revision=2), [], ROUTING, utc_now())
    assert case.state is CaseState.DECLINED and case.packages == [] and outcome.issue is None
    assert case.queue is ReviewQueue.EXPEDITED
    assert set(case.review_reasons) >= {"urgency.non_urgent_to_urgent", "ground.child_protection"}
    assert actions(outcome) == ["queued_for_review"]
    [decided] = events(outcome, DisclosureDecidedV1)
    assert decided.state is CaseState.DECLINED and decided.review_reasons == list(case.review_reasons)


def test_even_a_spoken_mandatory_ground_does_not_overturn_a_decline_a_supervisor_reopens_it() -> None:
    tip = a_tip("phone", minor_answer="yes")
    case, _ = decided_case(tip, "non_urgent")
    case.decline(FIRST, "duplicate", utc_now())
    case.on_triage(tip_triaged(tip, "urgent", minor=True, revision=2), [], ROUTING, utc_now())
    assert case.state is CaseState.DECLINED and case.packages == []

    verdict, outcome = case.reopen(SECOND, "new_information", [], ROUTING, utc_now())
    assert verdict.state is CaseState.PENDING_REVIEW and case.queue is ReviewQueue.EXPEDITED
    assert actions(outcome) == ["reopened"] and outcome.notes[0].actor == f"supervisor:{BRUNO}"
    _, forwarded = case.approve(SECOND, "mandatory_ground_confirmed", [], ROUTING, utc_now())
    assert case.state is CaseState.FORWARDED and forwarded.issue is not None


def test_a_supervisor_may_keep_a_decision_after_looking_at_what_changed() -> None:
    tip = a_tip("web", police=True)
    case = declined(tip)
    case.on_triage(tip_triaged(tip, "urgent", danger=True, revision=2), [], ROUTING, utc_now())
    verdict, outcome = case.keep(SECOND, "nothing_to_send", utc_now())
    assert verdict.state is CaseState.DECLINED and case.queue is None and case.review_reasons == ()
    assert actions(outcome) == ["kept"]
    with pytest.raises(CaseNotPending):
        case.keep(SECOND, "nothing_to_send", utc_now())


def test_a_forwarded_case_stays_forwarded_and_a_revision_waits_for_a_supervisor() -> None:
    tip = a_tip("phone", danger_answer="yes")
    case, _ = decided_case(tip, "urgent", danger=True)
    case.approve(FIRST, "reviewed_after_forward", [], ROUTING, utc_now())
    outcome = case.on_triage(tip_triaged(tip, "non_urgent", revision=2), [], ROUTING, utc_now())
    assert case.state is CaseState.FORWARDED and case.basis is Basis.IMMINENT_DANGER
    assert outcome.issue is None and case.queue is ReviewQueue.STANDARD


def test_an_older_or_repeated_triage_revision_changes_nothing() -> None:
    tip = a_tip(police=True)
    case, _ = decided_case(tip)
    revised = tip_triaged(tip, "urgent", danger=True, revision=2)
    assert not case.on_triage(revised, [], ROUTING, utc_now()).is_empty
    for stale in (revised, tip_triaged(tip, "non_urgent", revision=1)):
        assert case.on_triage(stale, [], ROUTING, utc_now()).is_empty


def test_a_later_revision_decides_a_case_no_one_has_decided_again_but_never_sends_it_at_once() -> None:
    tip = a_tip("phone", police=True, minor_answer="yes")
    case, _ = decided_case(tip, "non_urgent")
    assert (case.state, case.queue) == (CaseState.PENDING_REVIEW, ReviewQueue.STANDARD)
    outcome = case.on_triage(tip_triaged(tip, "urgent", minor=True, revision=2), [], ROUTING, utc_now())
    assert (case.state, case.basis, case.queue) == (
        CaseState.PENDING_REVIEW,
        Basis.CHILD_PROTECTION,
        ReviewQueue.EXPEDITED,
    )
    assert outcome.issue is None and [n.detail["trigger"] for n in outcome.notes] == ["triage.revision.2"]


# --- item 3 and 7: follow-ups are reviewed; a case that moves -----------------------------------


def forwarded_phone_case(location: dict[str, str] = OTTAWA) -> tuple[TipReceivedV1, Case]:
    tip = a_tip("phone", police=True, danger_answer="yes", location=location)
    case, outcome = decided_case(tip, "urgent", danger=True)
    assert outcome.issue is not None and case.state is CaseState.FORWARDED
    case.approve(FIRST, "reviewed_after_forward", [], ROUTING, utc_now())
    return tip, case


def test_a_follow_up_to_a_forwarded_case_waits_for_a_supervisor_then_goes_to_the_same_agency() -> None:
    tip, case = forwarded_phone_case()
    follow_up = tip_supplemented(tip, needs=["medical"])
    outcome = case.on_supplement(follow_up, utc_now())
    assert outcome.issue is None and case.pending_supplements == (follow_up.supplement_id,)
    assert (
        case.queue is ReviewQueue.EXPEDITED and f"supplement.{follow_up.supplement_id}" in case.review_reasons
    )

    verdict, sent = case.approve(SECOND, "changes_sent_on", [], ROUTING, utc_now())
    assert verdict.state is CaseState.FORWARDED and sent.issue is not None
    [package] = [d.package for d in sent.issue.dispatches]
    assert (package.agency_id, package.source_id) == (POLICE, follow_up.supplement_id)
    assert package.supplementary_to == case.first_packages[0].package_id
    assert case.pending_supplements == () and case.queue is None


def test_a_follow_up_moves_a_forwarded_case_from_ottawa_to_montreal_after_a_supervisors_approval() -> None:
    tip, case = forwarded_phone_case()
    [ottawa_first] = case.first_packages
    follow_up = tip_supplemented(tip, location=MONTREAL)
    case.on_supplement(follow_up, utc_now())
    moved_facts = follow_up.update.applied_to(tip.facts)
    case.on_triage(
        tip_triaged(tip, "urgent", danger=True, revision=2, facts=moved_facts), [], ROUTING, utc_now()
    )
    assert "location.changed" in case.review_reasons and len(case.packages) == 1

    _verdict, outcome = case.approve(SECOND, "changes_sent_on", [], ROUTING, utc_now())

    assert outcome.issue is not None
    sent = {d.package.agency_id: d.package for d in outcome.issue.dispatches}
    assert set(sent) == {"spvm", POLICE}
    assert sent["spvm"].supplementary_to is None and sent["spvm"].basis is Basis.IMMINENT_DANGER
    word = sent[POLICE]
    assert word.supplementary_to == ottawa_first.package_id and word.moved_to is not None
    assert word.moved_to.agencies == ["spvm"] and word.moved_to.location.city == "Montréal"
    dispatch = next(d for d in outcome.issue.dispatches if d.package.agency_id == "spvm")
    assert dispatch.sources is None, "the new agency gets the whole case"


# --- item 4: people, not tokens -----------------------------------------------------------------


def test_one_person_with_two_supervisor_tokens_cannot_approve_twice() -> None:
    case, _ = decided_case(a_tip())
    case.approve(FIRST, "legal_obligation", [], ROUTING, utc_now(), ORDER)
    with pytest.raises(SameSupervisor):
        case.approve(FIRST_AGAIN, "legal_obligation", [], ROUTING, utc_now(), ORDER)
    assert case.state is CaseState.PENDING_REVIEW and [a.person_id for a in case.approvals] == [ANNE]


def test_approvals_on_different_references_do_not_add_up() -> None:
    case, _ = decided_case(a_tip())
    first, _ = case.approve(FIRST, "legal_obligation", [], ROUTING, utc_now(), ORDER)
    second, outcome = case.approve(SECOND, "legal_obligation", [], ROUTING, utc_now(), OTHER_ORDER)
    assert (first.approvals, second.approvals, second.approvals_needed) == (1, 1, 2)
    assert case.state is CaseState.PENDING_REVIEW and outcome.issue is None


def test_two_different_people_on_the_same_reference_send_a_legal_obligation() -> None:
    case, _ = decided_case(a_tip())
    case.approve(FIRST, "legal_obligation", [], ROUTING, utc_now(), ORDER)
    same = LegalReference(statute=ORDER.statute.upper(), section=ORDER.section, docket=ORDER.docket)
    verdict, outcome = case.approve(SECOND, "legal_obligation", [], ROUTING, utc_now(), same)
    assert (verdict.state, verdict.approvals) == (CaseState.FORWARDED, 2)
    assert outcome.issue is not None
    package = case.package(outcome.issue.dispatches[0], outcome.issue, Opened())
    assert package.legal_reference is not None and package.legal_reference.same_as(ORDER)
    assert [a.person_id for a in package.approved_by] == [ANNE, BRUNO]


def test_an_approval_given_before_the_incident_moved_does_not_count_toward_the_package_that_goes_out() -> (
    None
):
    tip = a_tip()
    case, _ = decided_case(tip)
    case.approve(FIRST, "legal_obligation", [], ROUTING, utc_now(), ORDER)
    ottawa = case.recipients
    moved = tip_supplemented(tip, location=MONTREAL).update.applied_to(tip.facts)
    outcome = case.on_triage(tip_triaged(tip, "non_urgent", revision=2, facts=moved), [], ROUTING, utc_now())
    assert case.recipients != ottawa and "approvals_restarted" in actions(outcome)
    assert case.approvals == []

    verdict, sent = case.approve(SECOND, "legal_obligation", [], ROUTING, utc_now(), ORDER)
    assert (verdict.state, verdict.approvals, verdict.approvals_needed) == (CaseState.PENDING_REVIEW, 1, 2)
    assert sent.issue is None
    verdict, sent = case.approve(FIRST, "legal_obligation", [], ROUTING, utc_now(), ORDER)
    assert verdict.state is CaseState.FORWARDED and sent.issue is not None
    assert {d.package.agency_id for d in sent.issue.dispatches} == {r.agency_id for r in case.recipients}


def test_a_revision_that_changes_what_the_package_says_starts_the_approvals_again() -> None:
    tip = a_tip()
    case, _ = decided_case(tip)
    case.approve(FIRST, "legal_obligation", [], ROUTING, utc_now(), ORDER)
    recipients = case.recipients
    outcome = case.on_triage(tip_triaged(tip, "urgent", revision=2), [], ROUTING, utc_now())
    assert case.recipients == recipients, "the same agencies: only what the package says changed"
    assert "approvals_restarted" in actions(outcome) and case.approvals == []
    verdict, sent = case.approve(SECOND, "legal_obligation", [], ROUTING, utc_now(), ORDER)
    assert (verdict.state, verdict.approvals, sent.issue) == (CaseState.PENDING_REVIEW, 1, None)


def test_a_follow_up_between_two_approvals_starts_the_approvals_again() -> None:
    tip = a_tip()
    case, _ = decided_case(tip)
    case.approve(FIRST, "legal_obligation", [], ROUTING, utc_now(), ORDER)
    outcome = case.on_supplement(tip_supplemented(tip, needs=["medical"]), utc_now())
    assert actions(outcome) == ["approvals_restarted", "supplement_noted"] and case.approvals == []


# --- item 5: consent as intake recorded it ------------------------------------------------------


def test_a_staff_change_that_widens_consent_waits_for_a_supervisor() -> None:
    tip = a_tip("web")
    case, _ = decided_case(tip)
    assert case.state is CaseState.NOT_FORWARDED
    widening = consent_recorded(tip, 2, [], by="specialist", law_enforcement=True, share_identity=True)
    records = history(widening)

    outcome = case.on_consent(widening, records, ROUTING, utc_now())

    assert case.state is CaseState.NOT_FORWARDED and case.basis is Basis.NONE and outcome.issue is None
    assert case.queue is not None and "consent.widening_awaits_supervisor.2" in case.review_reasons
    with pytest.raises(NotAwaitingConfirmation):
        case.confirm_consent(SECOND, 3, records, ROUTING, utc_now())
    verdict, _ = case.confirm_consent(SECOND, 2, records, ROUTING, utc_now())
    assert (case.state, case.basis) == (CaseState.PENDING_REVIEW, Basis.CONSENT)
    assert case.fields >= IDENTITY and verdict.state is CaseState.PENDING_REVIEW


def test_the_reporters_own_widening_applies_without_a_supervisor() -> None:
    tip = a_tip("web")
    case, _ = decided_case(tip)
    widening = consent_recorded(tip, 2, [], by="reporter", law_enforcement=True)
    case.on_consent(widening, history(widening), ROUTING, utc_now())
    assert (case.state, case.basis) == (CaseState.PENDING_REVIEW, Basis.CONSENT)


def test_a_withdrawal_applies_even_out_of_order() -> None:
    tip = a_tip("web", police=True)
    case, _ = decided_case(tip)
    withdrawal = consent_recorded(tip, 3, ["law_enforcement"])
    outcome = case.on_consent(withdrawal, history(withdrawal), ROUTING, utc_now())
    assert case.state is CaseState.CANCELLED
    [cancelled] = events(outcome, DisclosureCancelledV1)
    assert cancelled.consent_version == 3
    late = consent_recorded(tip, 2, [], law_enforcement=True, share_identity=True)
    case.on_consent(late, history(withdrawal, late), ROUTING, utc_now())
    assert case.state is CaseState.CANCELLED and case.packages == []


def test_a_consent_version_jump_holds_the_case_and_never_widens_it() -> None:
    tip = a_tip("web")
    case, _ = decided_case(tip)
    jump = consent_recorded(tip, 9999, [], by="reporter", law_enforcement=True, share_identity=True)
    case.on_consent(jump, history(jump), ROUTING, utc_now())
    assert case.basis is Basis.NONE and case.queue is not None
    assert "consent.version_gap.9999" in case.review_reasons
    withdrawal = consent_recorded(tip, 2, ["statistics"], service_referral=True)
    case.on_consent(withdrawal, history(jump, withdrawal), ROUTING, utc_now())
    assert case.basis is Basis.NONE and "consent.version_gap.9999" in case.review_reasons


def test_a_withdrawal_never_cancels_a_mandatory_forward_but_takes_the_callers_words_out() -> None:
    tip = a_tip("web", police=True)
    case, _ = decided_case(tip, danger=True)
    assert PackageField.NARRATIVE in case.fields
    withdrawal = consent_recorded(tip, 2, ["law_enforcement"])
    outcome = case.on_consent(withdrawal, history(withdrawal), ROUTING, utc_now())
    assert (case.state, case.basis) == (CaseState.PENDING_REVIEW, Basis.IMMINENT_DANGER)
    assert not case.fields & ({PackageField.NARRATIVE} | SERVICES_ONLY)
    assert actions(outcome)[0] == "consent_withdrawn_mandatory_basis_stands"
    assert events(outcome, DisclosureCancelledV1) == []


def test_a_consent_identical_in_effect_changes_nothing() -> None:
    tip = a_tip(police=True)
    case, _ = decided_case(tip)
    repeated = consent_recorded(tip, 1, [], **tip.facts.consent.model_dump())
    assert case.on_consent(repeated, history(repeated), ROUTING, utc_now()).is_empty


# --- reviews after a forward, the clock and deliveries -------------------------------------------


def test_an_urgent_forward_is_reviewed_after_it_went_out_once() -> None:
    case, _ = decided_case(a_tip("phone", minor_answer="yes"), "urgent", minor=True)
    verdict, outcome = case.approve(FIRST, "reviewed_after_forward", [], ROUTING, utc_now())
    assert (verdict.state, case.queue) == (CaseState.FORWARDED, None)
    assert actions(outcome) == ["reviewed_after_forward"] and case.reviewed_at is not None
    [reviewed] = events(outcome, DisclosureReviewedV1)
    assert (reviewed.verdict, reviewed.basis) == ("reviewed_after_forward", Basis.CHILD_PROTECTION)
    with pytest.raises(CaseNotPending):
        case.approve(SECOND, "reviewed_after_forward", [], ROUTING, utc_now())


def test_an_approval_without_a_basis_is_refused_with_the_policys_reasons_and_changes_nothing() -> None:
    case, _ = decided_case(a_tip())
    assert case.state is CaseState.NOT_FORWARDED
    verdict, outcome = case.approve(FIRST, "consent_confirmed", [], ROUTING, utc_now())
    assert verdict.refused[0].code == "basis.none" and verdict.state is CaseState.NOT_FORWARDED
    assert actions(outcome) == ["approval_refused"] and outcome.events == ()
    assert case.verdicts == [] and case.packages == []


def test_one_approval_forwards_a_consented_case_with_its_approver_named() -> None:
    case, _ = decided_case(a_tip(police=True))
    verdict, outcome = case.approve(FIRST, "consent_confirmed", [], ROUTING, utc_now())
    assert (verdict.state, verdict.approvals, verdict.approvals_needed) == (CaseState.FORWARDED, 1, 1)
    assert actions(outcome) == ["approved", "forwarded"]
    assert outcome.issue is not None and [a.person_id for a in outcome.issue.approvers] == [ANNE]
    assert [event.causation_id for event in events(outcome, DisclosureForwardedV1)] == [None]


def test_the_review_clock_flags_at_risk_then_breached_once_each() -> None:
    case, _ = decided_case(a_tip("web", minor_answer="yes"), "urgent", minor=True)
    due = case.review_due_at
    assert due is not None and case.queued_at is not None
    assert case.due_flags(case.queued_at + timedelta(minutes=10)) == []
    [at_risk] = case.due_flags(case.queued_at + timedelta(minutes=12))
    assert (at_risk.flag, at_risk.queue, at_risk.case_reference) == (
        "at_risk",
        ReviewQueue.EXPEDITED,
        REFERENCE,
    )
    [breached] = case.due_flags(due + timedelta(seconds=1))
    assert breached.flag == "breached" and case.due_flags(due + timedelta(hours=1)) == []


def test_only_a_pending_case_can_be_declined() -> None:
    case, _ = decided_case(a_tip(police=True))
    verdict, outcome = case.decline(FIRST, "caller_safety", utc_now())
    assert verdict.state is CaseState.DECLINED and actions(outcome) == ["declined"]
    with pytest.raises(CaseNotPending):
        case.decline(SECOND, "duplicate", utc_now())


def test_an_acknowledgement_records_the_first_delivery_and_only_for_the_agency_that_received_it() -> None:
    case, first = decided_case(a_tip("phone", danger_answer="yes"), "urgent", danger=True)
    assert first.issue is not None
    [package] = [dispatch.package for dispatch in first.issue.dispatches]
    receipt = LiaisonAcknowledgementV2(
        package_id=package.package_id, case_reference=REFERENCE, agency_id=POLICE
    )

    outcome = case.on_acknowledgement(receipt, utc_now())
    again = case.on_acknowledgement(
        receipt.model_copy(update={"acknowledged_at": utc_now() + timedelta(hours=1)}), utc_now()
    )

    assert case.packages[0].acknowledged_at == receipt.acknowledged_at
    [delivered] = events(outcome, DisclosureAcknowledgedV1)
    assert delivered.event_id == derived_event_id(
        "disclosure", receipt.acknowledgement_id, "disclosure.acknowledged"
    )
    assert events(again, DisclosureAcknowledgedV1)[0].acknowledged_at == receipt.acknowledged_at
    with pytest.raises(UnknownPackage):
        case.on_acknowledgement(receipt.model_copy(update={"agency_id": PROTECTION}), utc_now())
    with pytest.raises(UnknownPackage):
        case.on_acknowledgement(receipt.model_copy(update={"case_reference": "LE-0000-0000"}), utc_now())


def test_every_decision_of_a_new_case_names_the_urgency_it_was_taken_on() -> None:
    _case, outcome = decided_case(a_tip("web", police=True), "urgent")
    [decided] = events(outcome, DisclosureDecidedV1)
    assert decided.urgency is Urgency.URGENT and decided.basis is Basis.CONSENT


# --- found in review ----------------------------------------------------------------------------


def test_a_follow_up_triage_merged_into_the_first_triage_never_goes_at_once() -> None:
    tip = a_tip("phone")
    follow_up = tip_supplemented(tip, assessment={"minor_involved": "yes", "victim_age": 15})
    merged = tip_triaged(tip, "urgent", minor=True, facts=follow_up.update.applied_to(tip.facts))
    case = Case.open(merged, REFERENCE, tip.facts.channel, tip.recorded_by)
    outcome = case.on_triage(merged, [], ROUTING, utc_now(), Source.of_tip(tip))
    assert outcome.issue is None and case.recorded_grounds == frozenset()
    assert (case.state, case.queue) == (CaseState.PENDING_REVIEW, ReviewQueue.EXPEDITED)


def test_a_forward_at_once_carries_the_call_as_recorded_and_no_follow_up() -> None:
    tip = a_tip("phone", minor_answer="yes")
    follow_up = tip_supplemented(tip, needs=["medical"], location=MONTREAL)
    merged = tip_triaged(tip, "urgent", minor=True, facts=follow_up.update.applied_to(tip.facts))
    case = Case.open(merged, REFERENCE, tip.facts.channel, tip.recorded_by)
    outcome = case.on_triage(merged, [], ROUTING, utc_now(), Source.of_tip(tip))
    assert outcome.issue is not None and outcome.issue.facts == tip.facts
    assert outcome.issue.dispatches
    assert all(dispatch.sources == frozenset({tip.tip_id}) for dispatch in outcome.issue.dispatches)


def test_an_agency_the_case_left_hears_where_it_went_once_and_nothing_after() -> None:
    tip, case = forwarded_phone_case()
    moving = tip_supplemented(tip, location=MONTREAL)
    case.on_supplement(moving, utc_now())
    facts = moving.update.applied_to(tip.facts)
    case.on_triage(tip_triaged(tip, "urgent", danger=True, revision=2, facts=facts), [], ROUTING, utc_now())
    case.approve(SECOND, "changes_sent_on", [], ROUTING, utc_now())
    later = tip_supplemented(tip, needs=["medical"])
    case.on_supplement(later, utc_now())
    _, outcome = case.approve(SECOND, "changes_sent_on", [], ROUTING, utc_now())
    assert outcome.issue is not None
    assert {d.package.agency_id for d in outcome.issue.dispatches} == {"spvm"}


def test_each_legal_obligation_approval_names_its_reference() -> None:
    case, _ = decided_case(a_tip())
    case.approve(FIRST, "legal_obligation", [], ROUTING, utc_now(), ORDER)
    verdict, outcome = case.approve(SECOND, "legal_obligation", [], ROUTING, utc_now())
    assert [reason.code for reason in verdict.refused] == ["approval.reference_not_named"]
    assert case.state is CaseState.PENDING_REVIEW and outcome.issue is None


def test_an_approval_on_consent_does_not_confirm_a_ground_found_in_the_text() -> None:
    case, _ = decided_case(a_tip("web", police=True), "urgent", minor=True)
    assert case.basis is Basis.CHILD_PROTECTION
    verdict, outcome = case.approve(FIRST, "consent_confirmed", [], ROUTING, utc_now())
    assert verdict.state is CaseState.FORWARDED and case.basis is Basis.CONSENT
    assert case.confirmed_grounds == frozenset() and outcome.issue is not None
    assert {d.package.agency_id for d in outcome.issue.dispatches} == {POLICE}


def test_a_follow_up_to_a_case_waiting_for_approval_is_shown_to_the_approver() -> None:
    tip = a_tip("web", police=True)
    case, _ = decided_case(tip)
    follow_up = tip_supplemented(tip)
    case.on_supplement(follow_up, utc_now())
    assert f"supplement.{follow_up.supplement_id}" in case.review_reasons


# --- a follow-up while an agency's first package waits after a broker wipe ----------------------


def withheld_after_a_wipe(case: Case, agency_id: str) -> uuid.UUID:
    """What ``app.WITHHELD_ON_REPLAY`` marks after a broker wipe: this agency's unacknowledged package."""
    [package] = [p for p in case.packages if p.agency_id == agency_id and p.acknowledged_at is None]
    case.packages = [
        replace(p, withheld_at=utc_now(), withheld_reason="consent_changed") if p is package else p
        for p in case.packages
    ]
    return package.package_id


def follow_up_sent_on(case: Case, tip: TipReceivedV1, at: timedelta) -> tuple[uuid.UUID, Outcome]:
    """A follow-up arrives on a forwarded case and a supervisor sends it on."""
    follow_up = tip_supplemented(tip, needs=["medical"])
    case.on_supplement(follow_up, utc_now() + at)
    _, outcome = case.approve(FIRST, "changes_checked", [], ROUTING, utc_now() + at)
    return follow_up.supplement_id, outcome


def test_a_follow_up_sent_on_while_an_agencys_first_package_waits_is_owed_to_it_and_goes_in_its_reissue_once() -> (
    None
):
    tip = a_tip("phone", minor_answer="yes")
    case, _ = decided_case(tip, "urgent", minor=True)
    protection = next(p for p in case.packages if p.agency_id == PROTECTION)
    case.on_acknowledgement(
        LiaisonAcknowledgementV2(
            package_id=protection.package_id, case_reference=REFERENCE, agency_id=PROTECTION
        ),
        utc_now(),
    )
    waiting = withheld_after_a_wipe(case, POLICE)

    follow_up, sent_on = follow_up_sent_on(case, tip, timedelta(minutes=5))

    assert sent_on.issue is not None
    assert [(d.package.agency_id, d.package.source_id) for d in sent_on.issue.dispatches] == [
        (PROTECTION, follow_up)
    ], "nothing follows a package the agency may never have had"
    [forwarded] = [note for note in sent_on.notes if note.action == "changes_forwarded"]
    assert forwarded.detail["follow_ups_waiting"] == [
        {"agency_id": POLICE, "package_id": str(waiting), "follow_ups": [str(follow_up)]}
    ]
    assert case.withheld(waiting).owed == (follow_up,)

    _, reissued = case.reissue(SECOND, waiting, "basis_still_stands", [], ROUTING, utc_now(), shredded=False)

    assert reissued.issue is not None
    [again] = reissued.issue.dispatches
    assert again.package.supplementary_to is None and again.package.agency_id == POLICE
    carried = [s for s in (tip.tip_id, follow_up) if again.carries(_source(tip, s))]
    assert carried == [tip.tip_id, follow_up], "the re-issued first package carries what its agency is owed"
    assert again.note.detail["follow_ups_owed"] == [str(follow_up)]
    [approved] = reissued.notes
    assert approved.detail["follow_ups_owed"] == [str(follow_up)]

    second, later = follow_up_sent_on(case, tip, timedelta(minutes=9))

    assert later.issue is not None
    sent = sorted(
        (d.package.agency_id, d.package.source_id, d.package.supplementary_to) for d in later.issue.dispatches
    )
    assert sent == sorted(
        [(POLICE, second, again.package.package_id), (PROTECTION, second, protection.package_id)]
    ), "the owed follow-up went with the re-issue: it never goes to the agency a second time"
    [forwarded] = [note for note in later.notes if note.action == "changes_forwarded"]
    assert forwarded.detail["follow_ups_waiting"] == forwarded.detail["follow_ups_not_sent"] == []


def _source(tip: TipReceivedV1, source_id: uuid.UUID) -> Source:
    return replace(Source.of_tip(tip), source_id=source_id)
