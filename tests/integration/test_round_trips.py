"""What a batch costs in round trips, and that the work cut from it still holds: the idle limit on
every batch's transaction, and offsets committed in order, only after their batch, beside the next."""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from schemas import topics
from schemas.envelope import EventBase
from schemas.intake import ConsentRecordedV1, TipReceivedV1, TipSupplementedV1
from schemas.topics import dead_letter_topic
from schemas.triage import TipTriagedV1
from services.common.consumer import BatchConsumer, DeadLetters, Route
from services.common.db import apply_migrations, apply_shared_migrations, create_pool, service_migrations
from services.common.messaging import PostgresUnitOfWork, Transactions
from services.common.relay import OutboxRelay
from services.common.sealing import KeyEncryptionKey, Keystore
from services.common.settings import ServiceSettings
from services.disclosure import handlers as disclosure_handlers
from services.disclosure.adapters.audit import AuditChain
from services.disclosure.adapters.unit_of_work import DisclosureUnitOfWork
from services.disclosure.app import SPEC as DISCLOSURE
from services.disclosure.domain.audit import ChainKey
from services.disclosure.domain.routing import load_routing
from services.monitoring import handlers as monitoring_handlers
from services.monitoring.app import SPEC as MONITORING
from services.triage import handlers as triage_handlers
from services.triage.adapters.postgres import TriageUnitOfWork
from services.triage.app import SPEC
from services.triage.app import build_app as build_triage
from tests.factories import consent_recorded, tip_received, tip_supplemented, tip_triaged
from tests.helpers import TOPIC_OF_EVENT, eventually, fetch, produce, recorded_spans, running
from tests.integration.test_outbox_relay import stage
from tests.keys import stack_keys
from tests.probe import Probe, RecordingProducer, consumer_of, of_tip, probe_pool, records, signed


class Statements:
    """Every statement a pool of one connection sends, in order."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    async def watch(self, pool: asyncpg.Pool) -> None:
        async with pool.acquire() as connection:
            connection.add_query_logger(lambda logged: self.sent.append(" ".join(logged.query.split())))

    def of_one_transaction(self) -> list[str]:
        """The statements from the first BEGIN to the COMMIT after it."""
        begin = next(number for number, text in enumerate(self.sent) if text.startswith("BEGIN"))
        end = next(number for number, text in enumerate(self.sent) if number > begin and "COMMIT" in text)
        return self.sent[begin : end + 1]


async def one_connection_pool(database_url: str, tmp_path: Path) -> asyncpg.Pool:
    await (await probe_pool(database_url, tmp_path)).close()
    return await create_pool(database_url, "probe", max_size=1)


async def test_a_batch_of_new_events_costs_four_round_trips_besides_its_handlers(
    database_url: str, tmp_path: Path
) -> None:
    pool = await one_connection_pool(database_url, tmp_path)
    try:
        probe = Probe()
        consumer = consumer_of(pool, probe, RecordingProducer())
        # The first batch on a connection also prepares its statements and reads their types.
        await consumer.consume(records(tip_received()))
        statements = Statements()
        await statements.watch(pool)
        await consumer.consume(records(*(tip_received() for _ in range(5)), first_offset=1))
        assert len(probe.calls) == 6
        around = [text for text in statements.of_one_transaction() if "INSERT INTO effects" not in text]
        assert len(around) == 4, around
        begin, claim, outbox, commit = around
        assert begin.startswith("BEGIN") and commit.startswith("COMMIT")
        assert "INSERT INTO inbox" in claim and "idle_in_transaction_session_timeout" in claim
        assert "INSERT INTO outbox" in outbox
    finally:
        await pool.close()


@dataclass
class Showing(Probe):
    """The probe, noting the idle-in-transaction limit each event is applied under."""

    seen: list[str] = field(default_factory=list)

    async def __call__(self, event: TipReceivedV1, uow: PostgresUnitOfWork) -> None:
        self.seen.append(await uow.connection.fetchval("SHOW idle_in_transaction_session_timeout"))
        await super().__call__(event, uow)


async def test_a_deferred_event_applied_from_the_inbox_runs_under_the_idle_limit_too(
    database_url: str, tmp_path: Path
) -> None:
    pool = await probe_pool(database_url, tmp_path)
    try:
        first = tip_received()
        later = of_tip(first)
        showing = Showing(needs={later.event_id: first.event_id})
        consumer = consumer_of(pool, showing, RecordingProducer())
        await consumer.consume(records(later))
        await consumer.consume(records(first, first_offset=1))
        assert showing.calls[0] == later.event_id and showing.calls[-2:] == [first.event_id, later.event_id]
        assert await pool.fetchval("SELECT count(*) FROM effects") == 2, "deferred, then applied"
        assert showing.seen == ["1min"] * len(showing.calls)
        assert await pool.fetchval("SHOW idle_in_transaction_session_timeout") == "0"
    finally:
        await pool.close()


class GatedKafka(AIOKafkaConsumer):  # type: ignore[misc]
    """Stands in for the broker's consumer; each commit waits for ``gate``."""

    def __init__(self, *assigned: TopicPartition) -> None:
        self.assigned = set(assigned)
        self.gate = asyncio.Event()
        self.commits: list[dict[TopicPartition, int]] = []

    def assignment(self) -> set[TopicPartition]:
        return self.assigned

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        await self.gate.wait()
        self.commits.append(offsets)


