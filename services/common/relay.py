"""The outbox relay: publishes committed outbox rows to Kafka and marks them sent.

One relay per service schema leads at a time (a session advisory lock), so events of one tip leave
in the order they were staged; rows are still claimed with ``FOR UPDATE SKIP LOCKED`` so that a
relay that loses its lock mid-batch can never send the rows another relay is sending. A crash
between the send and the commit re-sends those rows: consumers deduplicate on ``event_id``.

A row the relay cannot publish never stops the others. It is *quarantined*: kept with its payload,
marked with a reason code, counted, and left for a person (``lantern outbox``); monitoring pages the
supervisors on call. The rows staged after it under the same key (its tip, or its case for a
package) are held behind it, so that a tip's events never leave out of order; every other key goes
on. Which failure is whose (``verdict``):

- the row's own: the client refuses it before sending (larger than the broker takes), or the broker
  refuses it for good when it was sent alone: quarantined at once;
- a refusal while other rows were in flight: it may have been a neighbour's, so the row is retried,
  alone from then on;
- anything else (a timeout, a lost connection, a busy broker) counts against the row only when
  other rows reached the broker in the same round, which shows that the broker itself works; after
  ``max_attempts`` such failures the row is quarantined. A broker that takes nothing counts against
  nothing: the relay backs off and ``/health`` reports the stall. A row's failures count at most
  once per ``failure_spacing_seconds``, and start again on a new broker (``epoch.py``): a broker that
  fails one partition's writes for a few seconds (Tansu does, just after a restart) is no fault of
  the rows it fails, which are quarantined only after failing that long ``max_attempts`` times.
"""

from __future__ import annotations

import asyncio
import contextlib
import operator
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import asyncpg
from aiokafka import AIOKafkaProducer
from aiokafka.errors import BrokerResponseError, KafkaError, UnknownError

from schemas.topics import agency_of
from services.common import metrics
from services.common.epoch import BrokerEpoch
from services.common.logging import get_logger

log = get_logger(__name__)

# Rows waiting for the relay: not sent, not quarantined, and not held behind a quarantined row of
# their key.
CLAIM_BATCH = """
SELECT id, event_id, topic, key, payload, headers, attempts FROM outbox o
WHERE sent_at IS NULL AND quarantined_at IS NULL
  AND NOT EXISTS (
    SELECT 1 FROM outbox q
    WHERE q.key = o.key AND q.id < o.id
      AND q.quarantined_at IS NOT NULL AND q.discarded_at IS NULL AND q.sent_at IS NULL
  )
ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED
"""


# A row to empty after sending (a package to an agency) keeps its sealed bytes until its recipient
# acknowledges it: a broker that lost it gets it again (services/common/epoch.py).
def mark_sent_and_commit(ids: list[int]) -> str:
    """Mark ``ids`` sent, then ``COMMIT``, as one simple query (one round trip).

    The ids are written into the SQL text: anything not an integer (text, a float, a bool) is
    refused rather than converted."""
    if not ids:
        return "COMMIT"
    listed = ",".join(str(operator.index(row_id)) for row_id in ids)
    return f"UPDATE outbox SET sent_at = now(), last_error = NULL WHERE id = ANY('{{{listed}}}'::bigint[]); COMMIT"


