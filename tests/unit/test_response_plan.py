import uuid
from datetime import UTC, datetime, timedelta

import pytest

from schemas.envelope import EventBase
from schemas.triage import (
    ResponsePlanAcknowledgedV1,
    ResponsePlanCompletedV1,
    ResponsePlanStartedV1,
    ResponsePlanStepCompletedV1,
    ResponsePlanStepFlaggedV1,
    ResponsePlanSupersededV1,
    Urgency,
)
from services.triage.domain.actor import Actor
from services.triage.domain.plan import (
    OutcomeNotAllowed,
    PlanAction,
    PlanClosed,
    PlanNotFound,
    PlanStatus,
    ResponsePlan,
    StepStatus,
)
from services.triage.domain.plans import load_templates

TEMPLATES = load_templates()
RECEIVED = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)
SUPERVISOR = Actor(uuid.uuid4(), "supervisor")
CAUSE = uuid.uuid4()


def urgent_plan(cause: uuid.UUID = CAUSE, counted_from: datetime = RECEIVED) -> ResponsePlan:
    plan, _ = start(Urgency.URGENT, cause, counted_from)
    return plan


def start(
    urgency: Urgency, cause: uuid.UUID = CAUSE, counted_from: datetime = RECEIVED
) -> tuple[ResponsePlan, list[EventBase]]:
    return ResponsePlan.start(
        tip_id=uuid.UUID(int=1), correlation_id=uuid.UUID(int=2), traceparent=None, urgency=urgency,
        cause_id=cause, counted_from=counted_from, now=counted_from + timedelta(seconds=1), templates=TEMPLATES,
    )  # fmt: skip


def after(minutes: float) -> datetime:
    return RECEIVED + timedelta(minutes=minutes)


def flags(events: list[ResponsePlanStepFlaggedV1]) -> list[str]:
    return [f"{event.step}/{event.flag}" for event in events]


def test_an_urgent_plan_starts_with_its_deadlines_counted_from_receipt_and_announces_them() -> None:
    plan, [started] = start(Urgency.URGENT)
    assert isinstance(started, ResponsePlanStartedV1)
    assert (started.plan_id, started.urgency, started.causation_id) == (plan.plan_id, Urgency.URGENT, CAUSE)
    assert [step.step for step in started.steps] == [step.name for step in plan.steps]
    assert plan.steps[0].deadline == RECEIVED + timedelta(minutes=5)
    assert all(step.status is StepStatus.OPEN for step in plan.steps)
    assert plan.template_version == TEMPLATES.version


def test_starting_again_for_the_same_cause_yields_the_same_plan_and_event() -> None:
    (first, [first_started]), (again, [again_started]) = start(Urgency.URGENT), start(Urgency.URGENT)
    assert first.plan_id == again.plan_id
    assert first_started.event_id == again_started.event_id
    assert start(Urgency.URGENT, uuid.uuid4())[0].plan_id != first.plan_id


def test_acknowledging_completes_the_supervisor_notification_and_records_who_took_charge() -> None:
    plan = urgent_plan()
    events = plan.acknowledge(SUPERVISOR, after(2), TEMPLATES)
    assert [type(event) for event in events] == [ResponsePlanAcknowledgedV1, ResponsePlanStepCompletedV1]
    notified = events[1]
    assert isinstance(notified, ResponsePlanStepCompletedV1)
    assert (notified.step, notified.outcome, notified.on_time) == ("notify_supervisor", "acknowledged", True)
    assert (plan.acknowledged_at, plan.acknowledged_by) == (after(2), SUPERVISOR.token_id)
    assert [action.action for action in plan.take_actions()] == ["acknowledged", "step_completed"]
    assert plan.actions == []


def test_acknowledging_twice_changes_nothing() -> None:
    plan = urgent_plan()
    plan.acknowledge(SUPERVISOR, after(2), TEMPLATES)
    plan.take_actions()
    assert plan.acknowledge(SUPERVISOR, after(3), TEMPLATES) == []
    assert plan.acknowledged_at == after(2)
    assert plan.actions == []


def test_a_step_completed_with_an_outcome_it_does_not_allow_is_refused_with_the_allowed_ones() -> None:
    plan = urgent_plan()
    with pytest.raises(OutcomeNotAllowed) as refused:
        plan.complete_step("safety_assessment", "fine", SUPERVISOR, after(3), TEMPLATES)
    assert "safety_plan_made" in refused.value.allowed
    assert plan.step("safety_assessment").status is StepStatus.OPEN  # type: ignore[union-attr]
    assert plan.actions == []


def test_a_step_the_plan_does_not_have_is_not_found_and_a_done_step_is_closed() -> None:
    plan = urgent_plan()
    with pytest.raises(PlanNotFound):
        plan.complete_step("supervisor_review", "actioned", SUPERVISOR, after(3), TEMPLATES)
    plan.complete_step("safety_assessment", "safe_for_now", SUPERVISOR, after(3), TEMPLATES)
    with pytest.raises(PlanClosed):
        plan.complete_step("safety_assessment", "safe_for_now", SUPERVISOR, after(4), TEMPLATES)


def test_a_step_done_after_its_deadline_is_not_on_time() -> None:
    plan = urgent_plan()
    [done] = plan.complete_step("safety_assessment", "safe_for_now", SUPERVISOR, after(16), TEMPLATES)
    assert isinstance(done, ResponsePlanStepCompletedV1)
    assert not done.on_time


