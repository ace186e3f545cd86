"""Monitoring's use cases: keep the read model that the console and the statistics read."""

from __future__ import annotations

from schemas import topics
from schemas.disclosure import DisclosureMessage
from schemas.intake import ConsentRecordedV1, TipReceivedV1
from schemas.triage import ResponsePlanMessage, TipTriagedV1
from services.common.messaging import PostgresUnitOfWork
from services.monitoring.adapters import repository

CONSUMER = "monitoring"


async def tip_received(event: TipReceivedV1, uow: PostgresUnitOfWork) -> None:
    await repository.record_tip(uow.connection, event)
    await repository.record_journey(uow.connection, event, topics.TIPS_RECEIVED, event.facts.channel.value)


async def consent_recorded(event: ConsentRecordedV1, uow: PostgresUnitOfWork) -> None:
    await repository.record_consent(uow.connection, event)
    await repository.record_journey(uow.connection, event, topics.CONSENTS, f"version {event.version}")


async def tip_triaged(event: TipTriagedV1, uow: PostgresUnitOfWork) -> None:
    await repository.record_triage(uow.connection, event)
    await repository.record_journey(
        uow.connection,
        event,
        topics.TIPS_TRIAGED,
        f"{event.urgency.value} (revision {event.revision})",
    )


async def plan_changed(message: ResponsePlanMessage, uow: PostgresUnitOfWork) -> None:
    event = message.event
    await repository.record_plan_event(uow.connection, event)
    await repository.record_journey(
        uow.connection, event, topics.RESPONSE_PLANS, getattr(event, "step", None)
    )


async def disclosure_changed(message: DisclosureMessage, uow: PostgresUnitOfWork) -> None:
    event = message.event
    await repository.record_disclosure_event(uow.connection, event)
    detail = getattr(event, "basis", None)
    await repository.record_journey(uow.connection, event, topics.DISCLOSURES, detail and detail.value)
