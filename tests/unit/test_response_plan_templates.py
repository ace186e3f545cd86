from datetime import UTC, datetime, timedelta

from schemas.triage import Urgency
from services.triage.domain.plans import load_templates

RECEIVED = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)


def test_an_urgent_plan_has_its_steps_due_within_the_hour_from_receipt() -> None:
    steps = load_templates().plan(Urgency.URGENT, RECEIVED)
    assert [step.step for step in steps] == [
        "notify_supervisor", "safety_assessment", "evaluate_mandatory_reporting", "emergency_referral",
    ]  # fmt: skip
    assert steps[0].deadline == RECEIVED + timedelta(minutes=5)
    assert steps[-1].deadline == RECEIVED + timedelta(hours=1)


def test_a_step_is_at_risk_at_three_quarters_of_its_time() -> None:
    [review] = load_templates().plan(Urgency.NON_URGENT, RECEIVED)
    assert review.deadline == RECEIVED + timedelta(hours=24)
    assert review.at_risk_at == RECEIVED + timedelta(hours=18)


def test_every_urgency_has_a_plan_that_a_supervisor_owns() -> None:
    templates = load_templates()
    assert set(templates.plans) == set(Urgency)
    assert (
        load_templates().plan(Urgency.INSUFFICIENT_INFORMATION, RECEIVED)[0].step
        == "close_or_seek_information"
    )


def test_each_breach_escalates_one_level_further_and_stops_at_the_top() -> None:
    templates = load_templates()
    assert [templates.escalation_target(n) for n in range(4)] == [
        "on_duty_supervisor", "backup_supervisor", "hotline_manager", "hotline_manager",
    ]  # fmt: skip


def test_every_step_names_the_outcomes_it_can_be_completed_with() -> None:
    templates = load_templates()
    for urgency, steps in templates.plans.items():
        for step in steps:
            assert step.outcomes, f"{urgency}/{step.step} has no outcomes"
            assert templates.step(urgency, step.step) == step
    assert templates.step(Urgency.URGENT, "supervisor_review") is None


def test_only_notifying_the_supervisor_is_done_by_acknowledging_the_plan() -> None:
    templates = load_templates()
    assert [
        step.step for steps in templates.plans.values() for step in steps if step.completed_by_acknowledgement
    ] == ["notify_supervisor"]
