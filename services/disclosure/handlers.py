"""Disclosure's use cases."""

from __future__ import annotations

from schemas import topics
from schemas.disclosure import DisclosureDecidedV1
from schemas.triage import TipTriagedV1
from services.common.ids import derived_event_id
from services.common.messaging import UnitOfWork
from services.disclosure.adapters import repository
from services.disclosure.domain.policy import decide

CONSUMER = "disclosure"


async def decide_disclosure(event: TipTriagedV1, uow: UnitOfWork) -> None:
    """Apply the law-enforcement gate to a triaged tip and publish the decision with its basis."""
    async with uow.begin() as tx:
        if not await tx.claim(CONSUMER, event.event_id):
            return
        gate = decide(event.facts.consent, event.minor_involved, event.imminent_danger)
        await repository.save_decision(tx.connection, event.tip_id, gate, event.urgency, event.event_id)
        await tx.stage(
            topics.DISCLOSURES,
            DisclosureDecidedV1(
                event_id=derived_event_id(CONSUMER, event.event_id, "disclosure.decided"),
                tip_id=event.tip_id,
                correlation_id=event.correlation_id,
                causation_id=event.event_id,
                traceparent=event.traceparent,
                producer=CONSUMER,
                decision=gate.decision,
                basis=gate.basis,
                policy_version=gate.policy_version,
                urgency=event.urgency,
                reasons=list(gate.reasons),
            ),
        )