def test_completing_the_last_step_completes_the_plan_with_its_breaches() -> None:
    plan = urgent_plan()
    plan.flag_due_steps(after(6), TEMPLATES)
    plan.acknowledge(SUPERVISOR, after(7), TEMPLATES)
    plan.complete_step("safety_assessment", "safety_plan_made", SUPERVISOR, after(8), TEMPLATES)
    plan.complete_step("evaluate_mandatory_reporting", "report_required", SUPERVISOR, after(9), TEMPLATES)
    events = plan.complete_step("emergency_referral", "referred", SUPERVISOR, after(10), TEMPLATES)
    assert [type(event) for event in events] == [ResponsePlanStepCompletedV1, ResponsePlanCompletedV1]
    completed = events[1]
    assert isinstance(completed, ResponsePlanCompletedV1)
    assert completed.breaches == 1
    assert (plan.status, plan.closed_at) == (PlanStatus.COMPLETED, after(10))


def test_a_completed_plan_refuses_every_further_action() -> None:
    plan, _ = start(Urgency.NON_URGENT)
    plan.complete_step("supervisor_review", "actioned", SUPERVISOR, after(30), TEMPLATES)
    with pytest.raises(PlanClosed):
        plan.acknowledge(SUPERVISOR, after(31), TEMPLATES)
    with pytest.raises(PlanClosed):
        plan.complete_step("supervisor_review", "actioned", SUPERVISOR, after(31), TEMPLATES)


def test_nothing_is_flagged_before_three_quarters_of_a_steps_time() -> None:
    plan = urgent_plan()
    assert not plan.flags_due(after(3.7))
    assert plan.flag_due_steps(after(3.7), TEMPLATES) == []


def test_at_risk_is_flagged_at_three_quarters_of_a_steps_time_and_only_once() -> None:
    plan = urgent_plan()
    assert plan.flags_due(after(3.75))
    assert flags(plan.flag_due_steps(after(3.75), TEMPLATES)) == ["notify_supervisor/at_risk"]
    assert plan.flag_due_steps(after(4), TEMPLATES) == []
    assert plan.step("notify_supervisor").flagged_at_risk_at == after(3.75)  # type: ignore[union-attr]


def test_a_breach_is_flagged_once_with_its_escalation() -> None:
    plan = urgent_plan()
    plan.flag_due_steps(after(4), TEMPLATES)
    [breach] = plan.flag_due_steps(after(5), TEMPLATES)
    assert (breach.step, breach.flag, breach.escalated_to) == (
        "notify_supervisor",
        "breached",
        "on_duty_supervisor",
    )
    assert breach.deadline == after(5)
    assert plan.breaches == 1
    assert plan.flag_due_steps(after(6), TEMPLATES) == []


def test_a_late_clock_raises_at_risk_before_the_breach_of_each_step_in_deadline_order() -> None:
    plan = urgent_plan()
    assert flags(plan.flag_due_steps(after(12), TEMPLATES)) == [
        "notify_supervisor/at_risk", "notify_supervisor/breached", "safety_assessment/at_risk",
    ]  # fmt: skip


def test_each_breach_of_a_plan_escalates_one_level_further() -> None:
    plan = urgent_plan()
    breaches = [event for event in plan.flag_due_steps(after(120), TEMPLATES) if event.flag == "breached"]
    assert [breach.escalated_to for breach in breaches] == [
        "on_duty_supervisor", "backup_supervisor", "hotline_manager", "hotline_manager",
    ]  # fmt: skip
    assert plan.breaches == 4


def test_a_flag_has_the_same_id_however_it_is_raised_so_it_is_published_once() -> None:
    first, again = urgent_plan(), urgent_plan()
    assert [e.event_id for e in first.flag_due_steps(after(6), TEMPLATES)] == [
        e.event_id for e in again.flag_due_steps(after(7), TEMPLATES)
    ]


def test_a_done_step_is_never_flagged() -> None:
    plan = urgent_plan()
    plan.acknowledge(SUPERVISOR, after(1), TEMPLATES)
    assert "notify_supervisor" not in {event.step for event in plan.flag_due_steps(after(12), TEMPLATES)}


def test_a_superseded_plan_cancels_its_open_steps_and_is_never_flagged_again() -> None:
    plan = urgent_plan()
    plan.acknowledge(SUPERVISOR, after(1), TEMPLATES)
    successor, _ = start(Urgency.NON_URGENT, uuid.uuid4(), after(2))
    [superseded] = plan.supersede(successor, CAUSE, after(2))
    assert isinstance(superseded, ResponsePlanSupersededV1)
    assert (superseded.plan_id, superseded.superseded_by, superseded.urgency) == (
        plan.plan_id,
        successor.plan_id,
        Urgency.NON_URGENT,
    )
    assert [step.status for step in plan.steps] == [StepStatus.DONE, *[StepStatus.CANCELLED] * 3]
    assert (plan.status, plan.closed_at) == (PlanStatus.SUPERSEDED, after(2))
    assert not plan.flags_due(after(600))
    assert plan.flag_due_steps(after(600), TEMPLATES) == []


def test_a_superseded_plan_cannot_be_superseded_again() -> None:
    plan = urgent_plan()
    successor, _ = start(Urgency.NON_URGENT, uuid.uuid4(), after(2))
    plan.supersede(successor, CAUSE, after(2))
    with pytest.raises(PlanClosed):
        plan.supersede(successor, CAUSE, after(3))


def test_the_audit_records_a_completion_with_its_outcome_and_who_did_it() -> None:
    plan = urgent_plan()
    plan.complete_step("safety_assessment", "unable_to_assess", SUPERVISOR, after(4), TEMPLATES)
    assert plan.take_actions() == [
        PlanAction("step_completed", SUPERVISOR, after(4), "safety_assessment", "unable_to_assess")
    ]
