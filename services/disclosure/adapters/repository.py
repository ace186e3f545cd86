"""Disclosure's tables: sealed sources, consents, cases, approvals and packages."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import asyncpg

from schemas.intake import ConsentRecordedV1
from schemas.sealed import SealedIdentifiers


async def save_source(
    connection: asyncpg.Connection,
    *,
    source_id: uuid.UUID,
    tip_id: uuid.UUID,
    kind: str,
    channel: str | None,
    identifiers: SealedIdentifiers,
    received_at: datetime,
) -> None:
    await connection.execute(
        "INSERT INTO tip_sources (source_id, tip_id, kind, channel, identifiers, received_at)"
        " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
        source_id, tip_id, kind, channel, identifiers.model_dump(mode="json"), received_at,
    )  # fmt: skip


async def sources(connection: asyncpg.Connection, tip_id: uuid.UUID) -> list[asyncpg.Record]:
    """The tip's sealed identifiers, the tip's own first, then each supplement's in order."""
    return list(
        await connection.fetch(
            "SELECT source_id, kind, channel, identifiers FROM tip_sources WHERE tip_id = $1"
            " ORDER BY kind = 'supplement', received_at, source_id",
            tip_id,
        )
    )


async def save_consent(connection: asyncpg.Connection, event: ConsentRecordedV1) -> bool:
    """Keep the newest version of a tip's consent; False when ``event`` is older than the one kept."""
    status: str = await connection.execute(
        "INSERT INTO consents (tip_id, version, consent, recorded_at) VALUES ($1, $2, $3, $4)"
        " ON CONFLICT (tip_id) DO UPDATE SET version = excluded.version, consent = excluded.consent,"
        " recorded_at = excluded.recorded_at WHERE consents.version < excluded.version",
        event.tip_id,
        event.version,
        event.consent.model_dump(mode="json"),
        event.recorded_at,
    )
    return status.endswith(" 1")


async def consent(connection: asyncpg.Connection, tip_id: uuid.UUID) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await connection.fetchrow(
        "SELECT version, consent FROM consents WHERE tip_id = $1", tip_id
    )
    return row


async def lock_case(connection: asyncpg.Connection, tip_id: uuid.UUID) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await connection.fetchrow(
        "SELECT * FROM cases WHERE tip_id = $1 FOR UPDATE", tip_id
    )
    return row


CASE_COLUMNS = (
    "tip_id", "case_reference", "correlation_id", "traceparent", "state", "decision", "basis", "recipients",
    "fields", "approvals_needed", "policy_version", "urgency", "channel", "triage_revision", "facts",
    "indicators", "minor_involved", "imminent_danger", "legal_reference", "received_at", "review_due_at",
)  # fmt: skip


async def save_case(connection: asyncpg.Connection, case: dict[str, Any]) -> None:
    """Insert or update a case from its column values."""
    values = [case[column] for column in CASE_COLUMNS]
    placeholders = ", ".join(f"${number}" for number in range(1, len(CASE_COLUMNS) + 1))
    updates = ", ".join(f"{column} = excluded.{column}" for column in CASE_COLUMNS[2:])
    await connection.execute(
        f"INSERT INTO cases ({', '.join(CASE_COLUMNS)}) VALUES ({placeholders})"
        f" ON CONFLICT (tip_id) DO UPDATE SET {updates}, updated_at = now()",
        *values,
    )


async def mark_case(connection: asyncpg.Connection, tip_id: uuid.UUID, **columns: Any) -> None:
    """Set some of a case's columns (``state``, ``reviewed_at``, ``forwarded_at``...)."""
    names = list(columns)
    assignments = ", ".join(f"{name} = ${number}" for number, name in enumerate(names, 2))
    await connection.execute(
        f"UPDATE cases SET {assignments}, updated_at = now() WHERE tip_id = $1",
        tip_id,
        *columns.values(),
    )


