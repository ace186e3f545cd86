"""Monitoring watches each service's outbox through the service's private operations listener and
pages the supervisors on call for every row a relay quarantined.

Pulled rather than pushed: a relay that cannot publish is exactly when an event about it might not
get out either (a broker that refuses, a stalled relay), and a quarantine is state kept in the
service's own database, so a monitoring that was down when it happened still sees it when it comes
back. The detailed health says only ids, topics, codes and times.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime

import httpx
from pydantic import AwareDatetime, BaseModel, ConfigDict, ValidationError

from services.common.logging import get_logger
from services.common.messaging import PostgresUnitOfWork, Transactions
from services.monitoring import handlers

log = get_logger(__name__)


class QuarantinedRow(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    event_id: uuid.UUID
    quarantined_at: AwareDatetime


class OutboxReport(BaseModel):
    """What monitoring reads of a service's detailed health; an answer without it says nothing."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    quarantined: list[QuarantinedRow]


async def quarantined_of(client: httpx.AsyncClient, url: str) -> list[tuple[uuid.UUID, datetime]] | None:
    """The service's quarantined rows, or None when its health could not be read (alerts stay as they are)."""
    try:
        answer = await client.get(f"{url}/health", timeout=2.0)
        report = OutboxReport.model_validate_json(answer.content)
    except (httpx.HTTPError, ValidationError):
        return None
    return [(row.event_id, row.quarantined_at) for row in report.quarantined]


async def watch_outboxes(
    transactions: Transactions[PostgresUnitOfWork],
    urls: dict[str, str],
    alerting: handlers.Alerting,
    every_seconds: float,
) -> None:
    """Read every service's quarantined rows and raise (or close) their alerts, until cancelled."""
    async with httpx.AsyncClient() as client:
        while True:
            for service, url in sorted(urls.items()):
                try:
                    rows = await quarantined_of(client, url)
                    if rows is None:
                        continue
                    async with transactions.begin() as uow:
                        await handlers.outbox_rows_quarantined(service, rows, uow, alerting=alerting)
                except asyncio.CancelledError:
                    raise
                except Exception as error:
                    log.warning("outbox watch failed", service=service, error_type=type(error).__name__)
            await asyncio.sleep(every_seconds)
