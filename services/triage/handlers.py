"""Triage's use cases: classify, revise, run response plans, and the supervisors' actions.

Each runs inside a transaction it is given: the runtime's for an event (which has already claimed
the event in the inbox), an entrypoint's for a request or a tick of the deadline clock.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from schemas import topics
from schemas.envelope import EventBase, utc_now
from schemas.intake import TipReceivedV1, TipSupplementedV1
from schemas.tip import TipFacts
from schemas.triage import OverrideReason, TriageTrigger, Urgency, UrgencyOverride
from services.common import metrics
from services.common.auth import Staff
from services.common.envelope import following, of_tip
from services.common.ids import derived_event_id
from services.common.sealing import DataKey
from services.triage.domain.actor import Actor
from services.triage.domain.classification import Classification, classify
from services.triage.domain.decision import Decision, Override, Supplement, note_field
from services.triage.domain.plan import PRODUCER, PlanNotFound, ResponsePlan
from services.triage.domain.plans import Templates, load_templates
from services.triage.ports import TriageWork


@dataclass(frozen=True, slots=True)
class Reading:
    """Everything known of a tip now: its facts with every supplement, and the classifier's view."""

    facts: TipFacts
    classification: Classification
    data_key: DataKey | None


async def triage_tip(event: TipReceivedV1, uow: TriageWork) -> None:
    """Classify a newly received tip, publish its urgency with the reasons and start its plan."""
    reading = await _read_tip(
        uow, event.tip_id, event.facts, event.identifiers.narrative, "triage.classify", event.received_at
    )
    decision = Decision.first(event, reading.classification)
    await uow.decisions.add(decision)
    triaged = decision.triaged(
        following(event, PRODUCER, "tip.triaged"),
        TriageTrigger.RECEIVED,
        reading.facts,
        reading.classification,
    )
    uow.outbox.stage(topics.TIPS_TRIAGED, triaged)
    plan, started = ResponsePlan.start(
        tip_id=decision.tip_id, correlation_id=decision.correlation_id, traceparent=decision.traceparent,
        urgency=decision.urgency, cause_id=event.event_id, counted_from=event.received_at, now=utc_now(),
        templates=load_templates(),
    )  # fmt: skip
    await uow.plans.add(plan)
    _stage(uow, topics.RESPONSE_PLANS, started)
    uow.after_commit(partial(_count_decision, decision.urgency, TriageTrigger.RECEIVED, event.received_at))


async def retriage_on_supplement(event: TipSupplementedV1, uow: TriageWork) -> None:
    """Classify the tip again with the reporter's new information; its urgency may rise, never fall.

    A supplement that overtakes its tip on the way is kept and counted when the tip arrives.
    """
    await uow.supplements.add(Supplement.of(event))
    decision = await uow.decisions.get(event.tip_id)
    if decision is None:
        return
    reading = await _read_tip(
        uow, decision.tip_id, decision.received_facts, decision.sealed_narrative, "triage.reclassify",
        decision.received_at,
    )  # fmt: skip
    raised = decision.revise_with(reading.classification)
    await uow.decisions.save(decision)
    triaged = decision.triaged(
        following(event, PRODUCER, "tip.triaged"),
        TriageTrigger.SUPPLEMENT,
        reading.facts,
        reading.classification,
    )
    uow.outbox.stage(topics.TIPS_TRIAGED, triaged)
    if raised:
        await _replace_plan(uow, decision, event.event_id)
    uow.after_commit(partial(_count_decision, decision.urgency, TriageTrigger.SUPPLEMENT, None))


@dataclass(frozen=True, slots=True)
class OverrideResult:
    tip_id: uuid.UUID
    urgency: Urgency
    revision: int
    override_id: uuid.UUID


async def override_urgency(
    tip_id: uuid.UUID, urgency: Urgency, reason: OverrideReason, note: str, staff: Staff, uow: TriageWork
) -> OverrideResult | None:
    """A supervisor sets a tip's urgency: audited, republished, and the plan follows.

    The supervisor's note is sealed under the tip's key, since it may well name someone.
    Raises ``revisions.UrgencyUnchanged`` when the tip already has that urgency.
    """
    decision = await uow.decisions.get(tip_id)
    if decision is None:
        return None
    reading = await _read_tip(
        uow,
        tip_id,
        decision.received_facts,
        decision.sealed_narrative,
        "triage.override",
        decision.received_at,
    )
    previous, override_id = decision.urgency, uuid.uuid4()
    decision.override(urgency, reason, reading.classification, override_id)
    await uow.decisions.save(decision)
    sealed_note = reading.data_key.seal(note_field(override_id), note) if reading.data_key else None
    await uow.overrides.add(
        Override(
            override_id=override_id, tip_id=tip_id, revision=decision.revision, from_urgency=previous,
            to_urgency=urgency, reason=reason, sealed_note=sealed_note, by=_actor(staff), at=utc_now(),
        )
    )  # fmt: skip
    envelope = of_tip(tip_id, decision.correlation_id, PRODUCER, decision.traceparent)
    triaged = decision.triaged(
        {**envelope, "event_id": derived_event_id(PRODUCER, override_id, "tip.triaged")},
        TriageTrigger.OVERRIDE, reading.facts, reading.classification,
        override=UrgencyOverride(override_id=override_id, previous_urgency=previous, reason=reason),
    )  # fmt: skip
    uow.outbox.stage(topics.TIPS_TRIAGED, triaged)
    await _replace_plan(uow, decision, override_id)
    uow.after_commit(partial(_count_decision, urgency, TriageTrigger.OVERRIDE, None))
    return OverrideResult(tip_id, urgency, decision.revision, override_id)


