"""Intake's retention, run as intake's role: a tip's data key is shredded when its identifying data
expires (the same shred an admin orders, recorded as the retention job's), the sealed values of a
shredded tip leave intake's tables, its rows (the tip, follow-ups, consents, call, assignments and
their history, follow-up code) go once past the casework limit from the shred, and
the records of who unsealed or opened its data (``keys.unseal_audit``, ``openings``) once past the
access records' limit."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime

import asyncpg

from services.common.retention import (
    BATCH,
    ERASED_IDENTIFIERS,
    Kind,
    Step,
    after_shred_step,
    erase_sealed_step,
)
from services.common.sealing import Shredding, ShredReason
from services.intake.handlers import shred_on

JOB = "retention"

_LAST_REPORT = (
    "SELECT t.tip_id, greatest(t.received_at, s.last) AS since, retention.is_held(t.tip_id) AS held"
    " FROM intake.tips t JOIN keys.data_keys k ON k.tip_id = t.tip_id AND k.wrapped_key IS NOT NULL"
    " LEFT JOIN LATERAL (SELECT max(received_at) AS last FROM intake.supplements s"
    " WHERE s.tip_id = t.tip_id) s ON true"
)


Pause = Callable[[uuid.UUID], Awaitable[None]]


async def _go_on(_tip_id: uuid.UUID) -> None:
    return None


def shred_step(before_lock: Pause = _go_on, after_lock: Pause = _go_on) -> Step:
    """The identifying data's step: shred the key of each tip whose last report is past the limit.

    ``before_lock`` and ``after_lock`` run for each tip between reading it as due and shredding it
    (tests place a legal hold there); the service runs none."""

    async def shred_expired(connection: asyncpg.Connection, cutoff: datetime) -> int:
        tips: list[uuid.UUID] = [
            row["tip_id"]
            for row in await connection.fetch(
                f"SELECT tip_id FROM ({_LAST_REPORT}) AS t WHERE since < $1 AND NOT held LIMIT $2",
                cutoff,
                BATCH,
            )
        ]
        shredding = Shredding(ShredReason.RETENTION, job=JOB)
        shredded = 0
        for tip_id in tips:
            await before_lock(tip_id)
            # A hold placed since the select above must stop the shred, which cannot be undone: the
            # hold and the shred take the same lock (lantern/retention.py), and the hold is read
            # again under it.
            await connection.execute(
                "SELECT pg_advisory_xact_lock(hashtext('legal-hold:' || $1::uuid::text))", tip_id
            )
            await after_lock(tip_id)
            if await connection.fetchval("SELECT retention.is_held($1)", tip_id):
                continue
            shredded += await shred_on(connection, tip_id, shredding)
        return shredded

    return Step(Kind.IDENTIFYING, "keys.data_keys", _LAST_REPORT, shred_expired)


STEPS: tuple[Step, ...] = (
    shred_step(),
    erase_sealed_step("intake.tips", "tip_id", "identifiers", ERASED_IDENTIFIERS),
    erase_sealed_step("intake.supplements", "supplement_id", "identifiers", ERASED_IDENTIFIERS),
    # Casework, the rows that point at the tip before the tip row itself.
    after_shred_step(Kind.CASEWORK, "intake.assignment_history"),
    after_shred_step(Kind.CASEWORK, "intake.assignments"),
    after_shred_step(Kind.CASEWORK, "intake.calls"),
    after_shred_step(
        Kind.CASEWORK,
        "intake.supplement_recorders",
        tip="s.tip_id",
        via="JOIN intake.supplements s ON s.supplement_id = x.supplement_id",
    ),
    after_shred_step(Kind.CASEWORK, "intake.follow_up_codes"),
    after_shred_step(Kind.CASEWORK, "intake.consents"),
    after_shred_step(Kind.CASEWORK, "intake.supplements"),
    after_shred_step(Kind.CASEWORK, "intake.tips"),
    after_shred_step(Kind.ACCESS, "intake.openings"),
    after_shred_step(Kind.ACCESS, "keys.unseal_audit"),
)
