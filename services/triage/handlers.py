"""Triage's use cases: classify, revise, run response plans, and the supervisors' actions."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from functools import partial

import asyncpg

from schemas import topics
from schemas.envelope import utc_now
from schemas.intake import FactsUpdate, TipReceivedV1, TipSupplementedV1
from schemas.tip import TipFacts
from schemas.triage import (
    OverrideReason,
    PlanStep,
    Reason,
    ResponsePlanAcknowledgedV1,
    ResponsePlanCompletedV1,
    ResponsePlanStartedV1,
    ResponsePlanStepCompletedV1,
    ResponsePlanStepFlaggedV1,
    ResponsePlanSupersededV1,
    TipTriagedV1,
    TriageTrigger,
    Urgency,
    UrgencyOverride,
)
from services.common import metrics
from services.common.auth import Staff
from services.common.ids import derived_event_id
from services.common.messaging import Transaction, UnitOfWork
from services.common.sealing import DataKey, Keystore
from services.triage.adapters import repository
from services.triage.domain import revisions
from services.triage.domain.classification import Classification, classify
from services.triage.domain.plans import Templates, load_templates

CONSUMER = "triage"


class PlanNotFound(Exception):
    """No such plan, or no such step in it."""


class PlanClosed(Exception):
    """The plan or the step is no longer open."""


class OutcomeNotAllowed(Exception):
    def __init__(self, allowed: tuple[str, ...]) -> None:
        super().__init__("outcome not allowed for this step")
        self.allowed = allowed


@dataclass(frozen=True, slots=True)
class Reading:
    """Everything known of a tip now: its facts with every supplement, and the classifier's view."""

    facts: TipFacts
    classification: Classification
    data_key: DataKey | None


async def triage_tip(event: TipReceivedV1, uow: UnitOfWork, keystore: Keystore) -> None:
    """Classify a newly received tip, publish its urgency with the reasons and start its plan."""
    async with uow.begin() as tx:
        if not await tx.claim(CONSUMER, event.event_id):
            return
        reading = await _read_tip(
            tx.connection, keystore, event.tip_id, event.facts, event.identifiers.narrative, "triage.classify"
        )
        classification = reading.classification
        await repository.save_decision(tx.connection, event, classification)
        await tx.stage(
            topics.TIPS_TRIAGED,
            _triaged(
                event_id=derived_event_id(CONSUMER, event.event_id, "tip.triaged"),
                decision=_Decision.of_event(event), reading=reading, urgency=classification.urgency,
                reasons=classification.reasons, revision=1, trigger=TriageTrigger.RECEIVED,
                causation_id=event.event_id,
            ),
        )  # fmt: skip
        await _start_plan(
            tx,
            _Decision.of_event(event),
            classification.urgency,
            event.event_id,
            event.received_at,
            load_templates(),
        )
        tx.after_commit(
            lambda: _count_decision(classification.urgency, TriageTrigger.RECEIVED, event.received_at)
        )


async def retriage_on_supplement(event: TipSupplementedV1, uow: UnitOfWork, keystore: Keystore) -> None:
    """Classify the tip again with the reporter's new information; its urgency may rise, never fall.

    A supplement that overtakes its tip on the way is kept and counted when the tip arrives.
    """
    async with uow.begin() as tx:
        if not await tx.claim(CONSUMER, event.event_id):
            return
        await repository.save_supplement(tx.connection, event)
        row = await repository.lock_decision(tx.connection, event.tip_id)
        if row is None:
            return
        decision, current = _Decision.of_row(row), Urgency(row["urgency"])
        reading = await _read_tip(
            tx.connection, keystore, event.tip_id, decision.received_facts, row["sealed_narrative"],
            "triage.reclassify",
        )  # fmt: skip
        revision = revisions.after_new_information(
            current, Urgency(row["auto_urgency"]), frozenset(row["auto_reason_codes"]),
            reading.classification,
        )  # fmt: skip
        raised = revision.changes(current)
        number = await repository.revise_decision(
            tx.connection, event.tip_id, revision.urgency, revision.reasons, reading.classification,
            None if raised else row["override_id"],
        )  # fmt: skip
        await tx.stage(
            topics.TIPS_TRIAGED,
            _triaged(
                event_id=derived_event_id(CONSUMER, event.event_id, "tip.triaged"), decision=decision,
                reading=reading, urgency=revision.urgency, reasons=revision.reasons, revision=number,
                trigger=TriageTrigger.SUPPLEMENT, causation_id=event.event_id,
            ),
        )  # fmt: skip
        if raised:
            await _replace_plan(tx, decision, revision.urgency, event.event_id)
        tx.after_commit(lambda: _count_decision(revision.urgency, TriageTrigger.SUPPLEMENT, None))


