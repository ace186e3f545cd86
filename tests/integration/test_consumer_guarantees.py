"""What a consumer does with messages it cannot handle: nothing is lost, nothing blocks."""

import asyncio
import contextlib
import json
import signal
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from subprocess import DEVNULL

import asyncpg
from aiokafka import AIOKafkaProducer
from faststream.kafka import KafkaBroker

from lantern.held import replay_dead_letter
from schemas import topics
from schemas.intake import TipReceivedV1
from services.common.consumer import subscribe
from services.common.kafka import create_producer
from services.common.settings import ServiceSettings
from services.triage.app import build_app
from tests.factories import CONTACT, IDENTIFYING_VALUES, NARRATIVE, tip_received
from tests.helpers import events_of_tips, eventually, produce, read_until, running
from tests.keys import signed_headers, stack_keys
from tests.probe import SERVICE, Probe, consumer_of, of_tip, probe_pool

DLT = topics.dead_letter_topic(topics.TIPS_RECEIVED)


def assert_headers_identify_nobody(headers: dict[str, bytes]) -> None:
    text = b" ".join(headers.values()).decode()
    for value in IDENTIFYING_VALUES:
        assert value not in text


async def test_a_malformed_message_lands_in_the_dlt_and_the_next_good_message_is_processed(
    settings: ServiceSettings,
) -> None:
    good = tip_received()
    malformed = f'{{"narrative": "{NARRATIVE}", "contact": "{CONTACT["phone"]}"'.encode()
    async with running(build_app(settings)):
        await produce(settings.kafka_bootstrap_servers, topics.TIPS_RECEIVED, malformed, good.partition_key)
        await produce(
            settings.kafka_bootstrap_servers,
            topics.TIPS_RECEIVED,
            good.model_dump_json().encode(),
            good.partition_key,
        )
        events = await events_of_tips(
            settings.kafka_bootstrap_servers, (topics.TIPS_TRIAGED,), {str(good.tip_id)}
        )
        [dead] = await read_until(settings.kafka_bootstrap_servers, (DLT,), lambda records: bool(records))
    assert events[str(good.tip_id)][topics.TIPS_TRIAGED]
    assert dead.value == malformed and dead.key == good.partition_key
    assert dead.headers["dlt-original-topic"] == topics.TIPS_RECEIVED.encode()
    assert dead.headers["dlt-original-consumer-group"] == b"triage"
    assert dead.headers["dlt-reason"] == b"validation_failed"
    assert dead.headers["dlt-exception-fqcn"] == b"pydantic_core._pydantic_core.ValidationError"
    assert {"dlt-original-partition", "dlt-original-offset", "dlt-failed-at"} <= set(dead.headers)
    assert_headers_identify_nobody(dead.headers)


async def test_a_message_breaking_the_contract_is_dead_lettered_naming_fields_not_values(
    settings: ServiceSettings,
) -> None:
    payload = tip_received().model_dump(mode="json")
    payload["facts"]["location"]["province"] = CONTACT["name"]
    payload[CONTACT["email"]] = NARRATIVE
    async with running(build_app(settings)):
        await produce(settings.kafka_bootstrap_servers, topics.TIPS_RECEIVED, json.dumps(payload).encode())
        [dead] = await read_until(settings.kafka_bootstrap_servers, (DLT,), lambda records: bool(records))
    fields = dead.headers["dlt-error-fields"].decode()
    assert "facts.location.province:enum" in fields
    assert "<unknown field>:extra_forbidden" in fields
    assert_headers_identify_nobody(dead.headers)


