"""Intake's casework tables: assignments, their history, and the openings of identifying data."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg


async def tip_for_casework(
    connection: asyncpg.Connection, tip_id: uuid.UUID, lock: bool = False
) -> asyncpg.Record | None:
    """The tip with its holder; ``lock`` serialises assignments of one tip."""
    return await connection.fetchrow(
        "SELECT t.tip_id, t.reference, t.channel, t.language, t.facts, t.identifiers, t.received_at,"
        " a.person_id AS holder, a.assigned_at FROM tips t LEFT JOIN assignments a USING (tip_id)"
        " WHERE t.tip_id = $1" + (" FOR UPDATE OF t" if lock else ""),
        tip_id,
    )


async def caseworker(connection: asyncpg.Connection, person_id: uuid.UUID) -> asyncpg.Record | None:
    """An active person who works cases (specialist or supervisor)."""
    return await connection.fetchrow(
        "SELECT person_id, display_name FROM auth.staff WHERE person_id = $1 AND active"
        " AND roles && ARRAY['specialist', 'supervisor']",
        person_id,
    )


async def caseworkers(connection: asyncpg.Connection) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await connection.fetch(
        "SELECT person_id, display_name, roles FROM auth.staff WHERE active"
        " AND roles && ARRAY['specialist', 'supervisor'] ORDER BY display_name"
    )
    return rows


async def assign(
    connection: asyncpg.Connection, tip_id: uuid.UUID, person_id: uuid.UUID, by: uuid.UUID
) -> None:
    await connection.execute(
        "INSERT INTO assignments (tip_id, person_id, assigned_by) VALUES ($1, $2, $3)"
        " ON CONFLICT (tip_id) DO UPDATE SET person_id = excluded.person_id,"
        " assigned_by = excluded.assigned_by, assigned_at = now()",
        tip_id,
        person_id,
        by,
    )


async def unassign(connection: asyncpg.Connection, tip_id: uuid.UUID) -> None:
    await connection.execute("DELETE FROM assignments WHERE tip_id = $1", tip_id)


async def held_by(connection: asyncpg.Connection, person_id: uuid.UUID) -> list[uuid.UUID]:
    """The tips ``person_id`` holds, locked for a handover."""
    rows = await connection.fetch(
        "SELECT tip_id FROM assignments WHERE person_id = $1 ORDER BY tip_id FOR UPDATE", person_id
    )
    return [row["tip_id"] for row in rows]


async def record(
    connection: asyncpg.Connection,
    tip_id: uuid.UUID,
    action: str,
    person_id: uuid.UUID | None,
    by_person: uuid.UUID,
    by_role: str,
    sealed_note: str | None = None,
) -> None:
    await connection.execute(
        "INSERT INTO assignment_history (tip_id, action, person_id, by_person, by_role, sealed_note)"
        " VALUES ($1, $2, $3, $4, $5, $6)",
        tip_id,
        action,
        person_id,
        by_person,
        by_role,
        sealed_note,
    )


async def assignments(connection: asyncpg.Connection) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await connection.fetch(
        "SELECT a.tip_id, t.reference, a.person_id, s.display_name, a.assigned_at FROM assignments a"
        " JOIN tips t USING (tip_id) LEFT JOIN auth.staff s ON s.person_id = a.person_id"
        " ORDER BY a.assigned_at"
    )
    return rows


async def history(connection: asyncpg.Connection, tip_id: uuid.UUID) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await connection.fetch(
        "SELECT h.entry_id, h.action, h.person_id, p.display_name AS person_name, h.by_person,"
        " b.display_name AS by_name, h.by_role, h.sealed_note, h.at FROM assignment_history h"
        " LEFT JOIN auth.staff p ON p.person_id = h.person_id"
        " LEFT JOIN auth.staff b ON b.person_id = h.by_person WHERE h.tip_id = $1 ORDER BY h.entry_id",
        tip_id,
    )
    return rows


async def consents(connection: asyncpg.Connection, tip_id: uuid.UUID) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await connection.fetch(
        "SELECT version, law_enforcement, share_identity, service_referral, statistics, interpreter_used,"
        " channel, recorded_by_role, recorded_at FROM consents WHERE tip_id = $1 ORDER BY version",
        tip_id,
    )
    return rows


async def supplements(connection: asyncpg.Connection, tip_id: uuid.UUID) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await connection.fetch(
        "SELECT s.supplement_id, s.update, s.identifiers, s.received_at, r.channel AS attached_via,"
        " p.display_name AS attached_by FROM supplements s"
        " LEFT JOIN supplement_recorders r USING (supplement_id)"
        " LEFT JOIN auth.staff p ON p.person_id = r.person_id"
        " WHERE s.tip_id = $1 ORDER BY s.received_at, s.supplement_id",
        tip_id,
    )
    return rows


async def add_opening(connection: asyncpg.Connection, **row: Any) -> None:
    await connection.execute(
        "INSERT INTO openings (opening_id, tip_id, person_id, role, token_id, purpose, fields, outcome)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        row["opening_id"],
        row["tip_id"],
        row["person_id"],
        row["role"],
        row["token_id"],
        row["purpose"],
        row["fields"],
        row["outcome"],
    )


async def openings(connection: asyncpg.Connection, tip_id: uuid.UUID) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await connection.fetch(
        "SELECT o.opening_id, o.person_id, s.display_name, o.role, o.purpose, o.fields, o.outcome,"
        " o.opened_at FROM openings o LEFT JOIN auth.staff s USING (person_id)"
        " WHERE o.tip_id = $1 ORDER BY o.opened_at",
        tip_id,
    )
    return rows


async def call(connection: asyncpg.Connection, tip_id: uuid.UUID) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await connection.fetchrow(
        "SELECT c.started_at, c.ended_at, c.interpreter_language, c.safe_to_call_back,"
        " c.safe_to_leave_message, c.heard_via, s.display_name AS recorded_by FROM calls c"
        " LEFT JOIN auth.staff s ON s.person_id = c.recorded_by WHERE c.tip_id = $1",
        tip_id,
    )
    return row
