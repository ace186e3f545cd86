"""Monitoring's retention, run as monitoring's role: each tip's journey (the steps the console shows
by reference) goes once past the journeys' limit; the case's plans, reviews and alerts once past the
casework limit from the shred of its key. The facts statistics count (``monitoring.tips``) stay,
with the tip's reference removed: no record left names the case to a person."""

from __future__ import annotations

from services.common.retention import Kind, Step, after_shred_step, sql_step

_PLAN = "JOIN monitoring.plans p ON p.plan_id = x.plan_id"
_ALERT = "JOIN monitoring.alert_sources a ON a.alert_id = x.alert_id"
_REFERENCED = (
    "FROM monitoring.tips x WHERE x.reference IS NOT NULL AND retention.shredded_at(x.tip_id) IS NOT NULL"
)

STEPS: tuple[Step, ...] = (
    sql_step(
        Kind.JOURNEYS,
        "monitoring.journey",
        "SELECT occurred_at AS since, retention.is_held(tip_id) AS held FROM monitoring.journey",
        "DELETE FROM monitoring.journey WHERE id = ANY(ARRAY(SELECT id FROM monitoring.journey"
        " WHERE occurred_at < $1 AND NOT retention.is_held(tip_id) LIMIT $2))",
    ),
    after_shred_step(Kind.CASEWORK, "monitoring.plan_steps", tip="p.tip_id", via=_PLAN),
    after_shred_step(Kind.CASEWORK, "monitoring.plans"),
    after_shred_step(Kind.CASEWORK, "monitoring.reviews"),
    after_shred_step(Kind.CASEWORK, "monitoring.deliveries", tip="a.tip_id", via=_ALERT),
    after_shred_step(Kind.CASEWORK, "monitoring.alerts", tip="a.tip_id", via=_ALERT),
    after_shred_step(Kind.CASEWORK, "monitoring.alert_sources"),
    sql_step(
        Kind.CASEWORK,
        "monitoring.tips.reference",
        "SELECT retention.shredded_at(x.tip_id) AS since, retention.is_held(x.tip_id) AS held " + _REFERENCED,
        "UPDATE monitoring.tips SET reference = NULL WHERE tip_id = ANY(ARRAY(SELECT x.tip_id "
        + _REFERENCED
        + " AND retention.shredded_at(x.tip_id) < $1 AND NOT retention.is_held(x.tip_id) LIMIT $2))",
    ),
)