async def test_a_batchs_offsets_are_committed_beside_the_next_batch_one_commit_at_a_time_in_order(
    database_url: str, tmp_path: Path
) -> None:
    pool = await probe_pool(database_url, tmp_path)
    try:
        probe = Probe()
        consumer = consumer_of(pool, probe, RecordingProducer())
        kafka = GatedKafka(TopicPartition(topics.TIPS_RECEIVED, 0))
        first = SimpleNamespace(
            raw_message=tuple(records(*(tip_received() for _ in range(3)))), consumer=kafka
        )
        second = SimpleNamespace(
            raw_message=tuple(records(*(tip_received() for _ in range(3)), first_offset=3)), consumer=kafka
        )
        # The first round ends with its commit still waiting on the broker.
        await asyncio.wait_for(consumer(first), 10)  # type: ignore[arg-type]
        assert kafka.commits == [] and len(probe.calls) == 3
        # The second applies its batch, then waits for the first commit before sending its own.
        following = asyncio.create_task(consumer(second))  # type: ignore[arg-type]
        assert await eventually(lambda: asyncio.sleep(0, len(probe.calls) == 6))
        await asyncio.sleep(0.2)
        assert not following.done() and kafka.commits == []
        kafka.gate.set()
        await asyncio.wait_for(following, 10)
        assert consumer.committing is not None
        assert await asyncio.wait_for(consumer.committing, 10)
        partition = TopicPartition(topics.TIPS_RECEIVED, 0)
        assert kafka.commits == [{partition: 3}, {partition: 6}]
    finally:
        await pool.close()


async def committed_by(group: str, bootstrap: str, topic: str) -> int:
    """How many of ``topic``'s records ``group`` has committed, over all partitions."""
    reader = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    await reader.start()
    try:
        partitions = reader.partitions_for_topic(topic) or set()
        offsets = [await reader.committed(TopicPartition(topic, partition)) for partition in partitions]
        return sum(offset for offset in offsets if offset is not None)
    finally:
        await reader.stop()


async def test_a_service_stopped_while_a_commit_is_in_flight_has_committed_that_batchs_offsets(
    settings: ServiceSettings,
) -> None:
    tips = [tip_received() for _ in range(3)]
    app = build_triage(settings)
    async with running(app):
        consumer = app.state.runtime.consumer
        to_broker = consumer.commit

        async def slow_commit(*args: object) -> bool:
            # Long enough for the stop to overtake it, well within the stop's wait for it.
            await asyncio.sleep(1.5)
            return bool(await to_broker(*args))

        consumer.commit = slow_commit
        for tip in tips:
            await produce(
                settings.kafka_bootstrap_servers, topics.TIPS_RECEIVED, tip.model_dump_json().encode(),
                tip.partition_key,
            )  # fmt: skip

        async def all_triaged_and_committing() -> bool:
            rows = await fetch(
                settings, "SELECT count(*) AS n FROM triage.triage_decisions WHERE tip_id = ANY($1::uuid[])",
                [tip.tip_id for tip in tips],
            )  # fmt: skip
            in_flight = consumer.committing is not None and not consumer.committing.done()
            return bool(rows[0]["n"] == len(tips) and in_flight)

        assert await eventually(all_triaged_and_committing, timeout=60)
    # A new member of the group starts from what was committed: every tip, so nothing comes again.
    assert await committed_by(SPEC.name, settings.kafka_bootstrap_servers, topics.TIPS_RECEIVED) == len(tips)


