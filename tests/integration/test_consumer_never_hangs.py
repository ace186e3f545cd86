"""A consumer never waits for ever: a batch that hangs is abandoned and tried again, a database that
drops or stops answering mid-batch is ridden out, a round that does not end shows on /health, and a
broker that restarted empty is read again from its start. Real PostgreSQL, real broker."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from faststream.kafka import KafkaBroker

from lantern.infra import TansuBroker, free_port
from schemas import topics
from schemas.intake import TipReceivedV1
from schemas.topics import dead_letter_topic, settings_of
from services.common.consumer import BatchConsumer, subscribe
from services.common.db import create_pool
from services.common.kafka import ClusterIdentity, create_producer, ensure_topics
from services.common.messaging import PostgresUnitOfWork
from services.common.settings import ServiceSettings
from services.triage.app import build_app as build_triage
from tests.factories import tip_received
from tests.faults.proxy import Faults, ProxyThread
from tests.helpers import eventually, fetch, operations_client, produce, running, server_address, through
from tests.probe import SERVICE, Probe, RecordingProducer, consumer_of, probe_pool, records


class HangsOnce(Probe):
    """Applies its effect, then hangs for good inside the transaction, the first time only."""

    def __init__(self) -> None:
        super().__init__()
        self.hanging = asyncio.Event()

    async def __call__(self, event: TipReceivedV1, uow: PostgresUnitOfWork) -> None:
        await super().__call__(event, uow)
        if len(self.calls) == 1:
            self.hanging.set()
            await asyncio.Event().wait()


class Signals(Probe):
    """Says when its first event is in hand, and lets the test act before the batch goes on."""

    def __init__(self) -> None:
        super().__init__()
        self.in_hand, self.go_on = asyncio.Event(), asyncio.Event()

    async def __call__(self, event: TipReceivedV1, uow: PostgresUnitOfWork) -> None:
        if not self.calls:
            self.in_hand.set()
            await self.go_on.wait()
        await super().__call__(event, uow)


async def counts(pool: asyncpg.Pool) -> tuple[int, int, int]:
    return (
        await pool.fetchval("SELECT count(DISTINCT event_id) FROM effects"),
        await pool.fetchval("SELECT count(*) FROM outbox"),
        await pool.fetchval("SELECT count(*) FROM inbox WHERE status = 'done'"),
    )


@pytest.fixture
async def proxied_pool(database_url: str, tmp_path: Path) -> AsyncIterator[tuple[asyncpg.Pool, ProxyThread]]:
    """The probe's schema, and a pool on it through a proxy the test can cut or turn into a black hole."""
    await (await probe_pool(database_url, tmp_path)).close()
    proxy = ProxyThread(free_port(), *server_address(database_url)).start()
    pool = await create_pool(through(database_url, proxy.listen_port), SERVICE)
    try:
        yield pool, proxy
    finally:
        proxy.heal()
        pool.terminate()
        proxy.stop()


async def test_a_batch_that_hangs_past_its_timeout_is_abandoned_retried_and_applied_once(
    database_url: str, tmp_path: Path
) -> None:
    pool = await probe_pool(database_url, tmp_path)
    try:
        probe = HangsOnce()
        consumer = consumer_of(pool, probe, RecordingProducer())
        consumer.batch_timeout_seconds = 1.0
        events = [tip_received() for _ in range(3)]
        started = time.monotonic()
        await asyncio.wait_for(consumer.consume(records(*events)), 30)
        assert time.monotonic() - started < 15
        assert await counts(pool) == (3, 3, 3), "the abandoned transaction's effect was rolled back"
        assert probe.calls[:2] == [events[0].event_id] * 2, "the whole batch was tried again"
        orphaned = await pool.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'lantern-probe'"
            " AND state LIKE 'idle in transaction%'"
        )
        assert orphaned == 0
    finally:
        await pool.close()


async def test_a_database_that_stops_answering_mid_batch_is_ridden_out_and_each_event_applies_once(
    proxied_pool: tuple[asyncpg.Pool, ProxyThread],
) -> None:
    pool, proxy = proxied_pool
    probe = Signals()
    consumer = consumer_of(pool, probe, RecordingProducer())
    consumer.batch_timeout_seconds = 1.0
    events = [tip_received() for _ in range(5)]
    consuming = asyncio.create_task(consumer.consume(records(*events)))
    await asyncio.wait_for(probe.in_hand.wait(), 10)
    # Every byte now waits an hour in the proxy: the connection stays open and never answers.
    proxy.set_faults(Faults(delay_seconds=3600))
    probe.go_on.set()
    await asyncio.sleep(2.5)
    assert not consuming.done(), "nothing can commit while the database does not answer"
    proxy.heal()
    # The server never learns that the client gave up: the abandoned transaction holds its inbox
    # rows until idle_in_transaction_session_timeout (a minute) ends it; then the batch applies.
    await asyncio.wait_for(consuming, 150)
    assert await counts(pool) == (5, 5, 5)


