"""Consuming events in batches without ever losing one, applying one twice, or letting one overtake.

A service runs one consumer-group member over all its topics. Each batch (``getmany``) is applied in
one PostgreSQL transaction: the inbox rows are claimed together, each event's handler runs with a
unit of work on that transaction, every staged outbox row is written in one statement, and the
offsets are committed once, after the commit, while the next batch is fetched and applied (on a
clean stop, ``drain`` awaits the last of them before the consumer closes).
- A message that no allowed producer signed (``signing``) goes to ``<topic>.DLT`` as
  ``unauthenticated`` before it is even parsed: it reaches no inbox and no handler.
- A message that is not a valid event goes to ``<topic>.DLT`` (field and rule, never a value).
- A transient failure (database or broker unreachable) rolls the batch back; it is retried in place,
  without limit, so nothing is skipped.
- A handler that fails takes its event, and the later events of the same tip, out of the batch; the
  rest commits once. The failed event is retried alone; after ``max_attempts`` it is dead-lettered
  and *poisoned*: its tip is parked, and the tip's later events wait in the inbox, in order, until
  the poisoned event is replayed from the DLT (``lantern inbox`` shows them) or set aside.
- An event whose handler says it is ``Deferred`` (it depends on one not handled yet) waits in the
  inbox and is retried when its tip moves and on every sweep; the tip's other events go on.
Held events are durable, so every offset of a batch can be committed.

Nothing here may wait for ever (a hung connection, a lock an orphaned transaction holds, a broker
that never answers): one transaction is bounded by ``batch_timeout_seconds`` (past it, its
connection is closed, which abandons the transaction, and the batch is tried again: the inbox makes
the repetition harmless); the offsets are committed by this class, after the transaction, bounded
too, and only for partitions still assigned by the same assignment on the same cluster (a batch read
from a broker that has since lost everything, or from partitions since given to another member,
commits nothing: its events come again and the inbox absorbs them). ``keep_positions`` rewinds a
position past the end of its partition's log (a broker that restarted empty) instead of waiting
there for records that will never come, and ``stalled_for`` says how long a round has been going on,
or how long none has run while there is work, for ``/health``.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from operator import attrgetter
from typing import Any

import asyncpg
from aiokafka import (
    AIOKafkaConsumer,
    AIOKafkaProducer,
    ConsumerRebalanceListener,
    ConsumerRecord,
    TopicPartition,
)
from aiokafka.errors import KafkaError
from aiokafka.protocol.group import LeaveGroupRequest
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from opentelemetry import trace
from opentelemetry.trace import StatusCode
from pydantic import BaseModel, ValidationError

from schemas.topics import dead_letter_topic
from services.common import errors, metrics
from services.common.db import IDLE_IN_TRANSACTION_TIMEOUT_MS
from services.common.logging import get_logger
from services.common.messaging import OutboxMessage, Transactions, write_outbox
from services.common.signing import SIGNATURE_HEADER, SIGNER_HEADER, EventVerifier
from services.common.signing import Unauthenticated as Unsigned
from services.common.telemetry import context_from

log = get_logger(__name__)
DATABASE_ANSWERS_SECONDS = 2.0
# How long a clean stop waits for the last batch's commit before closing the consumer anyway.
DRAIN_SECONDS = 5.0
_tracer = trace.get_tracer("lantern.consumer")


class Deferred(Exception):
    """The event depends on another one this service has not handled yet: hold it and retry later."""


class Rejected(Exception):
    """The event is refused for good (it names what is not there, or comes from the wrong sender):
    dead-letter it at once, without retries, and park nothing behind it."""

    reason = "rejected"


class Unauthenticated(Rejected):
    """A handler found the sender not proved (an acknowledgement its agency did not sign); an event no
    service signed never reaches a handler (``signing.Unauthenticated``)."""

    reason = "unauthenticated"


TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.exceptions.InsufficientResourcesError,
    asyncpg.TransactionRollbackError,
    KafkaError,
    ConnectionError,
    OSError,
    TimeoutError,
)

DEFERRED, WAITING, POISONED, SET_ASIDE = "deferred", "waiting", "poisoned", "set_aside"
CLIENT_CHECK_INTERVAL_MS = 5_000

# The batch's transaction ends itself if its client goes silent: the first statement of every batch
# (one of the claims below) sets the limit for the rest of the transaction (``set_config(..., true)``
# is ``SET LOCAL``), in its own round trip rather than one more. The idle limit alone does not end a
# batch abandoned past its deadline while one of its statements waits on a lock (the server is then
# busy, not idle): that backend would keep the tips' locks it holds, and every later attempt at the
# same tips would wait behind it until the service is restarted as stalled (seen in the fault mix).
# So a statement ends within the same limit, and a running one looks for its client every few seconds.
LIMIT_IDLE_IN_BATCH = (
    f"set_config('idle_in_transaction_session_timeout', '{IDLE_IN_TRANSACTION_TIMEOUT_MS}', true)"
    f" || set_config('statement_timeout', '{IDLE_IN_TRANSACTION_TIMEOUT_MS}', true)"
    f" || set_config('client_connection_check_interval', '{CLIENT_CHECK_INTERVAL_MS}', true)"
)
# Claims new events (a row each) and, in the same round trip, reads the statuses their tips' events
# may wait behind. The rows it inserts are 'done' and not seen by the read: neither would count. The
# last row (no event, no tip) is the idle limit's setting.
CLAIM_NEW = f"""
WITH claimed AS (
  INSERT INTO inbox (consumer, event_id, tip_key)
  SELECT $1, * FROM unnest($2::uuid[], $3::text[]) ON CONFLICT DO NOTHING RETURNING event_id
)
SELECT event_id, NULL::text AS tip_key, NULL::text AS status FROM claimed
UNION ALL
SELECT DISTINCT NULL::uuid, tip_key, status FROM inbox
WHERE consumer = $1 AND tip_key = ANY($3::text[]) AND status IN ('poisoned', 'waiting')
UNION ALL
SELECT NULL::uuid, NULL::text, {LIMIT_IDLE_IN_BATCH}
"""
# Locks the tips of held events, in key order, after the idle limit is set (see CLAIM_NEW).
LOCK_HELD_TIPS = f"""
WITH locked AS MATERIALIZED (
  SELECT pg_advisory_xact_lock(hashtext($1 || '/' || key))
  FROM (SELECT DISTINCT key FROM unnest($2::text[]) AS key ORDER BY key) AS keys
)
SELECT {LIMIT_IDLE_IN_BATCH}, (SELECT count(*) FROM locked)
"""


def qualified_name(kind: type[BaseException]) -> str:
    return f"{kind.__module__}.{kind.__qualname__}"


BACKOFF_CEILING_SECONDS = 30.0


def backoff_delay(failures: int, base: float, ceiling: float = BACKOFF_CEILING_SECONDS) -> float:
    return float(min(base * 2 ** (failures - 1), ceiling))


@dataclass(frozen=True, slots=True)
class Route:
    """What a topic carries and the use case that handles it."""

    model: type[BaseModel]
    handle: Callable[[Any, Any], Awaitable[None]]
    event_id: Callable[[Any], uuid.UUID] = attrgetter("event_id")
    reads_tip: bool = True
    """Whether the use case reads what is kept about its tip: only such events' tips are the batch's
    (``UnitOfWork.batch_tips``), which a repository may lock and read for all of them at once."""


@dataclass(eq=False, slots=True)
class Delivery:
    """One event to apply: just consumed, or held in the inbox."""

    topic: str
    key: str
    event: Any
    payload: bytes
    route: Route
    event_id: uuid.UUID
    record: ConsumerRecord[bytes, bytes] | None = None
    kept_headers: dict[str, str] = field(default_factory=dict)
    """The headers the inbox kept for a held event (it has no record)."""
    held_as: str | None = None
    """The event's status in the inbox when it was read from there (deferred or waiting)."""
    hold: str | None = None
    """Set when the event is to be kept in the inbox instead of applied (deferred, waiting, poisoned)."""
    replay: bool = False
    failures: int = 0
    error: BaseException | None = None
    timing_out_since: float | None = None
    """When it alone first outlasted the batch deadline while the database answered."""

    @property
    def held(self) -> bool:
        return self.held_as is not None

    @property
    def tip_id(self) -> uuid.UUID | None:
        """The tip the event is about; None for a message about no one tip (an acknowledgement)."""
        inner = getattr(self.event, "event", self.event)
        tip_id = getattr(inner, "tip_id", None)
        return tip_id if isinstance(tip_id, uuid.UUID) else None

    @property
    def traceparent(self) -> str | None:
        inner = getattr(self.event, "event", self.event)
        value = getattr(inner, "traceparent", None)
        return value if value is not None else self.headers_to_keep().get("traceparent")

    def original_headers(self) -> list[tuple[str, bytes]]:
        """The headers the event came with: all its record's, or those the inbox kept."""
        if self.record is not None:
            return list(self.record.headers or ())
        return [(name, value.encode()) for name, value in self.kept_headers.items()]

    def headers_to_keep(self) -> dict[str, str]:
        """What the inbox keeps of the headers while the event is held: those Lantern writes,
        the signature above all, so that a held event that fails is dead-lettered verifiable."""
        if self.record is None:
            return dict(self.kept_headers)
        kept: dict[str, str] = {}
        for name, value in self.record.headers or ():
            if name in KEPT_HEADERS and isinstance(value, bytes) and len(value) <= MAX_KEPT_HEADER_BYTES:
                try:
                    kept[name] = value.decode()
                except UnicodeDecodeError:
                    continue
        return kept


