"""What an operator sees and does about events held in a service's inbox.

A poisoned event parks its tip: the tip's later events wait behind it. It resumes when the event is
replayed from the dead-letter topic (``lantern dlt replay``) and succeeds, or when a supervisor sets
it aside, accepting that its effect will not happen; the waiting events then apply in order.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import asyncpg


@dataclass(frozen=True, slots=True)
class HeldEvent:
    event_id: uuid.UUID
    tip_key: str
    topic: str
    status: str
    reason: str | None
    held_since: datetime | None


async def held_events(connection: asyncpg.Connection, consumer: str) -> list[HeldEvent]:
    """Every event ``consumer`` holds (deferred, waiting or poisoned), oldest first."""
    rows = await connection.fetch(
        "SELECT event_id, tip_key, topic, status, reason, held_since FROM inbox"
        " WHERE consumer = $1 AND status IN ('deferred', 'waiting', 'poisoned') ORDER BY seq",
        consumer,
    )
    return [HeldEvent(**dict(row)) for row in rows]


async def set_aside(connection: asyncpg.Connection, consumer: str, event_id: uuid.UUID, by: str) -> bool:
    """Give up on a poisoned event so its tip's waiting events go on; False if it is not poisoned."""
    changed = await connection.fetchval(
        "UPDATE inbox SET status = 'set_aside', payload = NULL, headers = NULL, reason = $3, processed_at = now()"
        " WHERE consumer = $1 AND event_id = $2 AND status = 'poisoned' RETURNING true",
        consumer, event_id, f"set aside by {by}",
    )  # fmt: skip
    return bool(changed)
