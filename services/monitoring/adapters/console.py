"""The console's queries over monitoring's read model."""

from __future__ import annotations

from typing import Any

import asyncpg

from services.monitoring.adapters.charts import Chart

URGENT_WAITING = """
SELECT p.plan_id, t.reference, p.urgency, p.acknowledged, p.started_at,
       min(s.deadline) FILTER (WHERE s.status = 'open') AS next_deadline,
       coalesce(bool_or(s.breached) FILTER (WHERE s.status = 'open'), false) AS breached,
       coalesce(bool_or(s.at_risk) FILTER (WHERE s.status = 'open'), false) AS at_risk
FROM plans p JOIN plan_steps s USING (plan_id) LEFT JOIN tips t USING (tip_id)
WHERE p.status = 'open' AND p.urgency = 'urgent'
GROUP BY p.plan_id, t.reference
ORDER BY next_deadline NULLS LAST
LIMIT 50
"""
FLAGGED = """
SELECT t.reference, s.step, s.deadline, s.breached, s.at_risk
FROM plan_steps s JOIN plans p USING (plan_id) LEFT JOIN tips t USING (tip_id)
WHERE s.status = 'open' AND p.status = 'open' AND (s.breached OR s.at_risk)
ORDER BY s.breached DESC, s.deadline
LIMIT 50
"""
REVIEWS = """
SELECT coalesce(queue, 'standard') AS queue, count(*) AS waiting, min(review_due_at) AS oldest_due,
       count(*) FILTER (WHERE review_due_at < now()) AS overdue
FROM reviews WHERE NOT reviewed AND state IN ('pending_review', 'forwarded')
GROUP BY 1
"""
QUEUES = ("expedited", "standard")
# Each waiting case, expedited first, then by due time: who must be reviewed, not only how many.
WAITING_CASES = """
SELECT t.reference, coalesce(r.queue, 'standard') AS queue, r.review_due_at, r.state
FROM reviews r LEFT JOIN tips t USING (tip_id)
WHERE NOT r.reviewed AND r.state IN ('pending_review', 'forwarded')
ORDER BY coalesce(r.queue, 'standard') = 'expedited' DESC, r.review_due_at NULLS LAST
LIMIT 100
"""
BY_HOUR = """
SELECT date_trunc('hour', received_at) AS hour, count(*) AS count FROM tips
WHERE received_at > now() - interval '24 hours' GROUP BY 1 ORDER BY 1
"""
MIX = "SELECT coalesce(urgency, 'pending') AS urgency, count(*) AS count FROM tips WHERE received_at > now() - interval '24 hours' GROUP BY 1"


async def snapshot(pool: asyncpg.Pool) -> dict[str, Any]:
    async with pool.acquire() as connection:
        urgent = await connection.fetch(URGENT_WAITING)
        flagged = await connection.fetch(FLAGGED)
        by_queue = {row["queue"]: row for row in await connection.fetch(REVIEWS)}
        waiting = await connection.fetch(WAITING_CASES)
        by_hour = await connection.fetch(BY_HOUR)
        mix = await connection.fetch(MIX)
    return {
        "urgent_waiting": [
            {"reference": r["reference"], "acknowledged": r["acknowledged"], "breached": r["breached"],
             "at_risk": r["at_risk"], "next_deadline": _iso(r["next_deadline"])}
            for r in urgent
        ],
        "deadlines": [
            {"reference": r["reference"], "step": r["step"], "deadline": _iso(r["deadline"]),
             "breached": r["breached"], "at_risk": r["at_risk"]}
            for r in flagged
        ],
        "review_queue": {
            "waiting": sum(row["waiting"] for row in by_queue.values()),
            "oldest_due": _iso(min((row["oldest_due"] for row in by_queue.values() if row["oldest_due"]), default=None)),
            "overdue": sum(row["overdue"] for row in by_queue.values()),
            "cases": [
                {"reference": r["reference"], "queue": r["queue"], "due": _iso(r["review_due_at"]), "state": r["state"]}
                for r in waiting
            ],
            "queues": {
                queue: {"waiting": row["waiting"] if row else 0, "oldest_due": _iso(row["oldest_due"] if row else None),
                        "overdue": row["overdue"] if row else 0}
                for queue in QUEUES for row in (by_queue.get(queue),)
            },
        },
        "tips_by_hour": [{"hour": _iso(r["hour"]), "count": r["count"]} for r in by_hour],
        "urgency_mix": {r["urgency"]: r["count"] for r in mix},
    }  # fmt: skip


async def journey(pool: asyncpg.Pool, reference: str) -> list[dict[str, Any]] | None:
    tip_id = await pool.fetchval("SELECT tip_id FROM tips WHERE reference = $1", reference)
    if tip_id is None:
        return None
    rows = await pool.fetch(
        "SELECT topic, event_type, occurred_at, detail FROM journey WHERE tip_id = $1 ORDER BY occurred_at, id",
        tip_id,
    )
    return [{**dict(row), "occurred_at": row["occurred_at"].isoformat()} for row in rows]


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


CHART_WORDS = {
    "en": ("Tips received, last 24 hours", "Hour (UTC)", "Tips", "Tips per hour"),
    "fr": (
        "Signalements reçus, 24 dernières heures",
        "Heure (UTC)",
        "Signalements",
        "Signalements par heure",
    ),
}


def tips_by_hour_chart(by_hour: list[dict[str, Any]], language: str) -> Chart:
    """The last 24 hours, one bar per hour, every word in ``language``."""
    title, x_title, y_title, legend = CHART_WORDS[language]
    hours = [f"{row['hour'][11:13]} h" for row in by_hour]
    return Chart(title, x_title, y_title, hours, [(legend, [row["count"] for row in by_hour])])