MAX_KEY_LENGTH = 200

KEPT_HEADERS = frozenset(
    {SIGNER_HEADER, SIGNATURE_HEADER, "traceparent", "event_type", "message_type", "content-type"}
)
"""The headers a held event keeps in the inbox: what Lantern's producers write, nothing else."""
MAX_KEPT_HEADER_BYTES = 512


def _ordering_key(key: bytes) -> str | None:
    """The record key as the text the inbox orders a tip's events by; None when it cannot be
    (not UTF-8, a control character, too long): such a record is no Lantern event."""
    try:
        text = key.decode()
    except UnicodeDecodeError:
        return None
    if len(text) > MAX_KEY_LENGTH or not text.isprintable():
        return None
    return text


@dataclass(frozen=True, slots=True)
class Handled:
    """An event its handler applied, with its span: ended once the batch's rows are flushed."""

    delivery: Delivery
    span: trace.Span
    ended_at: int
    """When the handler returned (ns since the epoch): the span's end, however long the flush takes."""


class BatchTimedOut(TimeoutError):
    """A batch's transaction outlasted its deadline and was abandoned: it is tried again."""

    def __init__(self, stage: str) -> None:
        super().__init__(f"batch timed out waiting for its {stage}")


class HandlerFailed(Exception):
    def __init__(self, delivery: Delivery, error: BaseException) -> None:
        super().__init__(qualified_name(type(error)))
        self.delivery = delivery
        self.error = error


class DeadLetters:
    """Publishes messages that cannot be processed to their topic's dead-letter topic."""

    def __init__(self, producer: AIOKafkaProducer, group_id: str) -> None:
        self.producer = producer
        self.group_id = group_id
        self.sent = 0

    async def send(
        self,
        delivery: Delivery | ConsumerRecord[bytes, bytes],
        reason: str,
        error: BaseException,
        field_errors: list[errors.FieldError] | None = None,
    ) -> None:
        # A held event has no record: the inbox kept its headers, signature included, so that a
        # replay of the dead letter verifies as the original did.
        if isinstance(delivery, Delivery):
            record, topic, value = delivery.record, delivery.topic, delivery.payload
            key = record.key if record else delivery.key.encode()
            kept = delivery.original_headers()
        else:
            record, topic, key, value = delivery, delivery.topic, delivery.key, delivery.value
            kept = list(delivery.headers or ())
        headers = [
            ("dlt-original-topic", topic),
            ("dlt-original-partition", str(record.partition if record else -1)),
            ("dlt-original-offset", str(record.offset if record else -1)),
            ("dlt-original-consumer-group", self.group_id),
            ("dlt-exception-fqcn", qualified_name(type(error))),
            ("dlt-failed-at", datetime.now(UTC).isoformat()),
            ("dlt-reason", reason),
        ]
        if field_errors:
            headers.append(("dlt-error-fields", ";".join(f"{e.field}:{e.rule}" for e in field_errors)))
        original = [(name, header) for name, header in kept if not name.startswith("dlt-")]
        await self.producer.send_and_wait(
            dead_letter_topic(topic),
            value=value,
            key=key,
            headers=original + [(name, header.encode()) for name, header in headers],
        )
        metrics.dead_letters.add(1, {"service": self.group_id, "topic": topic, "reason": reason})
        self.sent += 1
        log.warning(
            "message dead-lettered",
            topic=topic,
            partition=record.partition if record else None,
            offset=record.offset if record else None,
            group_id=self.group_id,
            reason=reason,
            error_type=qualified_name(type(error)),
        )


