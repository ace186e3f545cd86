"""Triage's use cases on repositories in memory: the rules end to end, without a database."""

import os
import uuid
from datetime import timedelta
from typing import Any

import pytest

from schemas import topics
from schemas.envelope import utc_now
from schemas.intake import TipReceivedV1
from schemas.triage import (
    OverrideReason,
    ResponsePlanStartedV1,
    ResponsePlanStepFlaggedV1,
    ResponsePlanSupersededV1,
    TipTriagedV1,
    Urgency,
)
from services.common.auth import Role, Staff
from services.common.sealing import DataKey
from services.triage import handlers
from services.triage.adapters.memory import MemoryTriage, Unseal
from services.triage.domain.plan import (
    OutcomeNotAllowed,
    PlanClosed,
    PlanNotFound,
    PlanStatus,
    ResponsePlan,
    StepStatus,
)
from services.triage.domain.plans import load_templates
from services.triage.domain.revisions import UrgencyUnchanged
from tests.factories import tip_received, tip_supplemented

URGENT: dict[str, Any] = {
    "assessment": {"minor_involved": "yes", "imminent_danger": "no", "trafficking_types": ["labour"]}
}
SUPERVISOR = Staff(uuid.uuid4(), Role.SUPERVISOR)
NOTE = "Spoke again with Marie-Claude Tremblay: the worker is 24, not a minor."
TEMPLATES = load_templates()


@pytest.fixture
def triage() -> MemoryTriage:
    return MemoryTriage()


def with_key(triage: MemoryTriage) -> DataKey:
    """A tip's data key, as intake would have created it."""
    key = DataKey(uuid.uuid4(), os.urandom(32))
    triage.tables.data_keys[key.tip_id] = key
    return key


async def received(triage: MemoryTriage, tip: TipReceivedV1) -> None:
    async with triage.begin() as uow:
        await handlers.triage_tip(tip, uow)


def published(triage: MemoryTriage, topic: str | None = None) -> list[Any]:
    return [message.content for message in triage.tables.outbox if topic in (None, message.topic)]


def plans_of(triage: MemoryTriage, tip: TipReceivedV1) -> list[ResponsePlan]:
    return sorted(
        (plan for plan in triage.tables.plans.values() if plan.tip_id == tip.tip_id),
        key=lambda p: p.started_at,
    )


async def test_a_received_tip_is_triaged_and_its_plan_started_in_the_same_unit_of_work(
    triage: MemoryTriage,
) -> None:
    tip = tip_received(**URGENT)
    uow = triage.unit_of_work()
    await handlers.triage_tip(tip, uow)

    triaged, started = uow.outbox.events()
    assert [message.topic for message in uow.outbox.messages] == [topics.TIPS_TRIAGED, topics.RESPONSE_PLANS]
    assert isinstance(triaged, TipTriagedV1)
    assert (triaged.urgency, triaged.revision, triaged.causation_id) == (Urgency.URGENT, 1, tip.event_id)
    assert isinstance(started, ResponsePlanStartedV1)
    assert started.steps[0].deadline == tip.received_at + timedelta(minutes=5)
    assert triage.tables.decisions[tip.tip_id].urgency is Urgency.URGENT
    assert [plan.plan_id for plan in plans_of(triage, tip)] == [started.plan_id]


async def test_the_narrative_is_opened_with_the_tips_key_and_the_opening_is_audited(
    triage: MemoryTriage,
) -> None:
    key = with_key(triage)
    tip = tip_received(key=key, narrative="Elle a 15 ans et ne peut pas partir de la ferme.")
    await received(triage, tip)
    [triaged] = published(triage, topics.TIPS_TRIAGED)
    assert triaged.urgency is Urgency.URGENT
    assert "victim_under_18_in_text" in [reason.code for reason in triaged.reasons]
    assert triage.tables.unseal_audit == [Unseal(tip.tip_id, "triage.classify", ("narrative",), "unsealed")]


async def test_an_erased_tip_is_triaged_on_its_facts_alone(triage: MemoryTriage) -> None:
    tip = tip_received(narrative="Elle a 15 ans et ne peut pas partir de la ferme.")
    await received(triage, tip)
    [triaged] = published(triage, topics.TIPS_TRIAGED)
    assert triaged.urgency is Urgency.NON_URGENT
    assert triage.tables.unseal_audit[0].outcome == "erased"


