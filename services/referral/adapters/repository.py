"""Referral's tables: matches, referrals and their history, consents."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg

from schemas.referral import ProposalStatus


async def lock_match(connection: asyncpg.Connection, tip_id: uuid.UUID) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await connection.fetchrow(
        "SELECT * FROM referral_matches WHERE tip_id = $1 FOR UPDATE", tip_id
    )
    return row


async def save_match(
    connection: asyncpg.Connection,
    tip_id: uuid.UUID,
    correlation_id: uuid.UUID,
    status: ProposalStatus,
    triage_revision: int,
    source_event_id: uuid.UUID,
    reasons: list[dict[str, Any]] | None = None,
) -> None:
    await connection.execute(
        "INSERT INTO referral_matches (tip_id, correlation_id, status, triage_revision, source_event_id, reasons)"
        " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (tip_id) DO UPDATE SET status = excluded.status,"
        " triage_revision = excluded.triage_revision, source_event_id = excluded.source_event_id,"
        " reasons = excluded.reasons, matched_at = now()",
        tip_id, correlation_id, status.value, triage_revision, source_event_id, reasons or [],
    )  # fmt: skip


async def withdraw_open_proposals(connection: asyncpg.Connection, tip_id: uuid.UUID) -> list[str]:
    """Remove the proposals nobody acted on, before a new match; return their providers."""
    rows = await connection.fetch(
        "DELETE FROM referrals r WHERE tip_id = $1 AND status = 'proposed'"
        " AND NOT EXISTS (SELECT 1 FROM referral_history h WHERE h.referral_id = r.referral_id)"
        " RETURNING provider_id",
        tip_id,
    )
    return [row["provider_id"] for row in rows]


@dataclass(frozen=True, slots=True)
class Proposed:
    """A provider proposed for a tip, as ``add_referrals`` writes it."""

    referral_id: uuid.UUID
    provider_id: str
    rank: int
    score: float
    reasons: list[dict[str, Any]]


async def add_referrals(
    connection: asyncpg.Connection, tip_id: uuid.UUID, proposed: list[Proposed]
) -> list[uuid.UUID]:
    """Propose each provider for the tip, in order, in one round trip (``fetchmany`` pipelines the
    rows); a provider already referred keeps its referral and id. The ids, in ``proposed``'s order."""
    if not proposed:
        return []
    rows = await connection.fetchmany(
        "INSERT INTO referrals (referral_id, tip_id, provider_id, rank, score, status, reasons)"
        " VALUES ($1, $2, $3, $4, $5, 'proposed', $6) ON CONFLICT (tip_id, provider_id)"
        " DO UPDATE SET rank = excluded.rank, score = excluded.score, reasons = excluded.reasons,"
        " updated_at = now() RETURNING referral_id",
        [(row.referral_id, tip_id, row.provider_id, row.rank, row.score, row.reasons) for row in proposed],
    )  # fmt: skip
    return [row["referral_id"] for row in rows]


async def lock_referral(connection: asyncpg.Connection, referral_id: uuid.UUID) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await connection.fetchrow(
        "SELECT r.*, m.correlation_id FROM referrals r JOIN referral_matches m USING (tip_id)"
        " WHERE r.referral_id = $1 FOR UPDATE OF r",
        referral_id,
    )
    return row


async def move_referral(
    connection: asyncpg.Connection,
    referral: asyncpg.Record,
    status: str,
    reason: str | None,
    warm_transfer: bool,
    staff_token_id: uuid.UUID | None,
    staff_role: str,
) -> None:
    await connection.execute(
        "UPDATE referrals SET status = $2, reason = $3, warm_transfer = warm_transfer OR $4, updated_at = now()"
        " WHERE referral_id = $1",
        referral["referral_id"], status, reason, warm_transfer,
    )  # fmt: skip
    await connection.execute(
        "INSERT INTO referral_history (referral_id, from_status, to_status, reason, staff_token_id, staff_role)"
        " VALUES ($1, $2, $3, $4, $5, $6)",
        referral["referral_id"], referral["status"], status, reason, staff_token_id, staff_role,
    )  # fmt: skip


async def save_consent(
    connection: asyncpg.Connection, tip_id: uuid.UUID, version: int, service_referral: bool
) -> None:
    await connection.execute(
        "INSERT INTO consents (tip_id, version, service_referral) VALUES ($1, $2, $3)"
        " ON CONFLICT (tip_id) DO UPDATE SET version = excluded.version, service_referral = excluded.service_referral"
        " WHERE consents.version < excluded.version",
        tip_id, version, service_referral,
    )  # fmt: skip


async def referral_consent(connection: asyncpg.Connection, tip_id: uuid.UUID) -> bool | None:
    consent: bool | None = await connection.fetchval(
        "SELECT service_referral FROM consents WHERE tip_id = $1", tip_id
    )
    return consent


async def referrals_of_tip(pool: asyncpg.Pool, tip_id: uuid.UUID) -> list[asyncpg.Record]:
    return list(
        await pool.fetch(
            "SELECT r.referral_id, r.provider_id, s.record ->> 'name' AS provider_name,"
            " o.record ->> 'name' AS organization, r.rank, r.score, r.status, r.reason, r.warm_transfer,"
            " r.reasons, r.confirmed_by, r.updated_at FROM referrals r"
            " LEFT JOIN hsds_records s ON s.resource = 'service' AND s.id = r.provider_id"
            " LEFT JOIN hsds_records o ON o.resource = 'organization' AND o.id = s.record ->> 'organization_id'"
            " WHERE r.tip_id = $1 ORDER BY r.rank",
            tip_id,
        )
    )


async def match_of_tip(pool: asyncpg.Pool, tip_id: uuid.UUID) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await pool.fetchrow(
        "SELECT status, reasons, triage_revision, matched_at FROM referral_matches WHERE tip_id = $1", tip_id
    )
    return row


async def tip_of_referral(pool: asyncpg.Pool, referral_id: uuid.UUID) -> uuid.UUID | None:
    tip_id: uuid.UUID | None = await pool.fetchval(
        "SELECT tip_id FROM referrals WHERE referral_id = $1", referral_id
    )
    return tip_id


async def confirm_referral(connection: asyncpg.Connection, referral_id: uuid.UUID, by: str) -> None:
    await connection.execute(
        "UPDATE referrals SET confirmed_by = $2, confirmed_at = now() WHERE referral_id = $1", referral_id, by
    )