@dataclass
class HeldPage:
    """A page of held events read from the inbox: those to try, and where the page ended."""

    rows: int
    last_seq: int
    deliveries: list[Delivery] = field(default_factory=list)


@dataclass
class Applied:
    """What one committed batch did, for metrics and for the work that follows it."""

    outcomes: list[tuple[Delivery, str]] = field(default_factory=list)
    committed: list[Callable[[], None]] = field(default_factory=list)
    released: set[str] = field(default_factory=set)
    deferred: bool = False


class Assignments(ConsumerRebalanceListener):  # type: ignore[misc]
    """Counts the group's rebalances, and the cluster changes seen under an assignment: a batch read
    under one count commits its offsets only while the count is still the same."""

    def __init__(self) -> None:
        self.epoch = 0
        self.cluster: str | None = None

    async def on_partitions_revoked(self, revoked: Any) -> None:
        self.epoch += 1

    async def on_partitions_assigned(self, assigned: Any) -> None:
        self.epoch += 1

    def moved(self) -> None:
        self.epoch += 1


class BatchConsumer:
    """Applies batches of one service's events with its use cases; see the module docstring."""

    def __init__(
        self,
        *,
        service: str,
        routes: dict[str, Route],
        transactions: Transactions[Any],
        dead_letters: DeadLetters,
        verifier: EventVerifier,
        max_attempts: int,
        backoff_seconds: float,
        batch_timeout_seconds: float = 30.0,
    ) -> None:
        self.service = service
        self.routes = routes
        self.transactions = transactions
        self.dead_letters = dead_letters
        self.verifier = verifier
        self.max_attempts = max_attempts
        self.backoff_seconds = backoff_seconds
        self.deferred_may_wait = True
        self._swept_to = 0
        self.batch_timeout_seconds = batch_timeout_seconds
        self.assignments = Assignments()
        self.committing: asyncio.Task[bool] | None = None
        """The last batch's offset commit, in flight beside the next batch (``_commit_behind``)."""
        self._missing: set[str] = set()
        self._created_for: frozenset[str] = frozenset()
        self._rejoined = False
        self.round_started: float | None = None
        self.last_round = time.monotonic()
        self.orphan_grace_seconds = IDLE_IN_TRANSACTION_TIMEOUT_MS / 1000
        self.progressed: float | None = None
        """When a batch last committed or an event was last dead-lettered: progress, not activity."""
        self.waiting_since: float | None = None
        """When work was first seen waiting with no round running, since the last round."""
        # Topics rank as the service declared its routes: see ``consume``.
        self._rank = {topic: rank for rank, topic in enumerate(routes)}

    async def __call__(self, message: KafkaMessage) -> None:
        """Apply the batch, retrying it until it is (the inbox makes the repetition harmless), then
        commit its offsets. Never raise: the batch would be lost to the consume loop."""
        records: tuple[ConsumerRecord[bytes, bytes], ...] = message.raw_message
        epoch, cluster = self.assignments.epoch, self.assignments.cluster
        self.round_started = time.monotonic()
        try:
            failures = 0
            while True:
                try:
                    await self.consume(records)
                    break
                except Exception as error:
                    failures += 1
                    log.error(
                        "batch not applied, retrying",
                        service=self.service,
                        error_type=qualified_name(type(error)),
                    )
                    await self._wait_before_retry(error, failures)
            consumer = getattr(message, "consumer", None)
            if isinstance(consumer, AIOKafkaConsumer):
                await self._commit_behind(consumer, records, epoch, cluster)
        finally:
            self.round_started, self.last_round, self.waiting_since = None, time.monotonic(), None

    async def _commit_behind(
        self,
        consumer: AIOKafkaConsumer,
        records: Iterable[ConsumerRecord[bytes, bytes]],
        epoch: int,
        cluster: str | None,
    ) -> None:
        """Commit the batch's offsets while the next batch is fetched and applied, one commit in
        flight at most: the previous one is awaited first, so commits reach the broker in order.

        Only a committed batch gets here, so an offset never passes an event that is not applied; a
        commit lost on the way (a crash, a rebalance) leaves records to come again, and the inbox
        finds each one claimed (outcome ``duplicate``): no effect happens twice.
        """
        if self.committing is not None and not self.committing.done():
            # ``wait``, not ``await``: the task's outcome is logged by ``commit``; only this round's
            # own cancellation may end it.
            await asyncio.wait([self.committing])
        self.committing = asyncio.create_task(self.commit(consumer, records, epoch, cluster))

    async def drain(self, timeout_seconds: float = DRAIN_SECONDS) -> bool:
        """Await the commit still in flight, for ``timeout_seconds`` at most; whether none is left.

        Called on a clean stop, once no batch is being applied and before the broker's consumer
        closes: the last batch's commit would otherwise race the close, and the batch come again.
        """
        committing = self.committing
        if committing is None or committing.done():
            return True
        done, _pending = await asyncio.wait([committing], timeout=timeout_seconds)
        if not done:
            log.warning("offsets of the last batch not committed before stopping", service=self.service)
            return False
        return True

    async def commit(
        self,
        consumer: AIOKafkaConsumer,
        records: Iterable[ConsumerRecord[bytes, bytes]],
        epoch: int,
        cluster: str | None,
    ) -> bool:
        """Commit the offsets after ``records``, once their transaction has committed; only for the
        partitions still assigned under the assignment (``epoch``) and cluster they were read under.

        A commit that fails or takes too long is not retried: the batch is applied, and when its
        records come again (after a restart or a rebalance) the inbox absorbs them.
        """
        if self.assignments.epoch != epoch or self.assignments.cluster != cluster:
            log.info("offsets not committed: the assignment changed", service=self.service)
            return False
        assigned = consumer.assignment()
        offsets: dict[TopicPartition, int] = {}
        for record in records:
            partition = TopicPartition(record.topic, record.partition)
            if partition in assigned:
                offsets[partition] = max(offsets.get(partition, 0), record.offset + 1)
        if not offsets:
            return False
        try:
            async with asyncio.timeout(self.batch_timeout_seconds):
                await consumer.commit(offsets)
        except Exception as error:
            log.warning("offsets not committed", service=self.service, error_type=qualified_name(type(error)))
            return False
        return True

    def stalled_for(self, has_work: bool = False) -> float:
        """Seconds without progress: in a round, since it started or since its last commit or
        dead letter, whichever is later (a round retrying the same work for ever is stalled, one
        working through a long backlog is not); with none in hand, since ``work`` was first seen
        waiting (0 when there is none)."""
        now = time.monotonic()
        if self.round_started is not None:
            return now - max(self.round_started, self.progressed or 0.0)
        if not has_work:
            self.waiting_since = None
            return 0.0
        if self.waiting_since is None:
            self.waiting_since = now
        return now - self.waiting_since

    async def keep_positions(
        self,
        consumers: Callable[[], Iterable[AIOKafkaConsumer | None]],
        cluster_id: Callable[[], Awaitable[str | None]],
        every_seconds: float = 1.0,
        create_topics: Callable[[tuple[str, ...]], Awaitable[object]] | None = None,
    ) -> None:
        """For as long as the service runs: rewind a position past the end of its log, and every
        position when the cluster changed under the assignment (a broker that restarted empty);
        ``create_topics`` makes the subscribed topics such a broker lacks, with their declared settings."""
        while True:
            try:
                async with asyncio.timeout(max(every_seconds * 5, 5.0)):
                    await self._check_positions(consumers, cluster_id, create_topics)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log.warning(
                    "consumer positions not checked", service=self.service, error_type=type(error).__name__
                )
            await asyncio.sleep(every_seconds)

    async def _check_positions(
        self,
        consumers: Callable[[], Iterable[AIOKafkaConsumer | None]],
        cluster_id: Callable[[], Awaitable[str | None]],
        create_topics: Callable[[tuple[str, ...]], Awaitable[object]] | None = None,
    ) -> None:
        current = await cluster_id()
        changed = self.assignments.cluster is not None and current != self.assignments.cluster
        if changed:
            log.warning("the broker's cluster changed; rewinding every partition", service=self.service)
        self.assignments.cluster = current
        for consumer in consumers():
            if consumer is None:
                continue
            await self._refresh_if_topics_missing(consumer, create_topics)
            for partition in consumer.assignment():
                highwater = consumer.highwater(partition)
                past_the_end = highwater is not None and await consumer.position(partition) > highwater
                if changed or past_the_end:
                    await self._rewind(consumer, partition, None if changed else highwater)

    async def _refresh_if_topics_missing(
        self,
        consumer: AIOKafkaConsumer,
        create_topics: Callable[[tuple[str, ...]], Awaitable[object]] | None = None,
    ) -> None:
        """A group joined while its topics did not exist (a broker restarted empty) holds none of
        their partitions, and aiokafka reads metadata again only every five minutes: make the
        topics with their declared settings (metadata requests never make them, see
        ``services.common.kafka``), then ask for metadata now, so that the group sees them and
        joins again. With several members, one may rightly hold no partition of a topic: the topics
        are then looked up once for that set, and the read costs one metadata request a round."""
        assigned = {partition.topic for partition in consumer.assignment()}
        missing = consumer.subscription() - assigned
        if missing and missing != self._missing:
            log.info("consumer holds no partition of some topics; metadata read again", service=self.service,
                     count=len(missing))  # fmt: skip
        self._missing = missing
        if not missing:
            self._created_for, self._rejoined = frozenset(), False
            return
        if create_topics is not None and missing != self._created_for:
            try:
                await create_topics(tuple(sorted(missing)))
                self._created_for = frozenset(missing)
            except Exception as error:
                log.warning(
                    "missing topics not created", service=self.service, error_type=type(error).__name__
                )
        elif missing == self._created_for and not self._rejoined:
            # Tansu answers a rejoin at the same generation with the assignment it gave first: the
            # empty one made before the topics existed. Leaving and joining as a new member takes a
            # fresh one (aiokafka leaves only from a generation above 0, Tansu's first).
            self._rejoined = True
            log.info("consumer joins its group again as a new member", service=self.service)
            coordinator = consumer._coordinator
            with contextlib.suppress(KafkaError):
                await coordinator._send_req(LeaveGroupRequest(coordinator.group_id, coordinator.member_id))
            coordinator.reset_generation()
            coordinator.request_rejoin()
        consumer._client.force_metadata_update()

    async def _rewind(
        self, consumer: AIOKafkaConsumer, partition: TopicPartition, highwater: int | None
    ) -> None:
        """Back to the group's committed offset when the log holds it, else to the log's beginning."""
        self.assignments.moved()
        committed = await consumer.committed(partition) if highwater is not None else None
        if committed is not None and highwater is not None and committed <= highwater:
            consumer.seek(partition, committed)
        else:
            await consumer.seek_to_beginning(partition)
        metrics.consumer_rewinds.add(1, {"service": self.service, "topic": partition.topic})
        log.warning(
            "consumer position rewound", service=self.service, topic=partition.topic,
            partition=partition.partition, reason="committed" if committed is not None else "beginning",
        )  # fmt: skip

    async def consume(self, records: Iterable[ConsumerRecord[bytes, bytes]]) -> None:
        """Apply one batch from the broker; return only when every record is applied or held durably.

        The batch applies topic by topic in the order the service declared its routes (a stable
        sort: each partition keeps its order, so a tip's events on one topic never overtake each
        other). Kafka orders nothing across topics, so neither did the fetch order this replaces;
        but a tip's ``tip.received`` fetched with its ``tip.triaged`` now applies first instead of
        deferring the triage, which rolled back and applied the whole batch again without it.
        """
        deliveries = [delivery for record in records if (delivery := await self._parse(record)) is not None]
        deliveries.sort(key=lambda delivery: self._rank[delivery.topic])
        await self.apply(deliveries)
        if self.deferred_may_wait and deliveries:
            await self.apply(
                (await self._held(DEFERRED, keys={delivery.key for delivery in deliveries})).deliveries
            )

    async def sweep(self, page: int = 500) -> int:
        """Retry deferred events and release waiting events whose tip is no longer parked, a page at a
        time in inbox order, so that events held for long never starve newer ones."""
        held = await self._held(DEFERRED, WAITING, after_seq=self._swept_to, limit=page)
        self._swept_to = held.last_seq if held.rows == page else 0
        if self._swept_to == 0:
            self.deferred_may_wait = any(delivery.held_as == DEFERRED for delivery in held.deliveries)
        await self.apply(held.deliveries)
        return len(held.deliveries)

    async def apply(self, deliveries: list[Delivery]) -> None:
        """Apply ``deliveries`` in order; a worklist, not recursion, however many fail or wait."""
        work: list[list[Delivery]] = [list(deliveries)]
        while work:
            set_aside, follow_up = await self._apply_pending(work.pop(0))
            work += follow_up
            for key in dict.fromkeys(delivery.key for delivery in set_aside):
                rest = await self._apply_alone([delivery for delivery in set_aside if delivery.key == key])
                if rest:
                    work.append(rest)

    async def _apply_pending(self, pending: list[Delivery]) -> tuple[list[Delivery], list[list[Delivery]]]:
        """Commit ``pending`` in one transaction, less the events that fail; return those (with their
        tips' later events) and the work that follows (events released, or to try one by one)."""
        set_aside: list[Delivery] = []
        failures = 0
        arrived = {id(delivery): at for at, delivery in enumerate(pending)}

        def one_by_one() -> list[list[Delivery]]:
            # The events set aside go back among the others in the order they came: applied first,
            # as set-aside events are, one would overtake its tip's earlier events still pending.
            return [[d] for d in sorted([*pending, *set_aside], key=lambda d: arrived[id(d)])]

        while pending:
            try:
                applied = await self._apply_batch(pending)
            except HandlerFailed as failure:
                failed = failure.delivery
                if isinstance(failure.error, Deferred):
                    failed.hold = DEFERRED
                elif isinstance(failure.error, Rejected):
                    await self._reject(failed, failure.error)
                else:
                    failed.failures, failed.error = failed.failures + 1, failure.error
                    following = [d for d in pending[pending.index(failed) :] if d.key == failed.key]
                    set_aside += following
                    pending = [d for d in pending if all(d is not moved for moved in following)]
                continue
            except BatchTimedOut as error:
                # One event may be what never ends: each alone, in order, so that it cannot hold the
                # others back for ever and a tip's events still never overtake each other.
                if len(pending) > 1:
                    return [], one_by_one()
                if await self._its_own_fault(pending[0]):
                    pending[0].failures, pending[0].error = pending[0].failures + 1, error
                    return set_aside + pending, []
                failures += 1
                await self._wait_before_retry(error, failures)
                continue
            except TRANSIENT_ERRORS as error:
                failures += 1
                await self._wait_before_retry(error, failures)
                continue
            except Exception as error:
                # Not a handler's failure (writing the batch's rows failed): find the event at fault
                # by applying them one at a time, in order, so that a tip's events still never overtake.
                if len(pending) > 1:
                    return [], one_by_one()
                pending[0].failures, pending[0].error = pending[0].failures + 1, error
                return set_aside + pending, []
            self._settle(applied)
            if applied.released:
                released = await self._held(WAITING, keys=applied.released)
                return set_aside, [released.deliveries] if released.deliveries else []
            break
        return set_aside, []

    async def _apply_alone(self, group: list[Delivery]) -> list[Delivery]:
        """Retry a failed event on its own; dead-letter and poison it when its attempts run out.

        Returns the tip's later events to apply as usual when it succeeds; none when it is poisoned
        (they wait behind it).
        """
        first, rest = group[0], group[1:]
        while first.failures < self.max_attempts:
            await self._wait_before_retry(first.error or Exception(), first.failures)
            try:
                self._settle(await self._apply_batch([first]))
            except HandlerFailed as failure:
                if isinstance(failure.error, Deferred):
                    first.hold = DEFERRED
                elif isinstance(failure.error, Rejected):
                    await self._reject(first, failure.error)
                else:
                    first.failures, first.error = first.failures + 1, failure.error
                continue
            except BatchTimedOut as error:
                # It alone outlasted the deadline: its fault while the database answers, an outage's
                # (waited out) while it does not.
                if await self._its_own_fault(first):
                    first.failures, first.error = first.failures + 1, error
                else:
                    await self._wait_before_retry(error, first.failures or 1)
                continue
            except TRANSIENT_ERRORS as error:
                await self._wait_before_retry(error, first.failures or 1)
                continue
            except Exception as error:
                first.failures, first.error = first.failures + 1, error
                continue
            return rest
        await self._dead_letter(first, "processing_failed", first.error or Exception())
        first.hold = POISONED
        for delivery in rest:
            delivery.hold = WAITING
        failures = 0
        while True:
            try:
                self._settle(await self._apply_batch(group))
                return []
            except TRANSIENT_ERRORS as error:
                failures += 1
                await self._wait_before_retry(error, failures)
            except Exception as error:
                # The inbox cannot hold them: the dead-letter topic keeps every one, in order.
                log.error(
                    "poisoned event not held; its tip's events dead-lettered",
                    service=self.service, error_type=qualified_name(type(error)), count=len(rest),
                )  # fmt: skip
                for delivery in rest:
                    await self._dead_letter(delivery, "held_back", error)
                return []

    async def _reject(self, delivery: Delivery, error: BaseException) -> None:
        """Dead-letter a refused event at once; it parks nothing, and a replay of it does nothing."""
        await self._dead_letter(delivery, getattr(error, "reason", Rejected.reason), error)
        delivery.hold, delivery.error = SET_ASIDE, error

    async def _apply_batch(self, deliveries: list[Delivery]) -> Applied:
        """Apply ``deliveries`` in one transaction, within ``batch_timeout_seconds``.

        Past the deadline the connection is closed: a cancelled await would still wait for its
        rollback on a connection that may never answer, while a closed one fails every await at
        once and the server rolls the transaction back (``idle_in_transaction_session_timeout``
        ends it even when the server never sees the close).
        """
        pool = self.transactions.pool
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.batch_timeout_seconds
        try:
            async with asyncio.timeout_at(deadline):
                connection = await pool.acquire()
        except TimeoutError:
            metrics.batches_timed_out.add(1, {"service": self.service})
            raise BatchTimedOut("no connection") from None
        abandon = loop.call_at(deadline, _abandon, connection)
        try:
            async with asyncio.timeout_at(deadline):
                return await self._apply_in(connection, deliveries)
        except Exception:
            # Past the deadline, whatever broke (the closed connection, most often) is the timeout.
            if loop.time() < deadline:
                raise
            metrics.batches_timed_out.add(1, {"service": self.service})
            raise BatchTimedOut("transaction") from None
        finally:
            abandon.cancel()
            if loop.time() >= deadline:
                _abandon(connection)
            await pool.release(connection, timeout=self.batch_timeout_seconds)

    async def _apply_in(self, connection: asyncpg.Connection, deliveries: list[Delivery]) -> Applied:
        applied, messages = Applied(), list[OutboxMessage]()
        shared: dict[str, Any] = {}
        flushes: list[Callable[[], Awaitable[None]]] = []
        handled: list[Handled] = []
        waiting: list[Delivery] = []
        stage = "claim"
        try:
            async with connection.transaction():
                claimed, parked = await self._claim(connection, deliveries)
                if parked is None:
                    parked = await self._parked(connection, {d.key for d in deliveries if d in claimed})
                handling, waiting = self._to_handle(deliveries, claimed, parked)
                tips = tuple(dict.fromkeys(d.tip_id for d in handling if d.tip_id and d.route.reads_tip))
                changed: list[Delivery] = []
                stage = "handle"
                for delivery in deliveries:
                    if delivery not in claimed:
                        applied.outcomes.append((delivery, "duplicate"))
                        continue
                    if delivery.hold is not None:
                        changed.append(delivery)
                        applied.outcomes.append((delivery, delivery.hold))
                        applied.deferred |= delivery.hold == DEFERRED
                        continue
                    uow = self.transactions.unit_of_work(connection)
                    uow.shared, uow.batch_tips = shared, tips
                    handled.append(await self._handle(delivery, uow))
                    messages += uow.outbox.messages
                    applied.committed += uow.committed
                    flushes += uow.flushes
                    applied.outcomes.append((delivery, "handled"))
                    if delivery.held or delivery.replay:
                        changed.append(delivery)
                    if delivery.replay:
                        applied.released.add(delivery.key)
                stage = "flush"
                for flush in flushes:
                    await flush()
                stage = "write"
                await write_outbox(connection, messages, self.transactions.signer)
                await self._record_holds(connection, changed)
                stage = "commit"
        except BaseException as error:
            self._rolled_back(handled, error, flush_refused=stage == "flush", batch_events=len(deliveries))
            # A wait is this attempt's decision: what it waited behind may be applied by the next one.
            for delivery in waiting:
                delivery.hold = None
            raise
        finally:
            for event in handled:
                event.span.end(end_time=event.ended_at)
        return applied

    def _to_handle(
        self, deliveries: list[Delivery], claimed: set[Delivery], parked: dict[str, set[str]]
    ) -> tuple[list[Delivery], list[Delivery]]:
        """The claimed events to apply now, in order, and those marked here to wait behind their
        tip's parked events. Decided before any is applied (a failure rolls them all back, so none
        changes what follows), so that the batch's tips are only those of events it applies; a
        failed attempt forgets its waits (`_apply_in`)."""
        handling: list[Delivery] = []
        waiting: list[Delivery] = []
        for delivery in deliveries:
            if delivery not in claimed:
                continue
            if delivery.hold is None and self._must_wait(delivery, parked.get(delivery.key, set())):
                delivery.hold = WAITING
                waiting.append(delivery)
            if delivery.hold is not None:
                if delivery.hold in (WAITING, POISONED):
                    parked.setdefault(delivery.key, set()).add(delivery.hold)
                continue
            handling.append(delivery)
            if delivery.replay:
                # Its tip's later events wait until it is committed; they are released then.
                parked.setdefault(delivery.key, set()).add(WAITING)
        return handling, waiting

    @staticmethod
    def _rolled_back(
        handled: list[Handled], error: BaseException, *, flush_refused: bool, batch_events: int
    ) -> None:
        """Say on the span of every event this transaction applied that nothing of it was kept: its
        handler returned, but the transaction failed after (at the flush, the outbox, the holds, a
        neighbour's handler, the commit), and the caller applies it again or gives it up. What it
        decides is on later spans and in the dead-letter topic; this records only what happened."""
        cause = error.error if isinstance(error, HandlerFailed) else error
        error_type = qualified_name(type(cause))
        for event in handled:
            event.span.set_attributes({"lantern.outcome": "retried", "error.type": error_type})
            if flush_refused:
                event.span.add_event(
                    "lantern.flush_refused",
                    {
                        "error.type": error_type, "lantern.batch_events": batch_events,
                        "lantern.attempt": event.delivery.failures + 1,
                    },
                    timestamp=event.ended_at,
                )  # fmt: skip

    @staticmethod
    def _must_wait(delivery: Delivery, statuses: set[str]) -> bool:
        """A new event waits behind its tip's poisoned or waiting events; a released waiting event
        only behind a poisoned one; a deferred or replayed event never."""
        if delivery.replay or delivery.held_as == DEFERRED:
            return False
        if delivery.held_as == WAITING:
            return POISONED in statuses
        return bool(statuses & {POISONED, WAITING})

    async def _handle(self, delivery: Delivery, uow: Any) -> Handled:
        """Apply one event under its span. A handled event's span stays open (its end time that of
        the handler) until the batch's rows are flushed, which may yet refuse the event's."""
        attributes = {
            "lantern.service": self.service, "messaging.destination.name": delivery.topic,
            "lantern.tip_id": delivery.key,
        }  # fmt: skip
        if delivery.record is not None:
            attributes["messaging.kafka.destination.partition"] = delivery.record.partition
            attributes["messaging.kafka.message.offset"] = delivery.record.offset
        # Exceptions are not recorded on spans: their messages (a database's DETAIL) may quote data.
        with _tracer.start_as_current_span(
            f"{self.service} handle {delivery.topic}",
            context=context_from(delivery.traceparent),
            attributes=attributes,
            record_exception=False,
            set_status_on_exception=False,
            end_on_exit=False,
        ) as span:
            try:
                await delivery.route.handle(delivery.event, uow)
            except TRANSIENT_ERRORS as error:
                span.set_attributes({"lantern.outcome": "retried", "error.type": qualified_name(type(error))})
                span.end()
                raise
            except Exception as error:
                outcome = "deferred" if isinstance(error, Deferred) else "failed"
                span.set_attributes({"lantern.outcome": outcome, "error.type": qualified_name(type(error))})
                if outcome == "failed":
                    span.set_status(StatusCode.ERROR)
                span.end()
                raise HandlerFailed(delivery, error) from error
            except BaseException:
                span.end()
                raise
            span.set_attribute("lantern.outcome", "handled")
            return Handled(delivery, span, time.time_ns())

    def _settle(self, applied: Applied) -> None:
        self.progressed = time.monotonic()
        for action in applied.committed:
            action()
        for delivery, outcome in applied.outcomes:
            metrics.events_handled.add(
                1, {"service": self.service, "topic": delivery.topic, "outcome": outcome}
            )
        if applied.deferred:
            self.deferred_may_wait = True

    async def _claim(
        self, connection: asyncpg.Connection, deliveries: list[Delivery]
    ) -> tuple[set[Delivery], dict[str, set[str]] | None]:
        """Claim each delivery's inbox row; a claimed one is this transaction's alone to apply.

        A new event is claimed by inserting its row (the first of its copies in the batch); one seen
        before only when it is a poisoned event replayed. A held event is claimed under its tip's
        lock, and only while it is still held as it was when read.

        When every event is new (the usual batch), the statement that claims them also reads what
        their tips have parked (``_parked``), and returns it; otherwise None: read it once claimed.
        """
        firsts: dict[uuid.UUID, Delivery] = {}
        for delivery in deliveries:
            if not delivery.held:
                firsts.setdefault(delivery.event_id, delivery)
        fresh = list(firsts.values())
        claimed: set[Delivery] = set()
        parked: dict[str, set[str]] | None = None
        if fresh:
            rows = await connection.fetch(
                CLAIM_NEW, self.service, [d.event_id for d in fresh], [d.key for d in fresh]
            )
            new = {row["event_id"] for row in rows if row["event_id"] is not None}
            parked = {}
            for row in rows:
                if row["tip_key"] is not None:
                    parked.setdefault(row["tip_key"], set()).add(row["status"])
            claimed |= {d for d in fresh if d.event_id in new}
            seen = [d for d in fresh if d.event_id not in new]
            if seen:
                parked = None
                replayed = await connection.fetch(
                    "SELECT event_id FROM inbox WHERE consumer = $1 AND event_id = ANY($2::uuid[])"
                    " AND status = 'poisoned' FOR UPDATE SKIP LOCKED",
                    self.service, [d.event_id for d in seen],
                )  # fmt: skip
                replays = {row["event_id"] for row in replayed}
                for delivery in seen:
                    delivery.replay = delivery.event_id in replays
                    if delivery.replay:
                        claimed.add(delivery)
        held = [d for d in deliveries if d.held]
        if held:
            await connection.execute(LOCK_HELD_TIPS, self.service, [d.key for d in held])
            rows = await connection.fetch(
                "SELECT event_id, status FROM inbox WHERE consumer = $1 AND event_id = ANY($2::uuid[]) FOR UPDATE",
                self.service, [d.event_id for d in held],
            )  # fmt: skip
            status = {row["event_id"]: row["status"] for row in rows}
            claimed |= {d for d in held if status.get(d.event_id) == d.held_as}
            parked = None
        return claimed, parked

    async def _parked(self, connection: asyncpg.Connection, keys: set[str]) -> dict[str, set[str]]:
        """For each of ``keys`` that has any, the statuses of its events that others may wait behind."""
        if not keys:
            return {}
        rows = await connection.fetch(
            "SELECT DISTINCT tip_key, status FROM inbox WHERE consumer = $1 AND tip_key = ANY($2::text[])"
            " AND status IN ('poisoned', 'waiting')",
            self.service, sorted(keys),
        )  # fmt: skip
        parked: dict[str, set[str]] = {}
        for row in rows:
            parked.setdefault(row["tip_key"], set()).add(row["status"])
        return parked

    async def _record_holds(self, connection: asyncpg.Connection, changed: list[Delivery]) -> None:
        if not changed:
            return
        await connection.execute(
            "UPDATE inbox AS i SET status = u.status, topic = u.topic,"
            " payload = CASE WHEN u.status IN ('done', 'set_aside') THEN NULL ELSE u.payload END,"
            " reason = u.reason,"
            " headers = CASE WHEN u.status IN ('done', 'set_aside') THEN NULL ELSE u.headers END,"
            " held_since = CASE WHEN u.status IN ('done', 'set_aside') THEN NULL"
            "   ELSE coalesce(i.held_since, now()) END,"
            " processed_at = now()"
            " FROM unnest($2::uuid[], $3::text[], $4::text[], $5::bytea[], $6::text[], $7::jsonb[])"
            "   AS u(event_id, status, topic, payload, reason, headers)"
            " WHERE i.consumer = $1 AND i.event_id = u.event_id",
            self.service,
            [d.event_id for d in changed],
            [d.hold or "done" for d in changed],
            [d.topic for d in changed],
            [d.payload for d in changed],
            [
                qualified_name(type(d.error)) if d.hold in (POISONED, SET_ASIDE) and d.error else d.hold
                for d in changed
            ],
            [d.headers_to_keep() if d.hold not in (None, SET_ASIDE) else None for d in changed],
        )

    async def _held(
        self, *statuses: str, keys: set[str] | None = None, after_seq: int = 0, limit: int = 500
    ) -> HeldPage:
        """Held events to try again, in inbox order; never those of a tip with a poisoned event.

        A held event that can no longer be read (no route, or a payload the model refuses) is
        poisoned with the reason, so that it parks its tip and an operator sees it.
        """
        # The pool's ``timeout`` bounds the query, not the wait for a connection: bound both.
        async with asyncio.timeout(self.batch_timeout_seconds):
            rows = await self._read_held(statuses, keys, after_seq, limit)
        page = HeldPage(rows=len(rows), last_seq=rows[-1]["seq"] if rows else 0)
        unreadable: list[tuple[uuid.UUID, str]] = []
        for row in rows:
            route = self.routes.get(row["topic"])
            try:
                if route is None:
                    raise LookupError(row["topic"])
                event = route.model.model_validate_json(row["payload"])
            except (LookupError, ValidationError) as error:
                unreadable.append((row["event_id"], f"unreadable:{qualified_name(type(error))}"))
                continue
            page.deliveries.append(
                Delivery(
                    row["topic"], row["tip_key"], event, row["payload"], route, row["event_id"],
                    kept_headers=row["headers"] or {}, held_as=row["status"],
                )
            )  # fmt: skip
        if unreadable:
            log.error("held events unreadable, poisoned", service=self.service, count=len(unreadable))
            async with asyncio.timeout(self.batch_timeout_seconds):
                await self.transactions.pool.execute(
                    "UPDATE inbox AS i SET status = 'poisoned', reason = u.reason"
                    " FROM unnest($2::uuid[], $3::text[]) AS u(event_id, reason)"
                    " WHERE i.consumer = $1 AND i.event_id = u.event_id",
                    self.service, [event_id for event_id, _ in unreadable], [reason for _, reason in unreadable],
                )  # fmt: skip
        return page

    async def _read_held(
        self, statuses: tuple[str, ...], keys: set[str] | None, after_seq: int, limit: int
    ) -> list[asyncpg.Record]:
        return await self.transactions.pool.fetch(  # type: ignore[no-any-return]
            "SELECT seq, event_id, topic, tip_key, payload, status, headers FROM inbox AS i"
            " WHERE consumer = $1 AND status = ANY($2::text[]) AND ($3::text[] IS NULL OR tip_key = ANY($3))"
            " AND seq > $4"
            " AND NOT EXISTS (SELECT 1 FROM inbox AS p WHERE p.consumer = i.consumer"
            "   AND p.tip_key = i.tip_key AND p.status = 'poisoned')"
            " ORDER BY seq LIMIT $5",
            self.service, list(statuses), sorted(keys) if keys is not None else None, after_seq, limit,
        )  # fmt: skip

    async def _parse(self, record: ConsumerRecord[bytes, bytes]) -> Delivery | None:
        route = self.routes[record.topic]
        payload = record.value or b""
        try:
            verified = self.verifier.verify(record.topic, record.key, payload, record.headers or ())
        except Unsigned as error:
            await self._unauthenticated(record, error)
            return None
        try:
            event = route.model.model_validate_json(payload)
        except ValidationError as error:
            await self._dead_letter(record, "validation_failed", error, errors.describe(error, route.model))
            metrics.events_handled.add(
                1, {"service": self.service, "topic": record.topic, "outcome": "dead_lettered"}
            )
            return None
        claimed = getattr(event, "producer", None)
        if verified.signer is not None and claimed is not None and claimed != verified.signer:
            # Signed by a producer of the topic, but speaking for another service.
            await self._unauthenticated(record, Unsigned("producer", "not_the_signer"))
            return None
        event_id = route.event_id(event)
        key = _ordering_key(record.key) if record.key else str(event_id)
        if key is None:
            rule = errors.FieldError(
                "<record key>", "printable_text", "The record key must be printable text."
            )
            await self._dead_letter(record, "validation_failed", ValueError("record key"), [rule])
            return None
        return Delivery(record.topic, key, event, payload, route, event_id, record=record)

    async def _unauthenticated(self, record: ConsumerRecord[bytes, bytes], error: Unsigned) -> None:
        rule = errors.FieldError(error.field, error.rule, "No producer of the topic signed this message.")
        await self._dead_letter(record, "unauthenticated", error, [rule])
        metrics.unauthenticated_events.add(1, {"service": self.service, "topic": record.topic})
        metrics.events_handled.add(
            1, {"service": self.service, "topic": record.topic, "outcome": "dead_lettered"}
        )

    async def _dead_letter(
        self,
        delivery: Delivery | ConsumerRecord[bytes, bytes],
        reason: str,
        error: BaseException,
        field_errors: list[errors.FieldError] | None = None,
    ) -> None:
        failures = 0
        while True:
            try:
                async with asyncio.timeout(self.batch_timeout_seconds):
                    await self.dead_letters.send(delivery, reason, error, field_errors)
                self.progressed = time.monotonic()
                return
            except TRANSIENT_ERRORS as send_error:
                failures += 1
                await self._wait_before_retry(send_error, failures)

    async def _its_own_fault(self, delivery: Delivery) -> bool:
        """Whether an event alone past the batch deadline is what never ends: the database answers,
        and has for longer than an orphaned transaction (a batch abandoned on a connection the
        server never saw closed) can hold the event's inbox row."""
        if not await self._database_answers():
            delivery.timing_out_since = None
            return False
        now = time.monotonic()
        if delivery.timing_out_since is None:
            delivery.timing_out_since = now
        return now - delivery.timing_out_since >= self.orphan_grace_seconds

    async def _database_answers(self) -> bool:
        """Whether the database answers a trivial query within ``DATABASE_ANSWERS_SECONDS``."""
        try:
            async with asyncio.timeout(DATABASE_ANSWERS_SECONDS):
                return bool(await self.transactions.pool.fetchval("SELECT 1") == 1)
        except Exception:
            return False

    async def _wait_before_retry(self, error: BaseException, failures: int) -> None:
        delay = backoff_delay(failures, self.backoff_seconds)
        log.warning(
            "handling failed, retrying",
            service=self.service,
            attempt=failures,
            delay_seconds=delay,
            error_type=qualified_name(type(error)),
        )
        await asyncio.sleep(delay)