async def test_a_relay_round_costs_three_round_trips_and_marks_its_rows_sent(
    database_url: str, kafka: str
) -> None:
    await apply_migrations(database_url, SPEC.name, service_migrations(SPEC.migrations))
    pool = await create_pool(database_url, SPEC.name, max_size=1)
    producer = AIOKafkaProducer(bootstrap_servers=kafka)
    await producer.start()
    try:
        staged = await stage(pool, 3)
        statements = Statements()
        await statements.watch(pool)
        relay = OutboxRelay(
            pool=pool, database_url=database_url, schema=SPEC.name, producer=producer, batch_size=50,
            poll_seconds=1.0,
        )  # fmt: skip
        assert await relay._publish_round() == (3, 3, 0)
        begin, claim, mark_and_commit = statements.sent
        assert begin == "BEGIN" and "FOR UPDATE SKIP LOCKED" in claim
        assert mark_and_commit.startswith("UPDATE outbox SET sent_at") and mark_and_commit.endswith("COMMIT")
        sent = await pool.fetch("SELECT event_id FROM outbox WHERE sent_at IS NOT NULL ORDER BY id")
        assert [str(row["event_id"]) for row in sent] == staged
        assert not await pool.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND state LIKE 'idle in%'"
        )
        assert await relay._publish_round() == (0, 0, 0), "nothing left, nothing sent twice"
    finally:
        await producer.stop()
        await pool.close()


KEK = KeyEncryptionKey(bytes(32))


def triage_consumer(pool: asyncpg.Pool, producer: RecordingProducer | None = None) -> BatchConsumer:
    """Triage's consume path with its real use cases, on ``pool``."""
    return BatchConsumer(
        service=SPEC.name,
        routes={
            topics.TIPS_RECEIVED: Route(TipReceivedV1, triage_handlers.triage_tip),
            topics.TIPS_SUPPLEMENTED: Route(TipSupplementedV1, triage_handlers.retriage_on_supplement),
        },
        transactions=Transactions(
            pool, TriageUnitOfWork.opening_keys_with(Keystore(KEK, "triage")), stack_keys().signer(SPEC.name)
        ),
        dead_letters=DeadLetters(producer or RecordingProducer(), SPEC.name),  # type: ignore[arg-type]
        verifier=stack_keys().verifier(),
        max_attempts=2,
        backoff_seconds=0.001,
    )


def on_topics(*events: EventBase, first_offset: int = 0) -> list[ConsumerRecord[bytes, bytes]]:
    """The events as the broker hands them over, each on its own topic, signed by its producer."""
    return [
        signed(
            ConsumerRecord(
                TOPIC_OF_EVENT[type(event)], 0, first_offset + number, 0, 0, event.partition_key,
                event.model_dump_json().encode(), None, 0, 0, [],
            )
        )
        for number, event in enumerate(events)
    ]  # fmt: skip


async def sealed_tips(database_url: str, count: int, **facts: Any) -> list[TipReceivedV1]:
    """Tips as intake publishes them, each sealed under a data key triage can open."""
    connection = await asyncpg.connect(database_url)
    try:
        keystore = Keystore(KEK, "intake")
        return [tip_received(await keystore.create(connection, uuid.uuid4()), **facts) for _ in range(count)]
    finally:
        await connection.close()


async def triage_pool(database_url: str) -> asyncpg.Pool:
    await apply_shared_migrations(database_url)
    await apply_migrations(database_url, SPEC.name, service_migrations(SPEC.migrations))
    return await create_pool(database_url, SPEC.name, max_size=1)