async def test_a_supplement_revealing_a_minor_raises_the_urgency_and_the_plan_follows(
    triage: MemoryTriage,
) -> None:
    key = with_key(triage)
    tip = tip_received(key=key)
    await received(triage, tip)
    supplement = tip_supplemented(tip, key, narrative="Je l'ai revue hier : elle a 15 ans.")
    uow = triage.unit_of_work()
    await handlers.retriage_on_supplement(supplement, uow)

    triaged, started, superseded = uow.outbox.events()
    assert isinstance(triaged, TipTriagedV1)
    assert (triaged.revision, triaged.trigger, triaged.urgency) == (2, "supplement", Urgency.URGENT)
    assert triaged.reasons[0].code == "supplement.raised_urgency"
    assert isinstance(started, ResponsePlanStartedV1)
    assert started.steps[0].step == "notify_supervisor"
    assert isinstance(superseded, ResponsePlanSupersededV1)
    assert superseded.superseded_by == started.plan_id
    first, second = plans_of(triage, tip)
    assert (first.status, second.status) == (PlanStatus.SUPERSEDED, PlanStatus.OPEN)
    assert {step.status for step in first.steps} == {StepStatus.CANCELLED}


async def test_a_supplement_that_brings_no_new_ground_revises_the_triage_and_keeps_the_plan(
    triage: MemoryTriage,
) -> None:
    tip = tip_received(**URGENT)
    await received(triage, tip)
    uow = triage.unit_of_work()
    await handlers.retriage_on_supplement(tip_supplemented(tip, needs=["legal"]), uow)
    [triaged] = uow.outbox.events()
    assert isinstance(triaged, TipTriagedV1)
    assert (triaged.revision, triaged.urgency) == (2, Urgency.URGENT)
    assert [plan.status for plan in plans_of(triage, tip)] == [PlanStatus.OPEN]


async def test_a_supplement_that_overtakes_its_tip_is_kept_and_counted_when_the_tip_arrives(
    triage: MemoryTriage,
) -> None:
    tip = tip_received()
    uow = triage.unit_of_work()
    await handlers.retriage_on_supplement(tip_supplemented(tip, assessment={"imminent_danger": "yes"}), uow)
    assert uow.outbox.events() == []
    await received(triage, tip)
    [triaged] = published(triage, topics.TIPS_TRIAGED)
    assert (triaged.revision, triaged.urgency) == (1, Urgency.URGENT)
    assert triaged.facts.assessment.imminent_danger == "yes"


async def test_an_override_is_audited_with_its_note_sealed_republished_and_replaces_the_plan(
    triage: MemoryTriage,
) -> None:
    key = with_key(triage)
    tip = tip_received(key=key, **URGENT)
    await received(triage, tip)
    async with triage.begin() as uow:
        result = await handlers.override_urgency(
            tip.tip_id, Urgency.NON_URGENT, OverrideReason.CALLER_CLARIFIED, NOTE, SUPERVISOR, uow
        )
    assert result is not None
    assert (result.urgency, result.revision) == (Urgency.NON_URGENT, 2)

    revised = published(triage, topics.TIPS_TRIAGED)[-1]
    assert (revised.trigger, revised.causation_id, revised.override.previous_urgency) == (
        "override",
        None,
        Urgency.URGENT,
    )
    assert revised.reasons[0].code == "override.caller_clarified"
    [audit] = triage.tables.overrides
    assert (audit.from_urgency, audit.to_urgency, audit.by.role) == (
        Urgency.URGENT,
        Urgency.NON_URGENT,
        "supervisor",
    )
    assert audit.sealed_note is not None
    assert "Tremblay" not in audit.sealed_note
    assert "Tremblay" not in str(published(triage))
    assert [plan.urgency for plan in plans_of(triage, tip)] == [Urgency.URGENT, Urgency.NON_URGENT]

    async with triage.begin() as uow:
        [opened] = await handlers.override_history(tip.tip_id, uow)
    assert opened.note == NOTE
    assert triage.tables.unseal_audit[-1].purpose == "triage.override_history"


async def test_an_override_to_the_urgency_the_tip_has_is_refused_and_changes_nothing(
    triage: MemoryTriage,
) -> None:
    tip = tip_received(**URGENT)
    await received(triage, tip)
    before = (len(triage.tables.outbox), triage.tables.decisions[tip.tip_id].revision)
    with pytest.raises(UrgencyUnchanged):
        async with triage.begin() as uow:
            await handlers.override_urgency(
                tip.tip_id, Urgency.URGENT, OverrideReason.OTHER, NOTE, SUPERVISOR, uow
            )
    assert (len(triage.tables.outbox), triage.tables.decisions[tip.tip_id].revision) == before
    assert triage.tables.overrides == []


