"""What supervisors read: the review queue and a case's record, never a package's content."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg

from services.disclosure.adapters import audit

REVIEW_QUEUE = """
SELECT c.tip_id, c.case_reference, c.state, c.decision, c.basis, c.urgency, c.channel, c.recipients,
       c.fields, c.approvals_needed, c.legal_reference, c.received_at, c.queue, c.queued_at, c.review_due_at,
       c.review_reasons, c.review_flags, c.forwarded_at,
       coalesce(array_agg(DISTINCT a.person_id) FILTER (
           WHERE a.verdict = 'approve' AND (c.reopened_at IS NULL OR a.at > c.reopened_at)), '{}') AS approved_by
FROM cases c LEFT JOIN approvals a USING (tip_id)
WHERE c.queue IS NOT NULL
GROUP BY c.tip_id
ORDER BY c.queue = 'standard', c.review_due_at, c.received_at
LIMIT $1
"""


class CaseViews:
    def __init__(self, connection: asyncpg.Connection) -> None:
        self.connection = connection

    async def review_queue(self, limit: int) -> list[asyncpg.Record]:
        """Cases waiting for a supervisor: before a forward, or after one that went out at once."""
        return list(await self.connection.fetch(REVIEW_QUEUE, limit))

    async def case(self, tip_id: uuid.UUID) -> asyncpg.Record | None:
        row: asyncpg.Record | None = await self.connection.fetchrow(
            "SELECT tip_id, case_reference, state, decision, basis, urgency, channel, recipients, fields,"
            " approvals_needed, policy_version, legal_reference, triage_revision, received_at, queue, queued_at,"
            " review_due_at, review_reasons, recorded_grounds, confirmed_grounds, possibilities, reviewed_at,"
            " forwarded_at, reopened_at, pending_supplements, replay_withheld_at, kept_supplements FROM cases"
            " WHERE tip_id = $1",
            tip_id,
        )
        return row

    async def packages(self, tip_id: uuid.UUID) -> list[asyncpg.Record]:
        return list(
            await self.connection.fetch(
                "SELECT package_id, agency_id, recipient_kind, supplementary_to, basis, fields, issued_at,"
                " seconds_from_receipt, acknowledged_at, moved_to, withheld_on_replay_at, withheld_reason,"
                " withheld_decision, withheld_decided_at, reissued_as, owed_follow_ups FROM packages"
                " WHERE tip_id = $1 ORDER BY issued_at",
                tip_id,
            )
        )

    async def trail(self, tip_id: uuid.UUID) -> list[dict[str, Any]]:
        """The case's audit entries, oldest first."""
        return await audit.trail(self.connection, tip_id)