def _abandon(connection: asyncpg.Connection) -> None:
    """Close a connection at once, abandoning its transaction; one closed already (which the pool
    has taken back) is left as it is."""
    with contextlib.suppress(asyncpg.InterfaceError):
        connection.terminate()


async def _tolerant_parse(
    records: tuple[ConsumerRecord[bytes, bytes], ...], original: Callable[[Any], Awaitable[Any]]
) -> Any:
    """FastStream's batch parser, given only headers it can read as text. It must never fail: a
    batch it fails is skipped, and the next batch's commit would pass over it."""
    readable = tuple(_with_text_headers(record) for record in records)
    try:
        return await original(readable)
    except Exception:
        # Keep the signatures: without them every record of the batch would be refused.
        return await original(
            tuple(replace(record, headers=_signature_headers(record)) for record in readable)
        )


def _signature_headers(record: ConsumerRecord[bytes, bytes]) -> list[tuple[str, bytes]]:
    return [
        (name, value) for name, value in record.headers or () if name in (SIGNER_HEADER, SIGNATURE_HEADER)
    ]


def _with_text_headers(record: ConsumerRecord[bytes, bytes]) -> ConsumerRecord[bytes, bytes]:
    """The record, less any header without a value or whose value is not UTF-8 text."""

    def readable(value: object) -> bool:
        if not isinstance(value, bytes):
            return False
        try:
            value.decode()
        except UnicodeDecodeError:
            return False
        return True

    headers = list(record.headers or ())
    if all(readable(value) for _name, value in headers):
        return record
    return replace(record, headers=[(name, value) for name, value in headers if readable(value)])