COUNT_FAILURE = "UPDATE outbox SET attempts = attempts + 1, last_error = $2 WHERE id = $1"
QUARANTINE = """
UPDATE outbox SET attempts = attempts + 1, last_error = $2, quarantined_at = now(), quarantine_reason = $3
WHERE id = $1
"""
# What /health and monitoring read: the oldest row the relay should have sent, rows quarantined,
# and rows held behind them.
RELAY_STATE = """
SELECT
  (SELECT EXTRACT(EPOCH FROM now() - min(created_at)) FROM outbox o
    WHERE sent_at IS NULL AND quarantined_at IS NULL
      AND NOT EXISTS (SELECT 1 FROM outbox q WHERE q.key = o.key AND q.id < o.id
                      AND q.quarantined_at IS NOT NULL AND q.discarded_at IS NULL AND q.sent_at IS NULL)
  ) AS oldest_waiting_seconds,
  (SELECT count(*) FROM outbox WHERE sent_at IS NULL AND quarantined_at IS NULL) AS unsent,
  (SELECT count(*) FROM outbox
    WHERE quarantined_at IS NOT NULL AND discarded_at IS NULL AND sent_at IS NULL) AS quarantined
"""
QUARANTINED_ROWS = """
SELECT id, event_id, topic, quarantine_reason, last_error, attempts, created_at, quarantined_at,
  (SELECT count(*) FROM outbox h WHERE h.key = q.key AND h.id > q.id
     AND h.sent_at IS NULL AND h.quarantined_at IS NULL) AS held_behind
FROM outbox q
WHERE quarantined_at IS NOT NULL AND discarded_at IS NULL AND sent_at IS NULL
ORDER BY id LIMIT $1
"""


class Verdict(StrEnum):
    """What a failed send means for its row."""

    QUARANTINE = "quarantine"
    RETRY_ALONE = "retry_alone"
    NOT_COUNTED = "not_counted"


class Reason(StrEnum):
    """Why a row was quarantined (the ``quarantine_reason`` column)."""

    REFUSED = "refused"  # the client or the broker will never take this row as it is
    ATTEMPTS_EXHAUSTED = "attempts_exhausted"


def refused_for_good(error: BaseException) -> bool:
    """The failure is about the record itself, and sending it again cannot help: too large, a topic
    that cannot exist or that we may not write, a record the broker calls corrupt, or our own
    serialisation of it failing. An ``UnknownError`` says nothing about the record.
    """
    if isinstance(error, BrokerResponseError):
        return not error.retriable and not isinstance(error, UnknownError)
    return not isinstance(error, KafkaError)


def verdict(
    error: BaseException,
    *,
    before_send: bool,
    alone: bool,
    others_delivered: bool,
    attempts: int,
    max_attempts: int,
) -> tuple[Verdict, Reason | None]:
    """What a failed send of one row means; ``attempts`` counts this failure (see the module docstring)."""
    if refused_for_good(error):
        if before_send or alone:
            return Verdict.QUARANTINE, Reason.REFUSED
        return Verdict.RETRY_ALONE, None
    if not others_delivered:
        return Verdict.NOT_COUNTED, None
    if attempts >= max_attempts:
        return Verdict.QUARANTINE, Reason.ATTEMPTS_EXHAUSTED
    return Verdict.RETRY_ALONE, None


@dataclass(frozen=True, slots=True)
class RelayState:
    """The relay's backlog as ``/health`` reports it."""

    oldest_waiting_seconds: float
    unsent: int
    quarantined: int

    def stalled(self, after_seconds: float) -> bool:
        """A row the relay could send has waited longer than ``after_seconds``."""
        return self.oldest_waiting_seconds > after_seconds


async def relay_state(connection: asyncpg.Pool | asyncpg.Connection) -> RelayState:
    row = await connection.fetchrow(RELAY_STATE)
    assert row is not None
    return RelayState(float(row["oldest_waiting_seconds"] or 0.0), row["unsent"], row["quarantined"])


async def quarantined_rows(
    connection: asyncpg.Pool | asyncpg.Connection, limit: int = 50
) -> list[dict[str, Any]]:
    """Quarantined rows, oldest first: ids, topic, codes, times and how many rows wait behind each."""
    return [
        {
            "id": row["id"], "event_id": str(row["event_id"]), "topic": row["topic"],
            "reason": row["quarantine_reason"], "last_error": row["last_error"], "attempts": row["attempts"],
            "created_at": row["created_at"].isoformat(), "quarantined_at": row["quarantined_at"].isoformat(),
            "held_behind": row["held_behind"],
        }
        for row in await connection.fetch(QUARANTINED_ROWS, limit)
    ]  # fmt: skip


QUARANTINED = "quarantined_at IS NOT NULL AND discarded_at IS NULL AND sent_at IS NULL"