async def test_an_override_of_a_tip_never_triaged_finds_nothing(triage: MemoryTriage) -> None:
    uow = triage.unit_of_work()
    assert (
        await handlers.override_urgency(
            uuid.uuid4(), Urgency.URGENT, OverrideReason.OTHER, NOTE, SUPERVISOR, uow
        )
        is None
    )
    assert uow.outbox.events() == []


async def test_acknowledging_then_completing_every_step_completes_the_plan_and_audits_each_action(
    triage: MemoryTriage,
) -> None:
    tip = tip_received(**URGENT)
    await received(triage, tip)
    [plan] = plans_of(triage, tip)
    async with triage.begin() as uow:
        await handlers.acknowledge_plan(plan.plan_id, SUPERVISOR, uow)
    for step, outcome in (
        ("safety_assessment", "safety_plan_made"),
        ("evaluate_mandatory_reporting", "report_required"),
        ("emergency_referral", "referred"),
    ):
        async with triage.begin() as uow:
            await handlers.complete_step(plan.plan_id, step, outcome, SUPERVISOR, uow)

    assert [event.event_type for event in published(triage, topics.RESPONSE_PLANS)] == [
        "response_plan.started", "response_plan.acknowledged", *["response_plan.step_completed"] * 4,
        "response_plan.completed",
    ]  # fmt: skip
    assert triage.tables.plans[plan.plan_id].status is PlanStatus.COMPLETED
    assert [action.action for _, action in triage.tables.plan_actions] == [
        "acknowledged",
        *["step_completed"] * 4,
    ]
    with pytest.raises(PlanClosed):
        async with triage.begin() as uow:
            await handlers.complete_step(plan.plan_id, "emergency_referral", "referred", SUPERVISOR, uow)


async def test_a_refused_completion_changes_nothing_and_says_which_outcomes_are_allowed(
    triage: MemoryTriage,
) -> None:
    tip = tip_received(**URGENT)
    await received(triage, tip)
    [plan] = plans_of(triage, tip)
    with pytest.raises(OutcomeNotAllowed) as refused:
        async with triage.begin() as uow:
            await handlers.complete_step(plan.plan_id, "safety_assessment", "fine", SUPERVISOR, uow)
    assert "safety_plan_made" in refused.value.allowed
    assert triage.tables.plans[plan.plan_id].step("safety_assessment").status is StepStatus.OPEN  # type: ignore[union-attr]
    assert triage.tables.plan_actions == []


async def test_acting_on_a_plan_that_does_not_exist_finds_nothing(triage: MemoryTriage) -> None:
    with pytest.raises(PlanNotFound):
        await handlers.acknowledge_plan(uuid.uuid4(), SUPERVISOR, triage.unit_of_work())


async def test_the_clock_publishes_each_due_flag_once_however_often_it_ticks(triage: MemoryTriage) -> None:
    tip = tip_received(**URGENT).model_copy(update={"received_at": utc_now() - timedelta(minutes=12)})
    await received(triage, tip)
    counts = []
    for _ in range(3):
        async with triage.begin() as uow:
            counts.append(await handlers.flag_due_steps(uow, TEMPLATES))
    assert counts == [3, 0, 0]
    flags = published(triage, topics.RESPONSE_PLANS)[1:]
    assert len(flags) == 3 and all(isinstance(flag, ResponsePlanStepFlaggedV1) for flag in flags)
    assert [(flag.step, flag.flag, flag.escalated_to) for flag in flags] == [
        ("notify_supervisor", "at_risk", None),
        ("notify_supervisor", "breached", "on_duty_supervisor"),
        ("safety_assessment", "at_risk", None),
    ]


async def test_the_clock_never_flags_a_plan_that_an_override_superseded(triage: MemoryTriage) -> None:
    tip = tip_received(**URGENT).model_copy(update={"received_at": utc_now() - timedelta(minutes=12)})
    await received(triage, tip)
    async with triage.begin() as uow:
        await handlers.override_urgency(
            tip.tip_id, Urgency.NON_URGENT, OverrideReason.DUPLICATE, NOTE, SUPERVISOR, uow
        )
    async with triage.begin() as uow:
        assert await handlers.flag_due_steps(uow, TEMPLATES, now=utc_now() + timedelta(hours=1)) == 0
    assert not [event for event in published(triage) if isinstance(event, ResponsePlanStepFlaggedV1)]