async def test_a_database_cut_mid_batch_is_ridden_out_and_each_event_applies_once(
    proxied_pool: tuple[asyncpg.Pool, ProxyThread],
) -> None:
    pool, proxy = proxied_pool
    probe = Signals()
    consumer = consumer_of(pool, probe, RecordingProducer())
    events = [tip_received() for _ in range(5)]
    consuming = asyncio.create_task(consumer.consume(records(*events)))
    await asyncio.wait_for(probe.in_hand.wait(), 10)
    proxy.cut()
    probe.go_on.set()
    await asyncio.sleep(2)
    assert not consuming.done()
    proxy.heal()
    await asyncio.wait_for(consuming, 60)
    assert await counts(pool) == (5, 5, 5)


@dataclass
class Showing(Probe):
    """The probe, noting the idle-in-transaction limit its batch's transaction runs under."""

    seen: list[str] = field(default_factory=list)
    bounds: list[asyncpg.Record] = field(default_factory=list)

    async def __call__(self, event: TipReceivedV1, uow: PostgresUnitOfWork) -> None:
        self.seen.append(await uow.connection.fetchval("SHOW idle_in_transaction_session_timeout"))
        self.bounds.append(
            await uow.connection.fetchrow(
                "SELECT current_setting('statement_timeout') AS statement,"
                " current_setting('client_connection_check_interval') AS client_check"
            )
        )
        await super().__call__(event, uow)


async def test_a_batch_transaction_left_idle_ends_after_a_minute_and_no_other_transaction_does(
    database_url: str, tmp_path: Path
) -> None:
    pool = await probe_pool(database_url, tmp_path)
    try:
        showing = Showing()
        await consumer_of(pool, showing, RecordingProducer()).consume(records(tip_received()))
        assert showing.seen == ["1min"]
        # An abandoned batch blocked on a lock is busy, not idle: its statement ends within the same
        # minute, and the server notices its client has gone while it runs, so its locks go with it.
        assert [(row["statement"], row["client_check"]) for row in showing.bounds] == [("1min", "5s")]
        # The relay's claim transaction waits on the broker: a slow one must not end its session.
        assert await pool.fetchval("SHOW idle_in_transaction_session_timeout") == "0"
        async with pool.acquire() as connection, connection.transaction():
            assert await connection.fetchval("SHOW idle_in_transaction_session_timeout") == "0"
            assert await connection.fetchval("SHOW statement_timeout") == "0"
    finally:
        await pool.close()


async def test_a_consumer_whose_round_does_not_end_says_stalled_on_health_until_it_ends(
    settings: ServiceSettings,
) -> None:
    settings = settings.model_copy(
        update={"consumer_stalled_seconds": 1.0, "consumer_batch_timeout_seconds": 120.0}
    )
    tip = tip_received()
    # An orphaned transaction holding the event's inbox row: the consumer's claim waits behind it.
    blocker = await asyncpg.connect(settings.database_url)
    try:
        transaction = blocker.transaction()
        await transaction.start()
        await blocker.execute(
            "INSERT INTO triage.inbox (consumer, event_id, tip_key) VALUES ('triage', $1, $2)",
            tip.event_id, str(tip.tip_id),
        )  # fmt: skip
        async with running(build_triage(settings)) as (triage,):

            async def health() -> tuple[int, str]:
                async with operations_client(triage) as client:
                    answer = await client.get("/health")
                return answer.status_code, answer.json()["checks"]["consuming"]

            assert await health() == (200, "ok")
            await produce(
                settings.kafka_bootstrap_servers, topics.TIPS_RECEIVED, tip.model_dump_json().encode(),
                tip.partition_key,
            )  # fmt: skip

            async def stalled() -> bool:
                return await health() == (503, "stalled")

            assert await eventually(stalled, timeout=60)
            await transaction.rollback()

            async def triaged() -> bool:
                rows = await fetch(
                    settings, "SELECT 1 FROM triage.triage_decisions WHERE tip_id = $1", tip.tip_id
                )
                return bool(rows)

            assert await eventually(triaged, timeout=60)
            assert (await health())[1] == "ok"
    finally:
        await blocker.close()