@dataclass(frozen=True, slots=True)
class OverrideResult:
    tip_id: uuid.UUID
    urgency: Urgency
    revision: int
    override_id: uuid.UUID


async def override_urgency(
    tip_id: uuid.UUID,
    urgency: Urgency,
    reason: OverrideReason,
    note: str,
    staff: Staff,
    uow: UnitOfWork,
    keystore: Keystore,
) -> OverrideResult | None:
    """A supervisor sets a tip's urgency: audited, republished, and the plan follows.

    The supervisor's note is sealed under the tip's key, since it may well name someone.
    Raises ``revisions.UrgencyUnchanged`` when the tip already has that urgency.
    """
    async with uow.begin() as tx:
        row = await repository.lock_decision(tx.connection, tip_id)
        if row is None:
            return None
        decision, current = _Decision.of_row(row), Urgency(row["urgency"])
        reading = await _read_tip(
            tx.connection,
            keystore,
            tip_id,
            decision.received_facts,
            row["sealed_narrative"],
            "triage.override",
        )
        revision = revisions.overridden(current, urgency, reason, reading.classification)
        override_id = uuid.uuid4()
        number = await repository.revise_decision(
            tx.connection, tip_id, revision.urgency, revision.reasons, reading.classification, override_id
        )
        sealed_note = reading.data_key.seal(_note_field(override_id), note) if reading.data_key else None
        await repository.record_override(
            tx.connection, override_id=override_id, tip_id=tip_id, revision=number,
            from_urgency=current, to_urgency=urgency, reason=reason.value, sealed_note=sealed_note,
            staff_token_id=staff.token_id, staff_role=staff.role.value,
        )  # fmt: skip
        await tx.stage(
            topics.TIPS_TRIAGED,
            _triaged(
                event_id=derived_event_id(CONSUMER, override_id, "tip.triaged"), decision=decision,
                reading=reading, urgency=urgency, reasons=revision.reasons, revision=number,
                trigger=TriageTrigger.OVERRIDE, causation_id=None,
                override=UrgencyOverride(override_id=override_id, previous_urgency=current, reason=reason),
            ),
        )  # fmt: skip
        await _replace_plan(tx, decision, urgency, override_id)
        tx.after_commit(lambda: _count_decision(urgency, TriageTrigger.OVERRIDE, None))
        return OverrideResult(tip_id, urgency, number, override_id)


async def override_history(tip_id: uuid.UUID, uow: UnitOfWork, keystore: Keystore) -> list[dict[str, object]]:
    """A tip's overrides with the supervisors' notes, opened for the supervisor who asks (audited)."""
    async with uow.begin() as tx:
        rows = await repository.overrides(tx.connection, tip_id)
        if not rows:
            return []
        data_key = await keystore.open(
            tx.connection, tip_id, purpose="triage.override_history", fields=["override_notes"]
        )
        return [
            {
                "override_id": str(row["override_id"]),
                "revision": row["revision"],
                "from_urgency": row["from_urgency"],
                "to_urgency": row["to_urgency"],
                "reason": row["reason"],
                "note": data_key.unseal(_note_field(row["override_id"]), row["sealed_note"])
                if data_key and row["sealed_note"]
                else None,
                "by_role": row["staff_role"],
                "by_token": str(row["staff_token_id"]),
                "at": row["overridden_at"].isoformat(),
            }
            for row in rows
        ]


async def acknowledge_plan(plan_id: uuid.UUID, staff: Staff, uow: UnitOfWork) -> None:
    """A supervisor takes charge of a plan; steps done by that (notifying them) are done with it.

    Acknowledging twice changes nothing.
    """
    templates = load_templates()
    async with uow.begin() as tx:
        plan = await _lock_open_plan(tx.connection, plan_id)
        if plan["acknowledged_at"] is not None:
            return
        await repository.acknowledge_plan(tx.connection, plan_id, staff.token_id)
        await repository.record_plan_action(
            tx.connection, plan_id, "acknowledged", staff.token_id, staff.role.value
        )
        await tx.stage(
            topics.RESPONSE_PLANS,
            ResponsePlanAcknowledgedV1(
                tip_id=plan["tip_id"], correlation_id=plan["correlation_id"], traceparent=plan["traceparent"],
                producer=CONSUMER, plan_id=plan_id, by_role=staff.role.value,
            ),
        )  # fmt: skip
        for template in templates.plans[Urgency(plan["urgency"])]:
            if template.completed_by_acknowledgement:
                step = await repository.plan_step(tx.connection, plan_id, template.step)
                if step is not None and step["status"] == "open":
                    await _complete_step(tx, plan, step, template.outcomes[0], staff)


