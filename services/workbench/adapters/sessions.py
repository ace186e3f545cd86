"""The sessions table: the workbench's only storage."""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg


async def create(
    pool: asyncpg.Pool, session_hash: bytes, person_id: uuid.UUID, role: str, display_name: str,
    sealed_token: bytes, language: str, expires_at: datetime,
) -> None:  # fmt: skip
    await pool.execute(
        "INSERT INTO sessions (session_hash, person_id, role, display_name, sealed_token, language, expires_at)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7)",
        session_hash, person_id, role, display_name, sealed_token, language, expires_at,
    )  # fmt: skip


async def find(pool: asyncpg.Pool, session_hash: bytes) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await pool.fetchrow(
        "SELECT person_id, role, display_name, sealed_token, language, last_seen_at, expires_at, now() AS now"
        " FROM sessions WHERE session_hash = $1",
        session_hash,
    )
    return row


async def touch(pool: asyncpg.Pool, session_hash: bytes) -> None:
    await pool.execute("UPDATE sessions SET last_seen_at = now() WHERE session_hash = $1", session_hash)


async def set_language(pool: asyncpg.Pool, session_hash: bytes, language: str) -> None:
    await pool.execute("UPDATE sessions SET language = $2 WHERE session_hash = $1", session_hash, language)


async def end(pool: asyncpg.Pool, session_hash: bytes) -> None:
    await pool.execute("DELETE FROM sessions WHERE session_hash = $1", session_hash)


async def end_all(pool: asyncpg.Pool, person_id: uuid.UUID) -> int:
    status = await pool.execute("DELETE FROM sessions WHERE person_id = $1", person_id)
    return int(str(status).split()[-1])


async def forget_expired(pool: asyncpg.Pool, idle_seconds: float) -> None:
    await pool.execute(
        "DELETE FROM sessions WHERE expires_at <= now() OR last_seen_at + make_interval(secs => $1) <= now()",
        idle_seconds,
    )