async def release(connection: asyncpg.Connection, event_id: uuid.UUID, by: str) -> bool:
    """A person fixed the cause: the row is sent again (alone, as a row that failed), then its key's
    held rows follow in order. False when no such row is quarantined.
    """
    status: str = await connection.execute(
        "UPDATE outbox SET quarantined_at = NULL, quarantine_reason = NULL, attempts = 1, handled_by = $2"
        f" WHERE event_id = $1 AND {QUARANTINED}",
        event_id,
        by,
    )
    return status.endswith(" 1")


class PackageNotDiscardable(Exception):
    """A quarantined package to an agency is never discarded: its case already reads as forwarded, and
    nothing would record that the agency never received it. It is released once the cause is mended."""

    def __init__(self, agency: str) -> None:
        super().__init__(agency)
        self.agency = agency


async def discard(connection: asyncpg.Connection, event_id: uuid.UUID, by: str) -> bool:
    """A person decided the row must never go out: it is kept as discarded (opened content emptied)
    and its key's held rows go on. False when no such row is quarantined; ``PackageNotDiscardable``
    for a package to an agency.
    """
    async with connection.transaction():
        topic: str | None = await connection.fetchval(
            f"SELECT topic FROM outbox WHERE event_id = $1 AND {QUARANTINED} FOR UPDATE", event_id
        )
        if topic is None:
            return False
        agency = agency_of(topic)
        if agency is not None:
            raise PackageNotDiscardable(agency)
        await connection.execute(
            "UPDATE outbox SET discarded_at = now(), handled_by = $2,"
            " payload = CASE WHEN scrub_after_send THEN ''::bytea ELSE payload END WHERE event_id = $1",
            event_id,
            by,
        )
    return True


@dataclass
class _Failure:
    row: asyncpg.Record
    error: BaseException
    before_send: bool
    alone: bool