@dataclass(frozen=True, slots=True)
class OpenedOverride:
    """An override from the audit with its note opened, for the supervisor who asked."""

    override: Override
    note: str | None


async def override_history(tip_id: uuid.UUID, uow: TriageWork) -> list[OpenedOverride]:
    """A tip's overrides with the supervisors' notes, opened for the supervisor who asks (audited)."""
    overrides = await uow.overrides.of_tip(tip_id)
    if not overrides:
        return []
    data_key = await uow.keys.open(tip_id, purpose="triage.override_history", fields=["override_notes"])
    return [
        OpenedOverride(
            override,
            data_key.unseal(override.note_field, override.sealed_note)
            if data_key and override.sealed_note
            else None,
        )
        for override in overrides
    ]


async def acknowledge_plan(plan_id: uuid.UUID, staff: Staff, uow: TriageWork) -> None:
    """A supervisor takes charge of a plan; steps done by that (notifying them) are done with it.

    Acknowledging twice changes nothing.
    """
    plan = await _plan(uow, plan_id)
    events = plan.acknowledge(_actor(staff), utc_now(), load_templates())
    await uow.plans.save(plan)
    _stage(uow, topics.RESPONSE_PLANS, events)


async def complete_step(plan_id: uuid.UUID, step: str, outcome: str, staff: Staff, uow: TriageWork) -> None:
    """Record a step done with one of its template's outcomes; the last step completes the plan."""
    plan = await _plan(uow, plan_id)
    events = plan.complete_step(step, outcome, _actor(staff), utc_now(), load_templates())
    await uow.plans.save(plan)
    _stage(uow, topics.RESPONSE_PLANS, events)


async def flag_due_steps(
    uow: TriageWork, templates: Templates, now: datetime | None = None, batch: int = 100
) -> int:
    """Publish, exactly once each, the at-risk and breach flags due by ``now``; return how many.

    The plans are locked (another clock skips them) and each flag is marked in the transaction that
    stages its event, so neither a second clock nor a restart flags a step again.
    """
    now = now or utc_now()
    flagged = 0
    for plan in await uow.plans.due(now, batch):
        flags = plan.flag_due_steps(now, templates)
        await uow.plans.save(plan)
        _stage(uow, topics.RESPONSE_PLANS, flags)
        for flag in flags:
            uow.after_commit(partial(metrics.plan_flags.add, 1, {"flag": flag.flag}))
        flagged += len(flags)
    return flagged


async def _read_tip(
    uow: TriageWork,
    tip_id: uuid.UUID,
    received_facts: TipFacts,
    sealed_narrative: str | None,
    purpose: str,
    received_at: datetime,
) -> Reading:
    """The tip's facts with every supplement applied, and its narratives opened in memory only.

    A year of birth in the narrative is an age against the day the tip was received, not today.
    """
    facts, sealed = received_facts, [("narrative", sealed_narrative)]
    for supplement in await uow.supplements.of_tip(tip_id):
        facts = supplement.update.applied_to(facts)
        sealed.append((supplement.narrative_field, supplement.sealed_narrative))
    data_key = await uow.keys.open(tip_id, purpose=purpose, fields=["narrative"])
    narratives = [data_key.unseal(field, value) for field, value in sealed if value] if data_key else []
    narrative = "\n\n".join(narratives) or None
    classification = classify(
        facts, narrative, narrative_erased=data_key is None, received_on=received_at.date()
    )
    return Reading(facts, classification, data_key)


async def _replace_plan(uow: TriageWork, decision: Decision, cause_id: uuid.UUID) -> None:
    """The urgency changed: the open plan is superseded and a plan for the new urgency starts now."""
    now = utc_now()
    current = await uow.plans.open_plan_of_tip(decision.tip_id)
    successor, events = ResponsePlan.start(
        tip_id=decision.tip_id, correlation_id=decision.correlation_id, traceparent=decision.traceparent,
        urgency=decision.urgency, cause_id=cause_id, counted_from=now, now=now, templates=load_templates(),
    )  # fmt: skip
    if current is not None:
        events += current.supersede(successor, cause_id, now)
        await uow.plans.save(current)
    await uow.plans.add(successor)
    _stage(uow, topics.RESPONSE_PLANS, events)


async def _plan(uow: TriageWork, plan_id: uuid.UUID) -> ResponsePlan:
    plan = await uow.plans.get(plan_id)
    if plan is None:
        raise PlanNotFound
    return plan


def _stage(uow: TriageWork, topic: str, events: Iterable[EventBase]) -> None:
    for event in events:
        uow.outbox.stage(topic, event)


def _actor(staff: Staff) -> Actor:
    return Actor(staff.token_id, staff.role.value)


def _count_decision(urgency: Urgency, trigger: TriageTrigger, received_at: datetime | None) -> None:
    """Count a decision; the time to triage is measured on a tip's first decision only."""
    metrics.triage_decisions.add(1, {"urgency": urgency.value, "trigger": trigger.value})
    if received_at is not None:
        metrics.time_to_triage.record((utc_now() - received_at).total_seconds(), {"urgency": urgency.value})