async def complete_step(
    plan_id: uuid.UUID, step_name: str, outcome: str, staff: Staff, uow: UnitOfWork
) -> None:
    """Record a step done with one of its template's outcomes; the last step completes the plan."""
    templates = load_templates()
    async with uow.begin() as tx:
        plan = await _lock_open_plan(tx.connection, plan_id)
        template = templates.step(Urgency(plan["urgency"]), step_name)
        step = await repository.plan_step(tx.connection, plan_id, step_name)
        if template is None or step is None:
            raise PlanNotFound
        if step["status"] != "open":
            raise PlanClosed
        if outcome not in template.outcomes:
            raise OutcomeNotAllowed(template.outcomes)
        await _complete_step(tx, plan, step, outcome, staff)


async def flag_due_steps(uow: UnitOfWork, templates: Templates, batch: int = 100) -> int:
    """Publish, exactly once each, the at-risk and breach flags that are now due; return how many.

    Due steps are locked with SKIP LOCKED, so two triage processes never flag the same step, and a
    flag is marked in the transaction that stages its event, so a restart never flags it again.
    """
    async with uow.begin() as tx:
        flagged = 0
        for row in await repository.claim_due_flags(tx.connection, batch):
            breaches = row["breaches"]
            for flag, due in (("at_risk", row["at_risk_due"]), ("breached", row["breach_due"])):
                if not due:
                    continue
                escalated_to = templates.escalation_target(breaches) if flag == "breached" else None
                breaches += flag == "breached"
                await tx.stage(
                    topics.RESPONSE_PLANS,
                    ResponsePlanStepFlaggedV1(
                        event_id=uuid.uuid5(row["plan_id"], f"{row['step']}/{flag}"),
                        tip_id=row["tip_id"], correlation_id=row["correlation_id"], producer=CONSUMER,
                        plan_id=row["plan_id"], step=row["step"], flag=flag, deadline=row["deadline"],
                        escalated_to=escalated_to,
                    ),
                )  # fmt: skip
                flagged += 1
                tx.after_commit(partial(metrics.plan_flags.add, 1, {"flag": flag}))
            await repository.mark_flagged(
                tx.connection, row["plan_id"], row["step"], bool(row["at_risk_due"]), bool(row["breach_due"])
            )
        return flagged


@dataclass(frozen=True, slots=True)
class _Decision:
    """What a revision needs of the tip's stored triage."""

    tip_id: uuid.UUID
    correlation_id: uuid.UUID
    traceparent: str | None
    received_at: datetime
    received_facts: TipFacts

    @classmethod
    def of_event(cls, event: TipReceivedV1) -> _Decision:
        return cls(event.tip_id, event.correlation_id, event.traceparent, event.received_at, event.facts)

    @classmethod
    def of_row(cls, row: asyncpg.Record) -> _Decision:
        return cls(
            row["tip_id"], row["correlation_id"], row["traceparent"], row["received_at"],
            TipFacts.model_validate(row["received_facts"]),
        )  # fmt: skip


async def _read_tip(
    connection: asyncpg.Connection,
    keystore: Keystore,
    tip_id: uuid.UUID,
    received_facts: TipFacts,
    sealed_narrative: str | None,
    purpose: str,
) -> Reading:
    """The tip's facts with every supplement applied, and its narratives opened in memory only."""
    facts = received_facts
    sealed = [("narrative", sealed_narrative)]
    for supplement in await repository.supplements(connection, tip_id):
        facts = FactsUpdate.model_validate(supplement["facts_update"]).applied_to(facts)
        sealed.append(
            (f"supplements.{supplement['supplement_id']}.narrative", supplement["sealed_narrative"])
        )
    data_key = await keystore.open(connection, tip_id, purpose=purpose, fields=["narrative"])
    narratives = [data_key.unseal(field, value) for field, value in sealed if value] if data_key else []
    narrative = "\n\n".join(narratives) or None
    return Reading(facts, classify(facts, narrative, narrative_erased=data_key is None), data_key)


def _triaged(
    *,
    event_id: uuid.UUID,
    decision: _Decision,
    reading: Reading,
    urgency: Urgency,
    reasons: tuple[Reason, ...],
    revision: int,
    trigger: TriageTrigger,
    causation_id: uuid.UUID | None,
    override: UrgencyOverride | None = None,
) -> TipTriagedV1:
    classification = reading.classification
    return TipTriagedV1(
        event_id=event_id, tip_id=decision.tip_id, correlation_id=decision.correlation_id,
        causation_id=causation_id, traceparent=decision.traceparent, producer=CONSUMER,
        revision=revision, trigger=trigger, override=override, urgency=urgency, reasons=list(reasons),
        indicators=list(classification.indicators), missing=list(classification.missing),
        minor_involved=classification.minor_involved, imminent_danger=classification.imminent_danger,
        ruleset_version=classification.ruleset_version, received_at=decision.received_at,
        facts=reading.facts,
    )  # fmt: skip


