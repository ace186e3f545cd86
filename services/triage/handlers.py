"""Triage's use cases."""

from __future__ import annotations

from schemas import topics
from schemas.intake import TipReceivedV1
from schemas.triage import TipTriagedV1
from services.common.ids import derived_event_id
from services.common.messaging import UnitOfWork
from services.common.sealing import Keystore
from services.triage.adapters import repository
from services.triage.domain.classification import classify

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