def reading(table: str, statements: list[str]) -> list[str]:
    return [text for text in statements if text.startswith("SELECT") and f"FROM {table}" in text]


async def test_a_batch_of_ten_tips_costs_triage_fewer_than_two_statements_a_tip(database_url: str) -> None:
    pool = await triage_pool(database_url)
    try:
        consumer = triage_consumer(pool)
        # The first batch on a connection also prepares its statements and reads their types.
        await consumer.consume(on_topics(*await sealed_tips(database_url, 1)))
        tips = await sealed_tips(database_url, 10)
        statements = Statements()
        await statements.watch(pool)
        await consumer.consume(on_topics(*tips, first_offset=1))
        sent = statements.of_one_transaction()
        assert len(reading("tip_supplements", sent)) == 1, "the batch's supplements are read once"
        assert len(sent) < 2 * len(tips), sent
        assert await pool.fetchval("SELECT count(*) FROM triage_decisions") == 11
        assert await pool.fetchval("SELECT count(*) FROM response_plans WHERE status = 'open'") == 11
        steps = await pool.fetchval(
            "SELECT count(*) FROM plan_steps WHERE plan_id IN (SELECT plan_id FROM response_plans"
            " WHERE tip_id = ANY($1::uuid[]))", [tip.tip_id for tip in tips],
        )  # fmt: skip
        assert steps >= len(tips)
        assert await pool.fetchval("SELECT count(*) FROM outbox WHERE topic = 'tips.triaged.v1'") == 11
    finally:
        await pool.close()


async def what_triage_holds(pool: asyncpg.Pool, tip_id: uuid.UUID) -> dict[str, Any]:
    decision = await pool.fetchrow(
        "SELECT urgency, revision, reasons, auto_urgency FROM triage_decisions WHERE tip_id = $1", tip_id
    )
    plans = await pool.fetch(
        "SELECT urgency, status FROM response_plans WHERE tip_id = $1 ORDER BY started_at, status", tip_id
    )
    steps = await pool.fetch(
        "SELECT p.urgency, s.step, s.status FROM plan_steps s JOIN response_plans p USING (plan_id)"
        " WHERE p.tip_id = $1 ORDER BY p.started_at, s.position", tip_id,
    )  # fmt: skip
    published = await pool.fetch(
        "SELECT topic, payload FROM outbox WHERE key = $1 ORDER BY id", str(tip_id).encode()
    )
    return {
        "decision": dict(decision) if decision else None,
        "plans": [dict(plan) for plan in plans],
        "steps": [dict(step) for step in steps],
        "published": [
            (
                row["topic"],
                json.loads(row["payload"]).get("event_type"),
                json.loads(row["payload"]).get("urgency"),
            )
            for row in published
        ],
    }


async def test_a_tip_and_its_supplement_in_one_batch_end_as_they_do_in_two(database_url: str) -> None:
    pool = await triage_pool(database_url)
    try:
        consumer = triage_consumer(pool)
        together, apart = await sealed_tips(database_url, 2)
        raised = {"assessment": {"minor_involved": "yes", "imminent_danger": "yes"}}
        await consumer.consume(on_topics(together, tip_supplemented(together, **raised)))
        await consumer.consume(on_topics(apart, first_offset=2))
        await consumer.consume(on_topics(tip_supplemented(apart, **raised), first_offset=3))
        one, two = await what_triage_holds(pool, together.tip_id), await what_triage_holds(pool, apart.tip_id)
        assert one == two
        assert one["decision"]["revision"] == 2 and [plan["status"] for plan in one["plans"]] != ["open"]
    finally:
        await pool.close()


