"""The append-only, hash-chained audit log in ``disclosure.audit_log``."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg

from schemas.envelope import utc_now
from services.disclosure.domain.audit import GENESIS, AuditEntry, BrokenLink, chain_hash, first_broken_link
from services.disclosure.domain.case import Note

# Appends take this transaction-scoped lock so that each entry links to the one committed before it.
CHAIN_LOCK = "disclosure.audit_log"


async def _chain_head(connection: asyncpg.Connection) -> tuple[int, bytes]:
    """Take the chain's lock for the rest of the transaction and read its last link."""
    await connection.execute("SELECT pg_advisory_xact_lock(hashtext($1))", CHAIN_LOCK)
    last = await connection.fetchrow("SELECT seq, entry_hash FROM audit_log ORDER BY seq DESC LIMIT 1")
    return (last["seq"], bytes(last["entry_hash"])) if last else (0, GENESIS)


async def _write(
    connection: asyncpg.Connection,
    head: tuple[int, bytes],
    tip_id: uuid.UUID,
    action: str,
    actor: str,
    detail: dict[str, Any],
) -> tuple[int, bytes]:
    seq, previous = head[0] + 1, head[1]
    at = utc_now()
    entry_hash = chain_hash(previous, seq, tip_id, action, detail, actor, at)
    await connection.execute(
        "INSERT INTO audit_log (seq, tip_id, action, detail, actor, at, previous_hash, entry_hash)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        seq, tip_id, action, detail, actor, at, previous, entry_hash,
    )  # fmt: skip
    return seq, entry_hash


async def entries(connection: asyncpg.Connection, batch: int = 1000) -> AsyncIterator[AuditEntry]:
    async with connection.transaction(isolation="repeatable_read", readonly=True):
        async for row in connection.cursor("SELECT * FROM audit_log ORDER BY seq", prefetch=batch):
            yield AuditEntry(
                row["seq"], row["tip_id"], row["action"], row["detail"], row["actor"], row["at"],
                bytes(row["previous_hash"]), bytes(row["entry_hash"]),
            )  # fmt: skip


async def verify(connection: asyncpg.Connection) -> tuple[int, BrokenLink | None]:
    """Check the whole chain; return how many entries it has and the first broken link, if any."""
    collected = [entry async for entry in entries(connection)]
    return len(collected), first_broken_link(collected)


async def trail(connection: asyncpg.Connection | asyncpg.Pool, tip_id: uuid.UUID) -> list[dict[str, Any]]:
    rows = await connection.fetch(
        "SELECT seq, action, detail, actor, at FROM audit_log WHERE tip_id = $1 ORDER BY seq", tip_id
    )
    return [
        {"seq": row["seq"], "action": row["action"], "detail": row["detail"], "actor": row["actor"],
         "at": row["at"].isoformat()}
        for row in rows
    ]  # fmt: skip


class PostgresAudit:
    """The audit as the unit of work's repository: entries appended in its transaction."""

    def __init__(self, connection: asyncpg.Connection) -> None:
        self.connection = connection
        self._head: tuple[int, bytes] | None = None

    async def append(self, tip_id: uuid.UUID, note: Note) -> None:
        # The chain's lock is held until the transaction ends, so the head read once stays the head.
        if self._head is None:
            self._head = await _chain_head(self.connection)
        self._head = await _write(self.connection, self._head, tip_id, note.action, note.actor, note.detail)

    async def trail(self, tip_id: uuid.UUID) -> list[Note]:
        return [
            Note(entry["action"], entry["actor"], entry["detail"])
            for entry in await trail(self.connection, tip_id)
        ]