@asynccontextmanager
async def probe_consuming(bootstrap: str, consumer: BatchConsumer) -> AsyncIterator[KafkaBroker]:
    """The probe consuming ``tips.received.v1`` as a service does, its positions kept."""
    broker = KafkaBroker(bootstrap, allow_auto_create_topics=False)
    subscribe(
        broker, topics=(topics.TIPS_RECEIVED,), group_id=SERVICE, consumer=consumer, fetch_max_wait_ms=5,
        session_timeout_ms=3000, max_records=100, batch_timeout_ms=50,
    )  # fmt: skip
    identity = ClusterIdentity(bootstrap)
    await broker.start()
    keeping = asyncio.create_task(
        consumer.keep_positions(
            lambda: [getattr(subscriber, "consumer", None) for subscriber in broker.subscribers],
            identity,
            every_seconds=0.2,
            create_topics=partial(ensure_topics, bootstrap),
        )
    )
    try:
        yield broker
    finally:
        keeping.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await keeping
        await broker.stop()
        await identity.close()


async def publish(bootstrap: str, *events: TipReceivedV1) -> None:
    for event in events:
        await produce(bootstrap, topics.TIPS_RECEIVED, event.model_dump_json().encode(), event.partition_key)


async def partitions_on(bootstrap: str, topic: str) -> int:
    """How many partitions ``topic`` has on the broker; 0 while it does not exist."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        if topic not in await admin.list_topics():
            return 0
        (described,) = await admin.describe_topics([topic])
        return len(described["partitions"])
    finally:
        await admin.close()


async def committed(bootstrap: str) -> dict[int, int]:
    """The probe group's committed offset of every partition of ``tips.received.v1`` on the broker."""
    reader = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=SERVICE, enable_auto_commit=False)
    await reader.start()
    try:
        partitions = range(await partitions_on(bootstrap, topics.TIPS_RECEIVED))
        offsets = {p: await reader.committed(TopicPartition(topics.TIPS_RECEIVED, p)) for p in partitions}
        return {p: offset for p, offset in offsets.items() if offset is not None}
    finally:
        await reader.stop()


async def test_offsets_are_committed_after_the_batch_and_after_a_broker_wipe_the_consumer_reads_from_the_start(
    database_url: str, tmp_path: Path
) -> None:
    broker = TansuBroker(port=free_port(), log_path=tmp_path / "tansu.log").start()
    pool = await probe_pool(database_url, tmp_path)
    producer = create_producer(broker.bootstrap_servers, "test", enable_idempotence=False)
    try:
        await ensure_topics(broker.bootstrap_servers, topics.ALL_TOPICS)
        await producer.start()
        consumer = consumer_of(pool, Probe(), producer)
        before = [tip_received() for _ in range(12)]
        async with probe_consuming(broker.bootstrap_servers, consumer):
            await publish(broker.bootstrap_servers, *before)
            assert await eventually(lambda: _all(counts(pool), 12), timeout=60)
            assert sum((await eventually(lambda: committed(broker.bootstrap_servers))).values()) == 12
            first_cluster = broker.cluster_id
            broker.stop()
            broker.start()  # the same port, empty, under a new cluster id
            assert broker.cluster_id != first_cluster
            # The consumer makes its topic again; no metadata request may make it with the broker's defaults.
            assert await eventually(
                lambda: partitions_on(broker.bootstrap_servers, topics.TIPS_RECEIVED), timeout=30
            )
            declared = settings_of(topics.TIPS_RECEIVED).partitions
            assert await partitions_on(broker.bootstrap_servers, topics.TIPS_RECEIVED) == declared
            after = [tip_received() for _ in range(3)]
            await publish(broker.bootstrap_servers, *after)
            assert await eventually(lambda: _all(counts(pool), 15), timeout=90), "the new log was read"
            offsets = await eventually(
                lambda: _when_total(committed(broker.bootstrap_servers), 3), timeout=30
            )
        assert sum(offsets.values()) == 3, "no offset of the old log was committed to the new one"
        assert await counts(pool) == (15, 15, 15)
    finally:
        await producer.stop()
        await pool.close()
        broker.stop()


async def _all(check: object, expected: int) -> bool:
    effects, outbox, inbox = await check  # type: ignore[misc]
    return bool(effects == outbox == inbox == expected)


async def _when_total(check: object, expected: int) -> dict[int, int]:
    offsets: dict[int, int] = await check  # type: ignore[misc]
    return offsets if sum(offsets.values()) == expected else {}