async def record_verdict(
    connection: asyncpg.Connection,
    tip_id: uuid.UUID,
    staff_token_id: uuid.UUID,
    verdict: str,
    reason: str | None = None,
    legal_reference: str | None = None,
) -> bool:
    """Record a supervisor's verdict; False when the same supervisor already gave it."""
    status: str = await connection.execute(
        "INSERT INTO approvals (tip_id, staff_token_id, verdict, reason, legal_reference)"
        " VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        tip_id, staff_token_id, verdict, reason, legal_reference,
    )  # fmt: skip
    return status.endswith(" 1")


async def approvers(connection: asyncpg.Connection, tip_id: uuid.UUID) -> list[uuid.UUID]:
    return [
        row["staff_token_id"]
        for row in await connection.fetch(
            "SELECT staff_token_id FROM approvals WHERE tip_id = $1 AND verdict = 'approve' ORDER BY at",
            tip_id,
        )
    ]


async def save_package(
    connection: asyncpg.Connection,
    *,
    package_id: uuid.UUID,
    tip_id: uuid.UUID,
    agency_id: str,
    recipient_kind: str,
    supplementary_to: uuid.UUID | None,
    source_id: uuid.UUID | None,
    basis: str,
    fields: list[str],
    seconds_from_receipt: float,
) -> None:
    await connection.execute(
        "INSERT INTO packages (package_id, tip_id, agency_id, recipient_kind, supplementary_to, source_id,"
        " basis, fields, seconds_from_receipt) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        package_id, tip_id, agency_id, recipient_kind, supplementary_to, source_id, basis, fields,
        seconds_from_receipt,
    )  # fmt: skip


async def first_packages(connection: asyncpg.Connection, tip_id: uuid.UUID) -> list[asyncpg.Record]:
    """The first package each agency received for the tip."""
    return list(
        await connection.fetch(
            "SELECT package_id, agency_id, recipient_kind, basis, fields FROM packages"
            " WHERE tip_id = $1 AND supplementary_to IS NULL ORDER BY issued_at",
            tip_id,
        )
    )


async def acknowledge_package(
    connection: asyncpg.Connection, package_id: uuid.UUID, agency_id: str, acknowledged_at: datetime
) -> asyncpg.Record | None:
    """Record an agency's receipt of its package; None when no such package went to that agency."""
    row: asyncpg.Record | None = await connection.fetchrow(
        "UPDATE packages SET acknowledged_at = coalesce(acknowledged_at, $3)"
        " WHERE package_id = $1 AND agency_id = $2 RETURNING tip_id, acknowledged_at",
        package_id,
        agency_id,
        acknowledged_at,
    )
    return row


REVIEW_QUEUE = """
SELECT c.tip_id, c.case_reference, c.state, c.decision, c.basis, c.urgency, c.channel, c.recipients,
       c.fields, c.approvals_needed, c.legal_reference, c.received_at, c.review_due_at, c.forwarded_at,
       coalesce(array_agg(a.staff_token_id) FILTER (WHERE a.verdict = 'approve'), '{}') AS approved_by
FROM cases c LEFT JOIN approvals a USING (tip_id)
WHERE c.reviewed_at IS NULL AND c.state IN ('pending_review', 'forwarded')
GROUP BY c.tip_id
ORDER BY c.review_due_at, c.received_at
LIMIT $1
"""


async def review_queue(pool: asyncpg.Pool, limit: int) -> list[asyncpg.Record]:
    """Cases waiting for a supervisor: before a forward, or after one that went out at once."""
    return list(await pool.fetch(REVIEW_QUEUE, limit))


async def case_view(pool: asyncpg.Pool, tip_id: uuid.UUID) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await pool.fetchrow(
        "SELECT tip_id, case_reference, state, decision, basis, urgency, channel, recipients, fields,"
        " approvals_needed, policy_version, legal_reference, triage_revision, received_at, review_due_at,"
        " reviewed_at, forwarded_at FROM cases WHERE tip_id = $1",
        tip_id,
    )
    return row


async def packages_of(pool: asyncpg.Pool, tip_id: uuid.UUID) -> list[asyncpg.Record]:
    return list(
        await pool.fetch(
            "SELECT package_id, agency_id, recipient_kind, supplementary_to, basis, fields, issued_at,"
            " seconds_from_receipt, acknowledged_at FROM packages WHERE tip_id = $1 ORDER BY issued_at",
            tip_id,
        )
    )
