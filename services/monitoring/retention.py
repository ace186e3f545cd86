"""Monitoring's retention, run as monitoring's role: each tip's journey (the steps the console shows
by reference) goes once past the journeys' limit."""

from __future__ import annotations

from services.common.retention import Kind, Step, sql_step

STEPS: tuple[Step, ...] = (
    sql_step(
        Kind.JOURNEYS,
        "monitoring.journey",
        "SELECT occurred_at AS since, retention.is_held(tip_id) AS held FROM monitoring.journey",
        "DELETE FROM monitoring.journey WHERE id = ANY(ARRAY(SELECT id FROM monitoring.journey"
        " WHERE occurred_at < $1 AND NOT retention.is_held(tip_id) LIMIT $2))",
    ),
)