def _undecoded(_message: Any) -> None:
    """Leave bodies to the consumer: FastStream would decode them first and, on a body that is not
    valid JSON, skip the handler and acknowledge the whole batch."""
    return None


def subscribe(
    broker: KafkaBroker,
    *,
    topics: tuple[str, ...],
    group_id: str,
    consumer: BatchConsumer,
    fetch_max_wait_ms: int,
    session_timeout_ms: int,
    max_records: int,
    batch_timeout_ms: int,
) -> None:
    """Attach ``consumer`` to ``topics`` as one group member, in batches, delivering at least once."""
    broker.subscriber(
        *topics,
        group_id=group_id,
        parser=_tolerant_parse,
        decoder=_undecoded,
        batch=True,
        max_records=max_records,
        batch_timeout_ms=batch_timeout_ms,
        # The consumer commits, once the batch's transaction has: FastStream's own commit would
        # take every partition's position, with no bound on how long it waits for the broker.
        ack_policy=AckPolicy.MANUAL,
        listener=consumer.assignments,
        auto_offset_reset="earliest",
        fetch_max_wait_ms=fetch_max_wait_ms,
        session_timeout_ms=session_timeout_ms,
        heartbeat_interval_ms=max(session_timeout_ms // 3, 100),
    )(consumer.__call__)
