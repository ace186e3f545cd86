"""Which broker a service's outbox last published to, and what it owes a broker that lost everything.

A Kafka broker that keeps its log never needs this. Tansu, the local broker, keeps nothing on disk:
when `lantern up` starts it again its topics, records and committed offsets are gone, and it comes
back under a cluster id of its own. The relay that leads a schema reads the cluster id before its
rounds; when it differs from the one stored (``broker_epoch``), it makes sure the topics exist and,
in one transaction with the new id, marks unsent every row published that was staged in the last
``REPLAY_WINDOW`` and still holds its payload:

- events: consumers lost their offsets with the broker and read each topic from its start again;
  their inboxes absorb what they had already applied, and what they had not yet read arrives;
- packages to agencies: a package keeps its sealed bytes (ciphertext only the agency opens) until
  its agency acknowledges it (disclosure's migration 0008), so a package not yet acknowledged
  reaches its agency again, the same bytes under the same id; an acknowledged one is emptied and
  stays sent. A service may withhold rows first (``ServiceSpec.withheld_on_replay``): disclosure
  empties, and so never sends again, a package whose tip was shredded or whose caller recorded a
  consent after the tip: what was lawful to send then may not be now, so it marks the package
  with why and flags its case (disclosure migration 0009), and a supervisor decides.

``REPLAY_WINDOW`` is the event topics' retention: a broker that kept its log would still hold no
more than that, so consumers must keep their inbox rows at least that long in any case.

When no id was ever stored (a new install, or the first start after the upgrade that brought
epochs), the relay cannot know whether the broker holds what the outbox published before: it
publishes the window again once, as for a new broker, and records the id. A new install has nothing
to publish; an upgraded one sends consumers events their inboxes absorb, rather than risk that a
broker restarted during the upgrade lost them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta

import asyncpg

from schemas.topics import EVENT_SETTINGS
from services.common.logging import get_logger

log = get_logger(__name__)
REPLAY_WINDOW: timedelta = EVENT_SETTINGS.retention
REQUEUE = """
UPDATE outbox SET sent_at = NULL
WHERE sent_at IS NOT NULL AND created_at > now() - $1::interval AND length(payload) > 0
"""
# Failures against the broker that is gone say nothing about a row: its attempts start again. (Tansu
# fails writes at times right after a restart; rows counted through several wipes were quarantined.)
FORGIVE = "UPDATE outbox SET attempts = 0 WHERE sent_at IS NULL AND quarantined_at IS NULL AND attempts > 0"


class BrokerEpoch:
    """Tell a new broker from the one the outbox last published to, and publish again for it."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        schema: str,
        cluster_id: Callable[[], Awaitable[str | None]],
        prepare: Callable[[], Awaitable[None]],
        replay_window: timedelta = REPLAY_WINDOW,
        withheld: str | None = None,
    ) -> None:
        self.pool = pool
        self.schema = schema
        self._cluster_id = cluster_id
        self._prepare = prepare
        self.replay_window = replay_window
        self.withheld = withheld
        self.known: str | None = None

    async def check(self) -> int:
        """Compare the broker's cluster id with the stored one; return how many rows were marked unsent."""
        return await self.settle(await self.read())

    async def read(self) -> str | None:
        """The broker's cluster id now (a metadata request): the relay asks it beside its rounds, not
        before each one, and hands the answer to ``settle`` between rounds."""
        async with asyncio.timeout(10):
            return await self._cluster_id()

    def changed(self, current: str | None) -> bool:
        """``current`` may name another broker than the one last settled."""
        return current is not None and current != self.known

    async def settle(self, current: str | None) -> int:
        """Act on the cluster id ``current`` read from the broker; return how many rows were marked unsent."""
        if not self.changed(current):
            return 0
        async with self.pool.acquire() as connection, connection.transaction():
            # Two relays of one schema that both find no row serialize on the table's primary key:
            # the lock taken here makes the second wait, then see the first one's id.
            await connection.execute("LOCK TABLE broker_epoch IN SHARE ROW EXCLUSIVE MODE")
            stored = await connection.fetchval("SELECT cluster_id FROM broker_epoch")
            if stored == current:
                self.known = current
                return 0
            await self._prepare()
            withheld = int(await connection.fetchval(self.withheld)) if self.withheld else 0
            status = await connection.execute(REQUEUE, self.replay_window)
            await connection.execute(FORGIVE)
            await connection.execute(
                "INSERT INTO broker_epoch (cluster_id) VALUES ($1)"
                " ON CONFLICT (singleton) DO UPDATE SET cluster_id = excluded.cluster_id, seen_at = now()",
                current,
            )
        requeued = int(status.split()[-1])
        self.known = current
        log.warning(
            "new broker: stored events published again", schema=self.schema, events=requeued,
            first_epoch=stored is None,
            withheld=withheld,
        )  # fmt: skip
        return requeued
