"""Intake's tables. Identifying data arrives here sealed; nothing in them is in clear."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import asyncpg

from schemas.sealed import SealedIdentifiers
from schemas.tip import CallDetails, Channel, Consent, TipFacts
from services.intake.domain import idempotency


async def insert_tip(
    connection: asyncpg.Connection,
    *,
    tip_id: uuid.UUID,
    reference: str,
    facts: TipFacts,
    identifiers: SealedIdentifiers,
    submitted_by_role: str,
    submitted_by_token: uuid.UUID | None,
    correlation_id: uuid.UUID,
    received_at: datetime,
) -> bool:
    """Store a tip; False when its reference is already taken."""
    inserted = await connection.fetchval(
        "INSERT INTO tips (tip_id, reference, channel, language, facts, identifiers, submitted_by_role,"
        " submitted_by_token, correlation_id, received_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        " ON CONFLICT (reference) DO NOTHING RETURNING true",
        tip_id,
        reference,
        facts.channel.value,
        facts.language,
        facts.model_dump(mode="json"),
        identifiers.model_dump(mode="json"),
        submitted_by_role,
        submitted_by_token,
        correlation_id,
        received_at,
    )
    return bool(inserted)


async def tip_by_reference(connection: asyncpg.Connection, reference: str) -> asyncpg.Record | None:
    """The tip and its live code, locked: follow-ups to one tip go one at a time (one code, one cap)."""
    return await connection.fetchrow(
        "SELECT t.tip_id, t.correlation_id, t.channel, f.salt, f.code_hash FROM tips t"
        " LEFT JOIN follow_up_codes f USING (tip_id) WHERE t.reference = $1 FOR UPDATE OF t",
        reference.strip().upper(),
    )


async def supplements_so_far(connection: asyncpg.Connection, tip_id: uuid.UUID) -> tuple[int, int]:
    """How many follow-ups a tip has had, and their stored size in bytes."""
    row = await connection.fetchrow(
        "SELECT count(*) AS supplements,"
        " coalesce(sum(octet_length(update::text) + octet_length(identifiers::text)), 0) AS bytes"
        " FROM supplements WHERE tip_id = $1",
        tip_id,
    )
    assert row is not None
    return int(row["supplements"]), int(row["bytes"])


async def tip_summary(connection: asyncpg.Connection, tip_id: uuid.UUID) -> asyncpg.Record | None:
    return await connection.fetchrow(
        "SELECT tip_id, reference, channel, correlation_id FROM tips WHERE tip_id = $1", tip_id
    )


async def record_consent(
    connection: asyncpg.Connection,
    *,
    tip_id: uuid.UUID,
    consent: Consent,
    interpreter_used: bool,
    channel: Channel,
    recorded_by_role: str,
    recorded_by_token: uuid.UUID | None,
    first: bool = False,
) -> tuple[int, Consent | None, Consent, datetime]:
    """Append a consent version; return its number, the previous consent, the consent as recorded
    and when it was recorded. ``first``: the tip was stored in this transaction, so it has no consent
    yet to read (and its version 1 conflicts if it had).
    """
    previous = (
        None
        if first
        else await connection.fetchrow(
            "SELECT version, law_enforcement, share_identity, service_referral, statistics FROM consents"
            " WHERE tip_id = $1 ORDER BY version DESC LIMIT 1 FOR UPDATE",
            tip_id,
        )
    )
    version = (previous["version"] if previous else 0) + 1
    earlier = (
        Consent(**{scope: previous[scope] for scope in Consent.model_fields})
        if previous is not None
        else None
    )
    if consent.statistics is None and earlier is not None and earlier.statistics is not None:
        # A question not asked this time leaves the caller's earlier answer standing.
        consent = consent.model_copy(update={"statistics": earlier.statistics})
    recorded_at: datetime = await connection.fetchval(
        "INSERT INTO consents (tip_id, version, law_enforcement, share_identity, service_referral, statistics,"
        " interpreter_used, channel, recorded_by_role, recorded_by_token)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING recorded_at",
        tip_id,
        version,
        consent.law_enforcement,
        consent.share_identity,
        consent.service_referral,
        consent.statistics,
        interpreter_used,
        channel.value,
        recorded_by_role,
        recorded_by_token,
    )
    return version, earlier, consent, recorded_at


async def replace_follow_up_code(
    connection: asyncpg.Connection, tip_id: uuid.UUID, salt: bytes, code_hash: bytes
) -> None:
    await connection.execute(
        "INSERT INTO follow_up_codes (tip_id, salt, code_hash) VALUES ($1, $2, $3)"
        " ON CONFLICT (tip_id) DO UPDATE SET salt = excluded.salt, code_hash = excluded.code_hash,"
        " issued_at = now()",
        tip_id,
        salt,
        code_hash,
    )


async def attempts(connection: asyncpg.Connection, key: bytes) -> asyncpg.Record | None:
    return await connection.fetchrow(
        "SELECT failures, locked_until > now() AS locked FROM follow_up_attempts WHERE reference_key = $1"
        " FOR UPDATE",
        key,
    )


async def record_failure(
    connection: asyncpg.Connection, key: bytes, max_failures: int, lock_minutes: int
) -> None:
    """Count a failure. A lock, once set, ends when it ends; after it (or after as long without a
    failure) the count starts again, so that one more failure does not lock the reference anew.
    """
    await connection.execute(
        "INSERT INTO follow_up_attempts AS a (reference_key, failures, locked_until) VALUES ($1, 1,"
        " CASE WHEN 1 >= $2 THEN now() + make_interval(mins => $3) END)"
        " ON CONFLICT (reference_key) DO UPDATE SET"
        " failures = CASE WHEN a.locked_until > now() THEN a.failures"
        "  WHEN a.locked_until IS NOT NULL OR a.last_failure_at < now() - make_interval(mins => $3) THEN 1"
        "  ELSE a.failures + 1 END,"
        " locked_until = CASE WHEN a.locked_until > now() THEN a.locked_until"
        "  WHEN (CASE WHEN a.locked_until IS NOT NULL"
        "   OR a.last_failure_at < now() - make_interval(mins => $3) THEN 1 ELSE a.failures + 1 END) >= $2"
        "  THEN now() + make_interval(mins => $3) END,"
        " last_failure_at = now()",
        key,
        max_failures,
        lock_minutes,
    )


async def clear_failures(connection: asyncpg.Connection, key: bytes) -> None:
    await connection.execute("DELETE FROM follow_up_attempts WHERE reference_key = $1", key)


async def insert_supplement(
    connection: asyncpg.Connection,
    supplement_id: uuid.UUID,
    tip_id: uuid.UUID,
    update: dict[str, Any],
    identifiers: SealedIdentifiers,
    received_at: datetime,
) -> None:
    await connection.execute(
        "INSERT INTO supplements (supplement_id, tip_id, update, identifiers, received_at)"
        " VALUES ($1, $2, $3, $4, $5)",
        supplement_id,
        tip_id,
        update,
        identifiers.model_dump(mode="json"),
        received_at,
    )


async def idempotent_submission(connection: asyncpg.Connection, key_hash: bytes) -> asyncpg.Record | None:
    """The submission an unexpired key was first used for."""
    return await connection.fetchrow(
        "SELECT i.fingerprint, i.tip_id, i.follow_up_sealed, t.reference FROM idempotency_keys i"
        " JOIN tips t USING (tip_id) WHERE i.key_hash = $1 AND i.created_at > now() - $2::interval",
        key_hash,
        idempotency.RETENTION,
    )


async def forget_expired_submissions(connection: asyncpg.Connection) -> None:
    await connection.execute(
        "DELETE FROM idempotency_keys WHERE created_at <= now() - $1::interval", idempotency.RETENTION
    )


async def forget_submissions_of(connection: asyncpg.Connection, tip_id: uuid.UUID) -> None:
    await connection.execute("DELETE FROM idempotency_keys WHERE tip_id = $1", tip_id)


async def remember_submission(
    connection: asyncpg.Connection,
    key_hash: bytes,
    fingerprint: bytes,
    tip_id: uuid.UUID,
    follow_up_sealed: str | None,
) -> None:
    await connection.execute(
        "INSERT INTO idempotency_keys (key_hash, fingerprint, tip_id, follow_up_sealed) VALUES ($1, $2, $3, $4)",
        key_hash,
        fingerprint,
        tip_id,
        follow_up_sealed,
    )


async def record_call(
    connection: asyncpg.Connection, tip_id: uuid.UUID, call: CallDetails, recorded_by: uuid.UUID | None
) -> None:
    await connection.execute(
        "INSERT INTO calls (tip_id, started_at, ended_at, interpreter_language, safe_to_call_back,"
        " safe_to_leave_message, heard_via, recorded_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        tip_id, call.started_at, call.ended_at, call.interpreter_language, call.safe_to_call_back,
        call.safe_to_leave_message, call.heard_via.value, recorded_by,
    )  # fmt: skip


async def record_supplement_recorder(
    connection: asyncpg.Connection, supplement_id: uuid.UUID, person_id: uuid.UUID, role: str, channel: str
) -> None:
    await connection.execute(
        "INSERT INTO supplement_recorders (supplement_id, person_id, role, channel) VALUES ($1, $2, $3, $4)",
        supplement_id, person_id, role, channel,
    )  # fmt: skip