@asynccontextmanager
async def consuming(settings: ServiceSettings, tmp_path: Path, probe: Probe) -> AsyncIterator[asyncpg.Pool]:
    """The probe service consuming ``tips.received.v1`` from the real broker, in batches."""
    pool = await probe_pool(settings.database_url, tmp_path)
    producer = create_producer(settings.kafka_bootstrap_servers, "test", enable_idempotence=False)
    await producer.start()
    broker = KafkaBroker(settings.kafka_bootstrap_servers)
    consumer = consumer_of(pool, probe, producer)
    subscribe(
        broker,
        topics=(topics.TIPS_RECEIVED,),
        group_id=SERVICE,
        consumer=consumer,
        fetch_max_wait_ms=5,
        session_timeout_ms=3000,
        max_records=100,
        batch_timeout_ms=50,
    )
    await broker.start()

    async def sweep_the_inbox() -> None:
        # As the runtime does: a waiting event whose tip is no longer parked is released only by a sweep.
        while True:
            await asyncio.sleep(0.2)
            with contextlib.suppress(Exception):
                await consumer.sweep()

    sweeping = asyncio.create_task(sweep_the_inbox())
    try:
        yield pool
    finally:
        sweeping.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sweeping
        await broker.stop()
        await producer.stop()
        await pool.close()


async def publish(settings: ServiceSettings, *events: TipReceivedV1) -> None:
    for event in events:
        await produce(
            settings.kafka_bootstrap_servers,
            topics.TIPS_RECEIVED,
            event.model_dump_json().encode(),
            event.partition_key,
        )


async def applied(pool: asyncpg.Pool) -> list[uuid.UUID]:
    return [row["event_id"] for row in await pool.fetch("SELECT event_id FROM effects ORDER BY seq")]


async def test_a_transient_failure_is_retried_until_the_event_is_handled(
    settings: ServiceSettings, tmp_path: Path
) -> None:
    probe, event = Probe(unreachable_for=5), tip_received()
    async with consuming(settings, tmp_path, probe) as pool:
        await publish(settings, event)
        assert await eventually(lambda: applied(pool), timeout=20) == [event.event_id]
    assert probe.calls == [event.event_id] * 6, "retried past max_attempts because the failure is transient"
    dead = await read_until(settings.kafka_bootstrap_servers, (DLT,), lambda records: False, timeout=0.5)
    assert dead == []


async def test_a_poison_message_is_dead_lettered_parks_its_tip_and_blocks_no_other_tip(
    settings: ServiceSettings, tmp_path: Path
) -> None:
    poison, other = tip_received(), tip_received()
    after = of_tip(poison)
    probe = Probe(poison={poison.event_id})
    async with consuming(settings, tmp_path, probe) as pool:
        await publish(settings, poison, other, after)
        [dead] = await read_until(settings.kafka_bootstrap_servers, (DLT,), lambda records: bool(records))
        assert await eventually(lambda: applied(pool)) == [other.event_id]
        assert (
            await eventually(
                lambda: pool.fetchval("SELECT status FROM inbox WHERE event_id = $1", after.event_id)
            )
            == "waiting"
        )
        probe.poison.clear()
        await replay_dead_letter(settings.kafka_bootstrap_servers, DLT, dead.partition, dead.offset)
        assert await eventually(lambda: _when(applied(pool), lambda ids: len(ids) == 3)) == [
            other.event_id,
            poison.event_id,
            after.event_id,
        ], "replayed, the poison applies, then what waited"
    assert dead.headers["dlt-reason"] == b"processing_failed"
    assert dead.headers["dlt-exception-fqcn"] == b"builtins.ValueError"
    assert dead.value == poison.model_dump_json().encode()
    assert_headers_identify_nobody(dead.headers)


async def test_a_deferred_event_that_later_fails_is_dead_lettered_signed_and_applies_when_replayed(
    settings: ServiceSettings, tmp_path: Path
) -> None:
    first = tip_received()
    dependent = of_tip(first)
    probe = Probe(needs={dependent.event_id: first.event_id})
    async with consuming(settings, tmp_path, probe) as pool:
        await publish(settings, dependent)
        assert (
            await eventually(
                lambda: pool.fetchval("SELECT status FROM inbox WHERE event_id = $1", dependent.event_id)
            )
            == "deferred"
        )
        probe.poison.add(dependent.event_id)
        await publish(settings, first)
        # The inbox sweep and the batch may both retry the held event: each failure is dead-lettered.
        dead = (await read_until(settings.kafka_bootstrap_servers, (DLT,), lambda records: bool(records)))[0]
        assert dead.value == dependent.model_dump_json().encode()
        assert dead.headers["dlt-reason"] == b"processing_failed"
        assert dead.headers["dlt-original-offset"] == b"-1", "it was retried from the inbox, not a record"
        verified = (
            stack_keys()
            .verifier()
            .verify(topics.TIPS_RECEIVED, dead.key, dead.value, list(dead.headers.items()))
        )
        assert verified.signer == "intake"
        probe.poison.clear()
        await replay_dead_letter(settings.kafka_bootstrap_servers, DLT, dead.partition, dead.offset)
        assert await eventually(lambda: _when(applied(pool), lambda ids: len(ids) == 2), timeout=30) == [
            first.event_id,
            dependent.event_id,
        ], "replayed, its signature still verifies (an unsigned event reaches no handler) and it applies"
        assert await pool.fetchval("SELECT count(*) FROM inbox WHERE headers IS NOT NULL") == 0
    assert_headers_identify_nobody(dead.headers)


