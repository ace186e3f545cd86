"""Monitoring's use cases: keep the read model that the console and the statistics read."""

from __future__ import annotations

from schemas import topics
from schemas.disclosure import DisclosureMessage
from schemas.intake import ConsentRecordedV1, TipReceivedV1
from schemas.triage import ResponsePlanMessage, TipTriagedV1
from services.common.messaging import UnitOfWork
from services.monitoring.adapters import repository

CONSUMER = "monitoring"


async def tip_received(event: TipReceivedV1, uow: UnitOfWork) -> None:
    async with uow.begin() as tx:
        if await tx.claim(CONSUMER, event.event_id):
            await repository.record_tip(tx.connection, event)
            await repository.record_journey(
                tx.connection, event, topics.TIPS_RECEIVED, event.facts.channel.value
            )


async def consent_recorded(event: ConsentRecordedV1, uow: UnitOfWork) -> None:
    async with uow.begin() as tx:
        if await tx.claim(CONSUMER, event.event_id):
            await repository.record_consent(tx.connection, event)
            await repository.record_journey(tx.connection, event, topics.CONSENTS, f"version {event.version}")


async def tip_triaged(event: TipTriagedV1, uow: UnitOfWork) -> None:
    async with uow.begin() as tx:
        if await tx.claim(CONSUMER, event.event_id):
            await repository.record_triage(tx.connection, event)
            await repository.record_journey(
                tx.connection,
                event,
                topics.TIPS_TRIAGED,
                f"{event.urgency.value} (revision {event.revision})",
            )


async def plan_changed(message: ResponsePlanMessage, uow: UnitOfWork) -> None:
    event = message.event
    async with uow.begin() as tx:
        if await tx.claim(CONSUMER, event.event_id):
            await repository.record_plan_event(tx.connection, event)
            await repository.record_journey(
                tx.connection, event, topics.RESPONSE_PLANS, getattr(event, "step", None)
            )


async def disclosure_changed(message: DisclosureMessage, uow: UnitOfWork) -> None:
    event = message.event
    async with uow.begin() as tx:
        if await tx.claim(CONSUMER, event.event_id):
            await repository.record_disclosure_event(tx.connection, event)
            detail = getattr(event, "basis", None)
            await repository.record_journey(tx.connection, event, topics.DISCLOSURES, detail and detail.value)