async def test_a_supplement_added_in_a_batch_is_read_by_its_tips_retriage_after_the_batchs_supplements_were(
    database_url: str,
) -> None:
    pool = await triage_pool(database_url)
    try:
        consumer = triage_consumer(pool)
        first, second, apart = await sealed_tips(database_url, 3)
        raised = {"assessment": {"minor_involved": "yes", "imminent_danger": "yes"}}
        # The first tip's triage reads both tips' supplements (none yet); the second tip's
        # supplement is added after that read, and its retriage must count it.
        await consumer.consume(on_topics(first, second, tip_supplemented(second, **raised)))
        await consumer.consume(on_topics(apart, first_offset=3))
        await consumer.consume(on_topics(tip_supplemented(apart, **raised), first_offset=4))
        together, alone = (
            await what_triage_holds(pool, second.tip_id),
            await what_triage_holds(pool, apart.tip_id),
        )
        assert together == alone
        assert together["decision"]["revision"] == 2 and together["decision"]["urgency"] == "urgent"
    finally:
        await pool.close()


async def test_a_row_refused_when_the_batch_is_written_isolates_its_own_event_and_its_tips_later_one(
    database_url: str,
) -> None:
    pool = await triage_pool(database_url)
    try:
        before, failing, after = await sealed_tips(database_url, 3)
        later = tip_supplemented(failing, assessment={"minor_involved": "yes"})
        await pool.execute(
            f"ALTER TABLE triage_decisions ADD CONSTRAINT never CHECK (tip_id <> '{failing.tip_id}') NOT VALID"
        )
        producer = RecordingProducer()
        await triage_consumer(pool, producer).consume(on_topics(before, failing, after, later))
        decided = await pool.fetch("SELECT tip_id FROM triage_decisions")
        assert sorted(row["tip_id"] for row in decided) == sorted([before.tip_id, after.tip_id])
        assert await pool.fetchval("SELECT count(*) FROM outbox WHERE topic = 'tips.triaged.v1'") == 2
        assert [(topic, json.loads(value)["event_id"]) for topic, value, _headers in producer.sent] == [
            (dead_letter_topic(topics.TIPS_RECEIVED), str(failing.event_id))
        ]
        statuses = dict(await pool.fetch("SELECT event_id, status FROM inbox"))
        assert statuses[failing.event_id] == "poisoned" and statuses[later.event_id] == "waiting"
        assert statuses[before.event_id] == statuses[after.event_id] == "done"
    finally:
        await pool.close()


def spans_of(exporter: InMemorySpanExporter, tip: TipReceivedV1, topic: str) -> list[ReadableSpan]:
    return [
        span
        for span in exporter.get_finished_spans()
        if span.attributes
        and span.attributes.get("lantern.tip_id") == str(tip.tip_id)
        and span.attributes.get("messaging.destination.name") == topic
    ]


def flush_refusals(span: ReadableSpan) -> list[dict[str, Any]]:
    return [dict(event.attributes or {}) for event in span.events if event.name == "lantern.flush_refused"]


def outcomes(spans: list[ReadableSpan]) -> list[Any]:
    return [(span.attributes or {}).get("lantern.outcome") for span in spans]


def within_itself(span: ReadableSpan) -> bool:
    """Its events drawn inside it, and it ends after it starts."""
    start, end = span.start_time, span.end_time
    return (
        start is not None and end is not None and end > start
        and all(start <= event.timestamp <= end for event in span.events)
    )  # fmt: skip


ATTRIBUTES = {
    "lantern.service", "messaging.destination.name", "lantern.tip_id", "lantern.outcome", "error.type",
    "messaging.kafka.destination.partition", "messaging.kafka.message.offset",
}  # fmt: skip


async def test_an_event_whose_rows_the_flush_refuses_says_so_on_each_of_its_attempts_spans(
    database_url: str,
) -> None:
    pool = await triage_pool(database_url)
    try:
        with recorded_spans() as exporter:
            before, failing = await sealed_tips(database_url, 2)
            await pool.execute(
                f"ALTER TABLE triage_decisions ADD CONSTRAINT never CHECK (tip_id <> '{failing.tip_id}') NOT VALID"
            )
            await triage_consumer(pool).consume(on_topics(before, failing))
        spans = spans_of(exporter, failing, topics.TIPS_RECEIVED)
        # In the batch, then alone until its attempts run out (then dead-lettered): none kept.
        assert outcomes(spans) == ["retried", "retried", "retried"]
        refused = {"error.type": "asyncpg.exceptions.CheckViolationError"}
        assert [flush_refusals(span) for span in spans] == [
            [{**refused, "lantern.batch_events": 2, "lantern.attempt": 1}],
            [{**refused, "lantern.batch_events": 1, "lantern.attempt": 1}],
            [{**refused, "lantern.batch_events": 1, "lantern.attempt": 2}],
        ]
        assert all((span.attributes or {}).get("error.type") == refused["error.type"] for span in spans)
        neighbour = spans_of(exporter, before, topics.TIPS_RECEIVED)
        assert outcomes(neighbour) == ["retried", "handled"]
        assert [len(flush_refusals(span)) for span in neighbour] == [1, 0]
        for span in spans + neighbour:
            assert within_itself(span)
            assert set(span.attributes or {}) <= ATTRIBUTES
    finally:
        await pool.close()


