"""Referral's use cases."""

from __future__ import annotations

from schemas import topics
from schemas.referral import ReferralsProposedV1
from schemas.triage import TipTriagedV1
from services.common.ids import derived_event_id
from services.common.messaging import UnitOfWork
from services.referral.adapters import repository
from services.referral.domain.matching import match

CONSUMER = "referral"


async def propose_referrals(event: TipTriagedV1, uow: UnitOfWork) -> None:
    """Match a triaged tip against the directory and publish the proposed providers."""
    async with uow.begin() as tx:
        if not await tx.claim(CONSUMER, event.event_id):
            return
        result = match(event.facts, await repository.active_providers(tx.connection))
        await repository.save_match(tx.connection, event.tip_id, result, event.event_id)
        await tx.stage(
            topics.REFERRALS,
            ReferralsProposedV1(
                event_id=derived_event_id(CONSUMER, event.event_id, "referral.proposed"),
                tip_id=event.tip_id,
                correlation_id=event.correlation_id,
                causation_id=event.event_id,
                traceparent=event.traceparent,
                producer=CONSUMER,
                status=result.status,
                proposals=list(result.proposals),
                reasons=list(result.reasons),
            ),
        )
