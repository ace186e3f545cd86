"""Triage's use cases."""

from __future__ import annotations

import uuid

from schemas import topics
from schemas.intake import TipReceivedV1
from schemas.triage import PlanStep, ResponsePlanStartedV1, ResponsePlanStepFlaggedV1, TipTriagedV1, Urgency
from services.common.ids import derived_event_id
from services.common.messaging import Transaction, UnitOfWork
from services.common.sealing import Keystore
from services.triage.adapters import repository
from services.triage.domain.classification import classify
from services.triage.domain.plans import Templates, load_templates

CONSUMER = "triage"


async def triage_tip(event: TipReceivedV1, uow: UnitOfWork, keystore: Keystore) -> None:
    """Classify a newly received tip and publish its urgency with the reasons."""
    async with uow.begin() as tx:
        if not await tx.claim(CONSUMER, event.event_id):
            return
        narrative = None
        data_key = await keystore.open(
            tx.connection, event.tip_id, purpose="triage.classify", fields=["narrative"]
        )
        if data_key is not None and event.identifiers.narrative is not None:
            narrative = data_key.unseal("narrative", event.identifiers.narrative)
        classification = classify(event.facts, narrative, narrative_erased=data_key is None)
        await repository.save_decision(
            tx.connection, event.tip_id, classification, event.event_id, event.received_at
        )
        await tx.stage(
            topics.TIPS_TRIAGED,
            TipTriagedV1(
                event_id=derived_event_id(CONSUMER, event.event_id, "tip.triaged"),
                tip_id=event.tip_id,
                correlation_id=event.correlation_id,
                causation_id=event.event_id,
                traceparent=event.traceparent,
                producer=CONSUMER,
                urgency=classification.urgency,
                reasons=list(classification.reasons),
                indicators=list(classification.indicators),
                missing=list(classification.missing),
                minor_involved=classification.minor_involved,
                imminent_danger=classification.imminent_danger,
                ruleset_version=classification.ruleset_version,
                received_at=event.received_at,
                facts=event.facts,
            ),
        )
        await _start_response_plan(tx, event, classification.urgency, load_templates())


async def _start_response_plan(
    tx: Transaction, event: TipReceivedV1, urgency: Urgency, templates: Templates
) -> None:
    """Start the tip's response plan in the transaction that decided its urgency."""
    plan_id = derived_event_id(CONSUMER, event.event_id, "response_plan")
    steps = templates.plan(urgency, event.received_at)
    await repository.start_plan(
        tx.connection, plan_id=plan_id, tip_id=event.tip_id, urgency=urgency.value,
        template_version=templates.version, correlation_id=event.correlation_id, steps=steps,
    )  # fmt: skip
    await tx.stage(
        topics.RESPONSE_PLANS,
        ResponsePlanStartedV1(
            event_id=derived_event_id(CONSUMER, event.event_id, "response_plan.started"),
            tip_id=event.tip_id, correlation_id=event.correlation_id, causation_id=event.event_id,
            traceparent=event.traceparent, producer=CONSUMER, plan_id=plan_id, urgency=urgency,
            template_version=templates.version,
            steps=[PlanStep(step=s.step, at_risk_at=s.at_risk_at, deadline=s.deadline) for s in steps],
        ),
    )  # fmt: skip


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
            await repository.mark_flagged(
                tx.connection, row["plan_id"], row["step"], bool(row["at_risk_due"]), bool(row["breach_due"])
            )
        return flagged