async def test_an_event_applied_in_a_transaction_that_fails_at_its_commit_says_it_was_not_kept(
    database_url: str,
) -> None:
    pool = await triage_pool(database_url)
    try:
        with recorded_spans() as exporter:
            before, failing = await sealed_tips(database_url, 2)
            # Checked at the commit, after every row was written: no flush refuses anything.
            await pool.execute(
                "CREATE FUNCTION refuse_at_commit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
                f" IF NEW.tip_id = '{failing.tip_id}' THEN RAISE check_violation; END IF; RETURN NEW; END $$"
            )
            await pool.execute(
                "CREATE CONSTRAINT TRIGGER never AFTER INSERT ON triage_decisions DEFERRABLE INITIALLY DEFERRED"
                " FOR EACH ROW EXECUTE FUNCTION refuse_at_commit()"
            )
            await triage_consumer(pool).consume(on_topics(before, failing))
        spans, neighbour = (
            spans_of(exporter, failing, topics.TIPS_RECEIVED),
            spans_of(exporter, before, topics.TIPS_RECEIVED),
        )
        assert outcomes(spans) == ["retried", "retried", "retried"]
        assert outcomes(neighbour) == ["retried", "handled"]
        assert all(
            (span.attributes or {}).get("error.type") == "asyncpg.exceptions.CheckViolationError"
            for span in spans + neighbour[:1]
        )
        assert all(flush_refusals(span) == [] and within_itself(span) for span in spans + neighbour)
        assert (
            await pool.fetchval("SELECT count(*) FROM triage_decisions WHERE tip_id = $1", before.tip_id) == 1
        )
    finally:
        await pool.close()


def disclosure_consumer(pool: asyncpg.Pool) -> BatchConsumer:
    """Disclosure's consume path with its real use cases, on ``pool``, its topics in its order."""
    keystore, routing = Keystore(KEK, "disclosure"), load_routing()
    carried = {"keystore": keystore, "routing": routing}
    return BatchConsumer(
        service=DISCLOSURE.name,
        routes={
            topics.TIPS_RECEIVED: Route(TipReceivedV1, disclosure_handlers.record_tip, reads_tip=False),
            topics.CONSENTS: Route(ConsentRecordedV1, partial(disclosure_handlers.record_consent, **carried)),
            topics.TIPS_SUPPLEMENTED: Route(TipSupplementedV1, disclosure_handlers.record_supplement),
            topics.TIPS_TRIAGED: Route(
                TipTriagedV1, partial(disclosure_handlers.decide_on_triage, **carried)
            ),
        },
        transactions=Transactions(
            pool,
            partial(DisclosureUnitOfWork, keystore=keystore, chain=AuditChain(ChainKey(bytes(32)))),
            stack_keys().signer(DISCLOSURE.name),
        ),
        dead_letters=DeadLetters(RecordingProducer(), DISCLOSURE.name),  # type: ignore[arg-type]
        verifier=stack_keys().verifier(),
        max_attempts=2,
        backoff_seconds=0.001,
    )


def as_intake_and_triage_publish(tips: list[TipReceivedV1]) -> list[EventBase]:
    """Each tip's events as disclosure receives them: received, its first consent, triaged."""
    return [
        event
        for tip in tips
        for event in (
            tip,
            consent_recorded(tip, 1, [], law_enforcement=True, service_referral=True),
            tip_triaged(tip, "non_urgent"),
        )
    ]


