"""The two notifiers of an alert, both written in the transaction that raised it, and the console's
list of open alerts.
"""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg

from services.monitoring.domain.alerts import AT_RISK_OF, Alert, AlertKind


class ConsoleAlertList:
    """The console's list: an alert stays open until its step is done or its case reviewed; a breach
    closes the same step's or queue's at-risk alert."""

    def __init__(self, connection: asyncpg.Connection) -> None:
        self.connection = connection

    async def notify(self, alert: Alert) -> None:
        await self.connection.execute(
            "INSERT INTO alerts (alert_id, kind, reference, subject, deadline, role, paged)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (alert_id) DO NOTHING",
            alert.alert_id, alert.kind.value, alert.reference, alert.subject, alert.deadline,
            alert.role.value, list(alert.paged),
        )  # fmt: skip
        if alert.kind in AT_RISK_OF:
            await self.connection.execute(
                "UPDATE alerts SET closed_at = now() WHERE reference = $1 AND subject = $2 AND kind = $3"
                " AND closed_at IS NULL",
                alert.reference, alert.subject, AT_RISK_OF[alert.kind].value,
            )  # fmt: skip


class PagingOutbox:
    """The webhook's side: stage the page with the transaction; the dispatcher sends it after commit.
    The alert id is the key, so an alert raised again is never paged again."""

    def __init__(self, connection: asyncpg.Connection) -> None:
        self.connection = connection

    async def notify(self, alert: Alert) -> None:
        await self.connection.execute(
            "INSERT INTO deliveries (alert_id, body) VALUES ($1, $2) ON CONFLICT (alert_id) DO NOTHING",
            alert.alert_id,
            alert.body(),
        )


async def record_source(
    connection: asyncpg.Connection, alert_id: uuid.UUID, tip_id: uuid.UUID, plan_id: uuid.UUID | None
) -> None:
    """Remember which tip (and plan) an alert is about, so that the console can close it."""
    await connection.execute(
        "INSERT INTO alert_sources (alert_id, tip_id, plan_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        alert_id,
        tip_id,
        plan_id,
    )


async def close_plan_alerts(
    connection: asyncpg.Connection, plan_id: uuid.UUID, step: str | None = None
) -> None:
    """Close the open alerts of a plan's step, or of the whole plan."""
    await connection.execute(
        "UPDATE alerts a SET closed_at = now() FROM alert_sources s WHERE s.alert_id = a.alert_id"
        " AND s.plan_id = $1 AND ($2::text IS NULL OR a.subject = $2) AND a.closed_at IS NULL",
        plan_id,
        step,
    )


async def close_quarantine_alerts(
    connection: asyncpg.Connection, service: str, still_quarantined: list[uuid.UUID]
) -> None:
    """Close the open alerts of ``service``'s quarantined rows that are no longer quarantined."""
    await connection.execute(
        "UPDATE alerts SET closed_at = now() WHERE kind = $1 AND subject = $2 AND closed_at IS NULL"
        " AND NOT (alert_id = ANY($3::uuid[]))",
        AlertKind.OUTBOX_ROW_QUARANTINED.value,
        service,
        still_quarantined,
    )


async def reopen_quarantine_alerts(
    connection: asyncpg.Connection, service: str, quarantined: list[uuid.UUID]
) -> None:
    """Open again the closed alerts of ``service``'s rows that are still quarantined.

    The id of a quarantine alert names the row and the instant it was quarantined, and a release
    clears that instant: an alert raised again under the same id is a quarantine no person handled,
    closed by mistake. Its page is not sent twice: one cancelled by the close (never delivered)
    becomes due again, even if the dispatcher cancelled it after the alert reopened; one delivered
    stays delivered. Other kinds of alert are closed by what was done (a step, a review) and stay
    closed.
    """
    if not quarantined:
        return
    kind = AlertKind.OUTBOX_ROW_QUARANTINED.value
    await connection.execute(
        "UPDATE alerts SET closed_at = NULL WHERE kind = $1 AND subject = $2"
        " AND alert_id = ANY($3::uuid[]) AND closed_at IS NOT NULL",
        kind, service, quarantined,
    )  # fmt: skip
    await connection.execute(
        "UPDATE deliveries d SET status = 'pending', next_attempt_at = now() FROM alerts a"
        " WHERE a.alert_id = d.alert_id AND a.kind = $1 AND a.subject = $2 AND a.alert_id = ANY($3::uuid[])"
        " AND a.closed_at IS NULL AND d.status = 'cancelled'",
        kind, service, quarantined,
    )  # fmt: skip


async def close_review_alerts(connection: asyncpg.Connection, tip_id: uuid.UUID) -> None:
    """Close the open review alerts of a tip's case."""
    await connection.execute(
        "UPDATE alerts a SET closed_at = now() FROM alert_sources s WHERE s.alert_id = a.alert_id"
        " AND s.tip_id = $1 AND s.plan_id IS NULL AND a.closed_at IS NULL",
        tip_id,
    )


OPEN_ALERTS = """
SELECT a.alert_id, a.kind, a.reference, a.subject, a.deadline, a.role, a.paged, a.raised_at,
       d.status, d.attempts, d.last_attempt_at, d.last_error, d.delivered_at
FROM alerts a LEFT JOIN deliveries d USING (alert_id)
WHERE a.closed_at IS NULL
ORDER BY a.deadline, a.raised_at
LIMIT 200
"""


async def open_alerts(pool: asyncpg.Pool) -> list[dict[str, Any]]:
    """Open alerts, the soonest deadline first, each with its page (None when paging is off)."""
    return [
        {
            "alert_id": str(row["alert_id"]), "kind": row["kind"], "reference": row["reference"],
            "subject": row["subject"], "deadline": row["deadline"].isoformat(), "role": row["role"],
            "paged": list(row["paged"]), "raised_at": row["raised_at"].isoformat(),
            "page": None if row["status"] is None else {
                "status": row["status"], "attempts": row["attempts"], "last_error": row["last_error"],
                "last_attempt_at": _iso(row["last_attempt_at"]), "delivered_at": _iso(row["delivered_at"]),
            },
        }
        for row in await pool.fetch(OPEN_ALERTS)
    ]  # fmt: skip


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None