class OutboxRelay:
    def __init__(
        self,
        *,
        pool: asyncpg.Pool,
        database_url: str,
        schema: str,
        producer: AIOKafkaProducer,
        batch_size: int,
        poll_seconds: float,
        max_attempts: int = 5,
        epoch: BrokerEpoch | None = None,
        failure_spacing_seconds: float = 5.0,
    ) -> None:
        self.pool = pool
        self.epoch = epoch
        self.database_url = database_url
        self.schema = schema
        self.producer = producer
        self.batch_size = batch_size
        self.poll_seconds = poll_seconds
        self.max_attempts = max_attempts
        self.failure_spacing_seconds = failure_spacing_seconds
        self._counted_at: dict[int, float] = {}
        """When each row's last failure was counted (rows failing now), on the monotonic clock."""
        self.leading = False
        self._led = False
        self.published = 0
        self.quarantined = 0
        self._cluster_id: str | None = None

    async def run(self) -> None:
        """Relay until cancelled, reconnecting after any failure."""
        failures = 0
        while True:
            try:
                await self._lead_and_relay()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                # A relay that led before failing meets a new outage: it backs off from the start.
                failures = 1 if self._led else failures + 1
                self.leading, self._led = False, False
                delay = min(0.2 * 2**failures, 10.0)
                log.warning(
                    "outbox relay failed, restarting",
                    schema=self.schema,
                    error_type=type(error).__name__,
                    delay_seconds=delay,
                )
                await asyncio.sleep(delay)
            else:
                failures = 0

    async def _lead_and_relay(self) -> None:
        listener = await asyncpg.connect(self.database_url)
        try:
            await self._wait_for_leadership(listener)
            wake = asyncio.Event()
            await listener.add_listener(f"{self.schema}_outbox", lambda *_: wake.set())
            self.leading = self._led = True
            # Rows another leader sent, or that a wipe forgave, since this one last led are not ours
            # to space: the map holds only the rows failing under this lead.
            self._counted_at.clear()
            log.info("outbox relay leading", schema=self.schema)
            watch = None
            if self.epoch is not None:
                # Before the first round, then between rounds: a broker that lost everything gets the
                # older rows first. The cluster id is read beside the rounds (a metadata request took
                # 5-20 ms on a busy machine, once a second, in front of whatever was waiting to go).
                await self.epoch.check()
                watch = asyncio.create_task(self._watch_epoch(self.epoch, wake))
            try:
                await self._relay(listener, wake)
            finally:
                if watch is not None:
                    watch.cancel()
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await watch
        finally:
            self.leading = False
            with contextlib.suppress(Exception):
                await listener.close()

    async def _watch_epoch(self, epoch: BrokerEpoch, wake: asyncio.Event) -> None:
        """Read the broker's cluster id every poll; wake the relay when it names another broker."""
        while True:
            try:
                self._cluster_id = await epoch.read()
            except Exception as error:
                # A broker out of reach fails the relay's sends too; they say so, and this tries again.
                log.debug("broker cluster id not read", schema=self.schema, error_type=type(error).__name__)
            else:
                if epoch.changed(self._cluster_id):
                    wake.set()
            await asyncio.sleep(self.poll_seconds)

    async def _relay(self, listener: asyncpg.Connection, wake: asyncio.Event) -> None:
        stuck = 0
        while not listener.is_closed():
            wake.clear()
            if self.epoch is not None and self.epoch.changed(self._cluster_id):
                await self.epoch.settle(self._cluster_id)
                self._counted_at.clear()  # a new broker starts every row's attempts again
            claimed, sent, quarantined = await self._publish_round()
            if claimed and not sent and not quarantined:
                # Nothing reached the broker: back off, the rows stay where they are.
                stuck += 1
                await asyncio.sleep(min(0.2 * 2**stuck, 10.0))
                continue
            stuck = 0
            if claimed < self.batch_size:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), self.poll_seconds)

    async def _wait_for_leadership(self, listener: asyncpg.Connection) -> None:
        """Hold the schema's relay lock on ``listener``; a standby retries once per poll."""
        lock = f"relay:{self.schema}"
        while True:
            if await listener.fetchval("SELECT pg_try_advisory_lock(hashtext($1))", lock):
                return
            await asyncio.sleep(self.poll_seconds)

    async def _publish_round(self) -> tuple[int, int, int]:
        """One claimed batch; return how many rows were claimed, sent and quarantined.

        The transaction is begun and ended by hand, so that marking the rows sent and committing are
        one round trip (``_settle``): a round is three, the claim's ``BEGIN``, the claim, the mark.
        """
        async with self.pool.acquire() as connection:
            await connection.execute("BEGIN")
            try:
                claimed, sent, quarantined = await self._claim_send_settle(connection)
            except BaseException:
                if not connection.is_closed() and connection.is_in_transaction():
                    with contextlib.suppress(Exception):
                        await connection.execute("ROLLBACK")
                raise
        self.published += sent
        self.quarantined += len(quarantined)
        for reason in quarantined:
            metrics.outbox_quarantined.add(1, {"service": self.schema, "reason": reason.value})
        return claimed, sent, len(quarantined)

    async def _claim_send_settle(self, connection: asyncpg.Connection) -> tuple[int, int, list[Reason]]:
        """Claim rows, send them, settle them and commit, in the transaction ``connection`` is in."""
        rows = await connection.fetch(CLAIM_BATCH, self.batch_size)
        if not rows:
            await connection.execute("COMMIT")
            return 0, 0, []
        sent: list[int] = []
        failures: list[_Failure] = []
        # A key with a row that failed before sends its rows one at a time, in order, after the
        # others, and stops at the first failure: one bad record cannot fail its neighbours' batch.
        suspects = {row["key"] for row in rows if row["attempts"]}
        await self._send_together([row for row in rows if row["key"] not in suspects], sent, failures)
        failed: set[bytes] = set()
        for row in rows:
            if (
                row["key"] in suspects
                and row["key"] not in failed
                and not await self._send_alone(row, sent, failures)
            ):
                failed.add(row["key"])
        quarantined = await self._settle(connection, sent, failures)
        return len(rows), len(sent), quarantined

    async def _send_together(
        self, rows: list[asyncpg.Record], sent: list[int], failures: list[_Failure]
    ) -> None:
        """Every row in flight at once, in order; a key whose row failed before sending sends no more."""
        blocked: set[bytes] = set()
        in_flight: list[tuple[asyncpg.Record, Awaitable[Any]]] = []
        for row in rows:
            if row["key"] in blocked:
                continue
            try:
                in_flight.append((row, await self._send(row)))
            except Exception as error:
                failures.append(_Failure(row, error, before_send=True, alone=True))
                blocked.add(row["key"])
        outcomes = await asyncio.gather(*(delivery for _row, delivery in in_flight), return_exceptions=True)
        alone = len(in_flight) == 1
        for (row, _delivery), outcome in zip(in_flight, outcomes, strict=True):
            if isinstance(outcome, asyncio.CancelledError):
                raise outcome
            if isinstance(outcome, BaseException):
                failures.append(_Failure(row, outcome, before_send=False, alone=alone))
            else:
                sent.append(row["id"])

    async def _send_alone(self, row: asyncpg.Record, sent: list[int], failures: list[_Failure]) -> bool:
        try:
            delivery = await self._send(row)
        except Exception as error:
            failures.append(_Failure(row, error, before_send=True, alone=True))
            return False
        try:
            await delivery
        except Exception as error:
            failures.append(_Failure(row, error, before_send=False, alone=True))
            return False
        sent.append(row["id"])
        return True

    def _send(self, row: asyncpg.Record) -> Awaitable[Awaitable[Any]]:
        send: Callable[..., Awaitable[Awaitable[Any]]] = self.producer.send
        return send(
            row["topic"],
            value=row["payload"],
            key=row["key"],
            headers=[(name, value.encode()) for name, value in row["headers"].items()],
        )

    async def _settle(
        self, connection: asyncpg.Connection, sent: list[int], failures: list[_Failure]
    ) -> list[Reason]:
        """Count or quarantine what failed, then mark what was sent and commit, in one round trip
        (ids are integers the claim read, written into the statement); return the reasons of rows
        quarantined."""
        quarantined = []
        now = time.monotonic()
        for failure in failures:
            row, error = failure.row, failure.error
            attempts = row["attempts"] + 1
            decided, reason = verdict(
                error, before_send=failure.before_send, alone=failure.alone, others_delivered=bool(sent),
                attempts=attempts, max_attempts=self.max_attempts,
            )  # fmt: skip
            counted_at = self._counted_at.get(row["id"])
            if (
                reason is not Reason.REFUSED
                and decided is not Verdict.NOT_COUNTED
                and row["attempts"]
                and counted_at is not None
                and now - counted_at < self.failure_spacing_seconds
            ):
                decided, reason = Verdict.NOT_COUNTED, None
            elif decided is not Verdict.NOT_COUNTED:
                self._counted_at[row["id"]] = now
            code = type(error).__name__
            if decided is Verdict.QUARANTINE and reason is not None:
                self._counted_at.pop(row["id"], None)
                await connection.execute(QUARANTINE, row["id"], code, reason.value)
                quarantined.append(reason)
                log.error(
                    "outbox row quarantined",
                    schema=self.schema, outbox_id=row["id"], event_id=str(row["event_id"]), topic=row["topic"],
                    reason=reason.value, error_type=code, attempts=attempts,
                )  # fmt: skip
            elif decided is Verdict.RETRY_ALONE:
                await connection.execute(COUNT_FAILURE, row["id"], code)
                log.warning(
                    "outbox row not sent, retried alone",
                    schema=self.schema, outbox_id=row["id"], topic=row["topic"], error_type=code, attempts=attempts,
                )  # fmt: skip
            else:
                log.warning("outbox row not sent", schema=self.schema, topic=row["topic"], error_type=code)
        await connection.execute(mark_sent_and_commit(sent))
        for row_id in sent:
            self._counted_at.pop(row_id, None)
        return quarantined
