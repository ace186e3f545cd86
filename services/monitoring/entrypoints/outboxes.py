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
from dataclasses import dataclass
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

    quarantined: list[QuarantinedRow] | None
    checks: dict[str, str] = {}


@dataclass(frozen=True, slots=True)
class Quarantined:
    """A service's quarantined rows as its health listed them (event id, when)."""

    rows: list[tuple[uuid.UUID, datetime]]
    complete: bool
    """The list is every quarantined row: alerts of rows not in it may be closed."""


async def quarantined_of(client: httpx.AsyncClient, url: str) -> Quarantined | None:
    """The service's quarantined rows, or None when its health could not be read or does not know
    them (alerts stay as they are).

    Only a 200 answer whose list holds as many rows as its count is complete: a 503 (the service's
    database out of reach, say), or a list cut short, says nothing of the rows it leaves out, and
    closing their alerts would silence a quarantine nobody has handled.
    """
    try:
        answer = await client.get(f"{url}/health", timeout=2.0)
        report = OutboxReport.model_validate_json(answer.content)
    except (httpx.HTTPError, ValidationError):
        return None
    if report.quarantined is None:
        return None
    rows = [(row.event_id, row.quarantined_at) for row in report.quarantined]
    counted = report.checks.get("outbox_quarantined")
    return Quarantined(rows, complete=answer.status_code == 200 and counted == str(len(rows)))


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
                    listed = await quarantined_of(client, url)
                    if listed is None:
                        continue
                    async with transactions.begin() as uow:
                        await handlers.outbox_rows_quarantined(
                            service, listed.rows, uow, alerting=alerting, close_others=listed.complete
                        )
                except asyncio.CancelledError:
                    raise
                except Exception as error:
                    log.warning("outbox watch failed", service=service, error_type=type(error).__name__)
            await asyncio.sleep(every_seconds)
