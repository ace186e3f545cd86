"""Disclosure's tables."""

from __future__ import annotations

import uuid

import asyncpg

from schemas.triage import Urgency
from services.disclosure.domain.policy import GateDecision


async def save_decision(
    connection: asyncpg.Connection,
    tip_id: uuid.UUID,
    gate: GateDecision,
    urgency: Urgency,
    source_event_id: uuid.UUID,
) -> None:
    await connection.execute(
        "INSERT INTO disclosure_decisions (tip_id, decision, basis, policy_version, urgency,"
        " source_event_id) VALUES ($1, $2, $3, $4, $5, $6)"
        # A revised triage (a supplement, an override) decides again; the latest decision stands.
        " ON CONFLICT (tip_id) DO UPDATE SET decision = excluded.decision, basis = excluded.basis,"
        " policy_version = excluded.policy_version, urgency = excluded.urgency,"
        " source_event_id = excluded.source_event_id",
        tip_id,
        gate.decision.value,
        gate.basis.value,
        gate.policy_version,
        urgency.value,
        source_event_id,
    )