async def _when(
    check: Awaitable[list[uuid.UUID]], done: Callable[[list[uuid.UUID]], bool]
) -> list[uuid.UUID]:
    result = await check
    return result if done(result) else []


async def test_a_sigkill_in_the_middle_of_a_batch_loses_nothing_and_duplicates_nothing(
    settings: ServiceSettings, tmp_path: Path
) -> None:
    events = [tip_received() for _ in range(60)]
    await publish(settings, *events)
    pool = await probe_pool(settings.database_url, tmp_path)
    command = [
        sys.executable,
        "-m",
        "tests.probe_service",
        settings.database_url,
        settings.kafka_bootstrap_servers,
        "--public-keys",
        str(stack_keys().public_keys_file),
    ]
    try:
        killed = await asyncio.create_subprocess_exec(
            *command, "--kill-at", "25", stdout=DEVNULL, stderr=DEVNULL
        )
        assert await asyncio.wait_for(killed.wait(), 60) == -signal.SIGKILL
        assert await applied(pool) == [], "the batch's transaction never committed"
        restarted = await asyncio.create_subprocess_exec(*command, stdout=DEVNULL, stderr=DEVNULL)
        try:
            done = await eventually(lambda: _when(applied(pool), lambda ids: len(ids) >= 60), timeout=60)
        finally:
            restarted.kill()
            await restarted.wait()
        assert sorted(done) == sorted(event.event_id for event in events)
        assert await pool.fetchval("SELECT count(*) FROM outbox") == 60
        assert await pool.fetchval("SELECT count(*) FROM inbox") == 60
    finally:
        await pool.close()


async def test_a_body_that_is_not_json_or_a_header_that_is_not_text_never_costs_its_neighbours(
    settings: ServiceSettings, tmp_path: Path
) -> None:
    before, after = tip_received(), tip_received()
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers, enable_idempotence=False)
    await producer.start()
    try:
        first, truncated, last = (
            before.model_dump_json().encode(),
            b'{"truncated',
            after.model_dump_json().encode(),
        )
        await producer.send_and_wait(
            topics.TIPS_RECEIVED, first, key=before.partition_key,
            headers=signed_headers(topics.TIPS_RECEIVED, before.partition_key, first),
        )  # fmt: skip
        await producer.send_and_wait(
            topics.TIPS_RECEIVED,
            truncated,
            key=before.partition_key,
            headers=[
                ("content-type", b"application/json"),
                *signed_headers(topics.TIPS_RECEIVED, before.partition_key, truncated),
            ],
        )
        await producer.send_and_wait(
            topics.TIPS_RECEIVED, last, key=after.partition_key,
            headers=[
                ("content-type", b"application/json"), ("garbled", b"\xff\xfe"), ("empty", None),
                *signed_headers(topics.TIPS_RECEIVED, after.partition_key, last),
            ],
        )  # fmt: skip
    finally:
        await producer.stop()
    async with consuming(settings, tmp_path, Probe()) as pool:
        done = await eventually(lambda: _when(applied(pool), lambda ids: len(ids) == 2))
        assert sorted(done) == sorted([before.event_id, after.event_id]), "both tips' events apply"
        [dead] = await read_until(settings.kafka_bootstrap_servers, (DLT,), lambda records: bool(records))
    assert dead.value == b'{"truncated'
    assert dead.headers["dlt-reason"] == b"validation_failed"