async def test_a_batch_of_ten_tips_costs_disclosure_fewer_than_four_statements_a_tip(
    database_url: str,
) -> None:
    await apply_shared_migrations(database_url)
    await apply_migrations(database_url, DISCLOSURE.name, service_migrations(DISCLOSURE.migrations))
    pool = await create_pool(database_url, DISCLOSURE.name, max_size=1)
    try:
        consumer = disclosure_consumer(pool)
        first = await sealed_tips(database_url, 1)
        await consumer.consume(on_topics(*as_intake_and_triage_publish(first)))
        tips = await sealed_tips(database_url, 10)
        statements = Statements()
        await statements.watch(pool)
        await consumer.consume(on_topics(*as_intake_and_triage_publish(tips), first_offset=3))
        sent = statements.of_one_transaction()
        assert len(reading("tip_sources", sent)) == 1, "the batch's sources are read once"
        assert len(reading("consent_records", sent)) == 1, "the batch's consents are read once"
        assert len([text for text in sent if "disclosure.case/" in text]) == 1, "its tips locked at once"
        assert len(sent) < 4 * len(tips), sent
        assert await pool.fetchval("SELECT count(*) FROM cases") == 11
        assert await pool.fetchval("SELECT count(*) FROM tip_sources") == 11
        assert await pool.fetchval("SELECT count(*) FROM consent_records") == 11
        assert await pool.fetchval("SELECT count(*) FROM outbox WHERE topic = 'disclosures.v1'") >= 11
    finally:
        await pool.close()


# What differs between two tips however they were handled: their ids, references and clocks.
OWN = ("tip_id", "event_id", "correlation_id", "causation_id", "occurred_at", "traceparent", "reference")
CLOCKS = ("_at", "review_due")


def comparable(record: dict[str, Any]) -> dict[str, Any]:
    return {
        name: value
        for name, value in record.items()
        if name not in OWN and not name.endswith(CLOCKS) and "reference" not in name
    }


async def what_disclosure_holds(pool: asyncpg.Pool, tip_id: uuid.UUID) -> dict[str, Any]:
    case = await pool.fetchrow("SELECT * FROM cases WHERE tip_id = $1", tip_id)
    audit = await pool.fetch("SELECT action, detail FROM audit_log WHERE tip_id = $1 ORDER BY seq", tip_id)
    published = await pool.fetch(
        "SELECT payload FROM outbox WHERE key = $1 AND topic = 'disclosures.v1' ORDER BY id",
        str(tip_id).encode(),
    )
    return {
        "case": comparable(dict(case)) if case else None,
        "sources": await pool.fetchval("SELECT count(*) FROM tip_sources WHERE tip_id = $1", tip_id),
        "consents": await pool.fetchval("SELECT count(*) FROM consent_records WHERE tip_id = $1", tip_id),
        "audit": [(row["action"], comparable(row["detail"])) for row in audit],
        "published": [comparable(json.loads(row["payload"])) for row in published],
    }


async def test_a_tips_events_in_one_batch_end_in_disclosure_as_they_do_one_batch_each(
    database_url: str,
) -> None:
    await apply_shared_migrations(database_url)
    await apply_migrations(database_url, DISCLOSURE.name, service_migrations(DISCLOSURE.migrations))
    pool = await create_pool(database_url, DISCLOSURE.name)
    try:
        consumer = disclosure_consumer(pool)
        together, apart = await sealed_tips(database_url, 2)

        def events_of(tip: TipReceivedV1) -> list[EventBase]:
            # In the order the batch applies them (by topic), so that one batch each is the same order.
            return [
                tip,
                consent_recorded(tip, 1, [], law_enforcement=True, share_identity=True),
                tip_supplemented(tip, assessment={"minor_involved": "yes"}),
                tip_triaged(tip, "non_urgent"),
                tip_triaged(tip, "non_urgent", revision=2, possible=("possible_minor",)),
            ]

        await consumer.consume(on_topics(*events_of(together)))
        for offset, event in enumerate(events_of(apart), start=5):
            await consumer.consume(on_topics(event, first_offset=offset))
        one, two = (
            await what_disclosure_holds(pool, together.tip_id),
            await what_disclosure_holds(pool, apart.tip_id),
        )
        assert one == two
        assert one["case"] is not None and one["sources"] == 2 and len(one["published"]) == 2
    finally:
        await pool.close()