def test_a_consumer_between_rounds_is_stalled_from_when_work_was_first_seen_waiting() -> None:
    consumer = consumer_of(None, Probe(), RecordingProducer())  # type: ignore[arg-type]
    consumer.last_round = time.monotonic() - 300
    assert consumer.stalled_for(has_work=False) == 0.0
    assert consumer.stalled_for(has_work=True) < 5, "not from the last round: the work just arrived"
    assert consumer.waiting_since is not None
    consumer.waiting_since -= 300
    assert consumer.stalled_for(has_work=True) >= 300
    assert consumer.stalled_for(has_work=False) == 0.0 and consumer.waiting_since is None


def test_a_round_is_stalled_only_while_it_makes_no_progress() -> None:
    consumer = consumer_of(None, Probe(), RecordingProducer())  # type: ignore[arg-type]
    consumer.round_started = time.monotonic() - 300
    assert consumer.stalled_for(has_work=False) >= 300, "a round retrying the same work for ever"
    consumer.progressed = time.monotonic() - 5
    assert 5 <= consumer.stalled_for(has_work=True) < 300, "a round committing through a backlog"


class Committing:
    """Stands in for the broker's consumer: its assignment, and the offsets committed to it."""

    def __init__(self, *assigned: TopicPartition, hangs: bool = False) -> None:
        self.assigned, self.hangs = set(assigned), hangs
        self.commits: list[dict[TopicPartition, int]] = []

    def assignment(self) -> set[TopicPartition]:
        return self.assigned

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        if self.hangs:
            await asyncio.Event().wait()
        self.commits.append(offsets)


async def test_offsets_are_committed_only_for_partitions_held_under_the_same_assignment_and_cluster() -> None:
    consumer = consumer_of(None, Probe(), RecordingProducer())  # type: ignore[arg-type]
    batch = records(*(tip_received() for _ in range(3)))
    elsewhere = replace(batch[0], partition=1, offset=7)
    kafka = Committing(TopicPartition(topics.TIPS_RECEIVED, 0))
    epoch = consumer.assignments.epoch
    assert await consumer.commit(kafka, [*batch, elsewhere], epoch, None)  # type: ignore[arg-type]
    assert kafka.commits == [{TopicPartition(topics.TIPS_RECEIVED, 0): 3}], "the offset after the last record"
    await consumer.assignments.on_partitions_revoked(set())
    assert not await consumer.commit(kafka, batch, epoch, None)  # type: ignore[arg-type]
    consumer.assignments.cluster = "a-new-cluster"
    assert not await consumer.commit(kafka, batch, consumer.assignments.epoch, None)  # type: ignore[arg-type]
    assert len(kafka.commits) == 1


async def test_a_commit_the_broker_never_answers_is_given_up_at_the_batch_timeout() -> None:
    consumer = consumer_of(None, Probe(), RecordingProducer())  # type: ignore[arg-type]
    consumer.batch_timeout_seconds = 0.2
    kafka = Committing(TopicPartition(topics.TIPS_RECEIVED, 0), hangs=True)
    committing = consumer.commit(kafka, records(tip_received()), consumer.assignments.epoch, None)  # type: ignore[arg-type]
    assert await asyncio.wait_for(committing, 5) is False


@dataclass
class Hanging(Probe):
    """The probe, never ending the events named in ``hangs``."""

    hangs: set[uuid.UUID] = field(default_factory=set)

    async def __call__(self, event: TipReceivedV1, uow: PostgresUnitOfWork) -> None:
        if event.event_id in self.hangs:
            await asyncio.Event().wait()
        await super().__call__(event, uow)


async def test_an_event_whose_handler_never_ends_is_dead_lettered_and_its_batch_neighbours_apply(
    database_url: str, tmp_path: Path
) -> None:
    pool = await probe_pool(database_url, tmp_path)
    try:
        events = [tip_received() for _ in range(3)]
        probe = Hanging(hangs={events[1].event_id})
        producer = RecordingProducer()
        consumer = consumer_of(pool, probe, producer)
        consumer.batch_timeout_seconds = 0.3
        consumer.orphan_grace_seconds = 1.0  # a minute in a service: see the test above
        await asyncio.wait_for(consumer.consume(records(*events)), 30)
        assert await counts(pool) == (2, 2, 2), "the two others applied"
        assert [topic for topic, _value, _headers in producer.sent] == [
            dead_letter_topic(topics.TIPS_RECEIVED)
        ]
        status = await pool.fetchval("SELECT status FROM inbox WHERE event_id = $1", events[1].event_id)
        assert status == "poisoned"
    finally:
        await pool.close()
