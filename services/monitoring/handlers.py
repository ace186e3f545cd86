"""Monitoring's use cases: keep the read model that the statistics (and the console) read."""

from __future__ import annotations

from schemas.intake import ConsentRecordedV1, TipReceivedV1
from schemas.triage import TipTriagedV1
from services.common.messaging import UnitOfWork
from services.monitoring.adapters import repository

CONSUMER = "monitoring"


async def tip_received(event: TipReceivedV1, uow: UnitOfWork) -> None:
    async with uow.begin() as tx:
        if await tx.claim(CONSUMER, event.event_id):
            await repository.record_tip(tx.connection, event)


async def consent_recorded(event: ConsentRecordedV1, uow: UnitOfWork) -> None:
    async with uow.begin() as tx:
        if await tx.claim(CONSUMER, event.event_id):
            await repository.record_consent(tx.connection, event)


async def tip_triaged(event: TipTriagedV1, uow: UnitOfWork) -> None:
    async with uow.begin() as tx:
        if await tx.claim(CONSUMER, event.event_id):
            await repository.record_triage(tx.connection, event)