async def test_a_consent_recorded_in_a_batch_is_read_by_its_case_after_the_batchs_consents_were(
    database_url: str,
) -> None:
    await apply_shared_migrations(database_url)
    await apply_migrations(database_url, DISCLOSURE.name, service_migrations(DISCLOSURE.migrations))
    pool = await create_pool(database_url, DISCLOSURE.name)
    try:
        consumer = disclosure_consumer(pool)
        first, second, apart = tips = await sealed_tips(database_url, 3)
        opened = [event for tip in tips for event in (tip, tip_triaged(tip, "non_urgent"))]
        await consumer.consume(on_topics(*opened))
        undecided = await what_disclosure_holds(pool, apart.tip_id)

        def consent(tip: TipReceivedV1) -> ConsentRecordedV1:
            return consent_recorded(tip, 1, [], law_enforcement=True, share_identity=True)

        # The first tip's consent reads both tips' consent histories (the second has none yet); the
        # second tip's consent is recorded after that read, and its case must be decided on it.
        await consumer.consume(on_topics(consent(first), consent(second), first_offset=6))
        await consumer.consume(on_topics(consent(apart), first_offset=8))
        together, alone = (
            await what_disclosure_holds(pool, second.tip_id),
            await what_disclosure_holds(pool, apart.tip_id),
        )
        assert together == alone
        assert together["consents"] == 1 and together["case"] != undecided["case"]
    finally:
        await pool.close()


def monitoring_consumer(pool: asyncpg.Pool) -> BatchConsumer:
    """Monitoring's consume path for tips and their triages, with its real use cases, on ``pool``."""
    return BatchConsumer(
        service=MONITORING.name,
        routes={
            topics.TIPS_RECEIVED: Route(TipReceivedV1, monitoring_handlers.tip_received),
            topics.TIPS_TRIAGED: Route(TipTriagedV1, monitoring_handlers.tip_triaged),
        },
        transactions=Transactions(pool, PostgresUnitOfWork, stack_keys().signer(MONITORING.name)),
        dead_letters=DeadLetters(RecordingProducer(), MONITORING.name),  # type: ignore[arg-type]
        verifier=stack_keys().verifier(),
        max_attempts=2,
        backoff_seconds=0.001,
    )


async def test_a_batch_of_ten_tips_and_their_triages_costs_monitoring_one_statement_for_each_kind(
    database_url: str,
) -> None:
    await apply_shared_migrations(database_url)
    await apply_migrations(database_url, MONITORING.name, service_migrations(MONITORING.migrations))
    pool = await create_pool(database_url, MONITORING.name, max_size=1)
    try:
        consumer = monitoring_consumer(pool)
        # The first batch on a connection also prepares its statements and reads their types.
        first = tip_received()
        await consumer.consume(on_topics(first, tip_triaged(first, "urgent")))
        tips = [tip_received() for _ in range(10)]
        statements = Statements()
        await statements.watch(pool)
        await consumer.consume(
            on_topics(*tips, *(tip_triaged(tip, "urgent", revision=2) for tip in tips), first_offset=2)
        )
        sent = statements.of_one_transaction()
        assert len([text for text in sent if text.startswith("INSERT INTO tips")]) == 1, sent
        assert len([text for text in sent if text.startswith("UPDATE tips SET urgency")]) == 1, sent
        assert len(sent) < 10, sent
        assert await pool.fetchval("SELECT count(*) FROM tips") == 11
        triaged = await pool.fetch("SELECT tip_id FROM tips WHERE urgency = 'urgent' AND triage_revision = 2")
        assert {row["tip_id"] for row in triaged} == {tip.tip_id for tip in tips}
        assert await pool.fetchval("SELECT count(*) FROM journey") == 22
    finally:
        await pool.close()