async def _start_plan(
    tx: Transaction,
    decision: _Decision,
    urgency: Urgency,
    cause_id: uuid.UUID,
    starts_at: datetime,
    templates: Templates,
) -> uuid.UUID:
    """Start a response plan for ``urgency`` in the transaction that decided it."""
    plan_id = derived_event_id(CONSUMER, cause_id, "response_plan")
    steps = templates.plan(urgency, starts_at)
    await repository.start_plan(
        tx.connection, plan_id=plan_id, tip_id=decision.tip_id, urgency=urgency.value,
        template_version=templates.version, correlation_id=decision.correlation_id, steps=steps,
    )  # fmt: skip
    await tx.stage(
        topics.RESPONSE_PLANS,
        ResponsePlanStartedV1(
            event_id=derived_event_id(CONSUMER, cause_id, "response_plan.started"),
            tip_id=decision.tip_id, correlation_id=decision.correlation_id, causation_id=cause_id,
            traceparent=decision.traceparent, producer=CONSUMER, plan_id=plan_id, urgency=urgency,
            template_version=templates.version,
            steps=[PlanStep(step=s.step, at_risk_at=s.at_risk_at, deadline=s.deadline) for s in steps],
        ),
    )  # fmt: skip
    return plan_id


async def _replace_plan(tx: Transaction, decision: _Decision, urgency: Urgency, cause_id: uuid.UUID) -> None:
    """The urgency changed: the open plan is superseded and a plan for the new urgency starts now."""
    current = await repository.lock_open_plan_of_tip(tx.connection, decision.tip_id)
    if current is not None:
        await repository.supersede_plan(tx.connection, current["plan_id"])
    new_plan_id = await _start_plan(tx, decision, urgency, cause_id, utc_now(), load_templates())
    if current is not None:
        await tx.stage(
            topics.RESPONSE_PLANS,
            ResponsePlanSupersededV1(
                event_id=derived_event_id(CONSUMER, cause_id, "response_plan.superseded"),
                tip_id=decision.tip_id, correlation_id=decision.correlation_id, causation_id=cause_id,
                traceparent=decision.traceparent, producer=CONSUMER, plan_id=current["plan_id"],
                superseded_by=new_plan_id, urgency=urgency,
            ),
        )  # fmt: skip


async def _lock_open_plan(connection: asyncpg.Connection, plan_id: uuid.UUID) -> asyncpg.Record:
    plan = await repository.lock_plan(connection, plan_id)
    if plan is None:
        raise PlanNotFound
    if plan["status"] != "open":
        raise PlanClosed
    return plan


async def _complete_step(
    tx: Transaction, plan: asyncpg.Record, step: asyncpg.Record, outcome: str, staff: Staff
) -> None:
    plan_id = plan["plan_id"]
    completed_at = await repository.complete_step(tx.connection, plan_id, step["step"], outcome)
    await repository.record_plan_action(
        tx.connection, plan_id, "step_completed", staff.token_id, staff.role.value, step["step"], outcome
    )
    envelope = {
        "tip_id": plan["tip_id"], "correlation_id": plan["correlation_id"], "traceparent": plan["traceparent"],
        "producer": CONSUMER, "plan_id": plan_id,
    }  # fmt: skip
    await tx.stage(
        topics.RESPONSE_PLANS,
        ResponsePlanStepCompletedV1(
            **envelope, step=step["step"], outcome=outcome, on_time=completed_at <= step["deadline"],
            by_role=staff.role.value,
        ),
    )  # fmt: skip
    if await repository.open_steps(tx.connection, plan_id) == 0:
        await repository.complete_plan(tx.connection, plan_id)
        await tx.stage(topics.RESPONSE_PLANS, ResponsePlanCompletedV1(**envelope, breaches=plan["breaches"]))


def _count_decision(urgency: Urgency, trigger: TriageTrigger, received_at: datetime | None) -> None:
    """Count a decision; the time to triage is measured on a tip's first decision only."""
    metrics.triage_decisions.add(1, {"urgency": urgency.value, "trigger": trigger.value})
    if received_at is not None:
        metrics.time_to_triage.record((utc_now() - received_at).total_seconds(), {"urgency": urgency.value})


def _note_field(override_id: uuid.UUID) -> str:
    return f"triage.overrides.{override_id}.note"
