"""What a consumer does with messages it cannot handle: nothing is lost, nothing blocks."""

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from faststream.kafka import KafkaBroker

from schemas import topics
from schemas.intake import TipReceivedV1
from services.common.consumer import DeadLetters, EventConsumer, subscribe
from services.common.kafka import create_producer
from services.common.settings import ServiceSettings
from services.triage.app import build_app
from tests.factories import CONTACT, IDENTIFYING_VALUES, NARRATIVE, tip_received
from tests.helpers import events_of_tips, produce, read_until, running

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
async def consuming(
    settings: ServiceSettings, handle: Callable[[TipReceivedV1], Awaitable[None]]
) -> AsyncIterator[None]:
    producer = create_producer(settings.kafka_bootstrap_servers, "test", enable_idempotence=False)
    await producer.start()
    broker = KafkaBroker(settings.kafka_bootstrap_servers)
    subscribe(
        broker,
        topic=topics.TIPS_RECEIVED,
        group_id="test-consumer",
        consumer=EventConsumer(
            model=TipReceivedV1,
            handle=handle,
            dead_letters=DeadLetters(producer, "test-consumer"),
            max_attempts=3,
            backoff_seconds=0.01,
        ),
        fetch_max_wait_ms=5,
        session_timeout_ms=3000,
    )
    await broker.start()
    try:
        yield
    finally:
        await broker.stop()
        await producer.stop()


async def test_a_transient_failure_is_retried_until_the_event_is_handled(settings: ServiceSettings) -> None:
    attempts: list[str] = []
    handled = asyncio.Event()

    async def flaky(event: TipReceivedV1) -> None:
        attempts.append(str(event.event_id))
        if len(attempts) < 6:
            raise ConnectionRefusedError("database is restarting")
        handled.set()

    event = tip_received()
    async with consuming(settings, flaky):
        await produce(
            settings.kafka_bootstrap_servers,
            topics.TIPS_RECEIVED,
            event.model_dump_json().encode(),
            event.partition_key,
        )
        await asyncio.wait_for(handled.wait(), 20)
    assert attempts == [str(event.event_id)] * 6, "retried past max_attempts because the failure is transient"
    dead = await read_until(settings.kafka_bootstrap_servers, (DLT,), lambda records: False, timeout=0.5)
    assert dead == []


async def test_a_persistent_failure_is_dead_lettered_and_does_not_block_the_partition(
    settings: ServiceSettings,
) -> None:
    poison, after = tip_received(), tip_received()
    after = after.model_copy(update={"tip_id": poison.tip_id})
    handled: list[str] = []

    async def fails_on_poison(event: TipReceivedV1) -> None:
        if event.event_id == poison.event_id:
            raise ValueError(f"cannot handle {NARRATIVE}")
        handled.append(str(event.event_id))

    async with consuming(settings, fails_on_poison):
        for event in (poison, after):
            await produce(
                settings.kafka_bootstrap_servers,
                topics.TIPS_RECEIVED,
                event.model_dump_json().encode(),
                event.partition_key,
            )
        [dead] = await read_until(settings.kafka_bootstrap_servers, (DLT,), lambda records: bool(records))
        for _ in range(200):
            if handled:
                break
            await asyncio.sleep(0.05)
    assert handled == [str(after.event_id)]
    assert dead.headers["dlt-reason"] == b"processing_failed"
    assert dead.headers["dlt-exception-fqcn"] == b"builtins.ValueError"
    assert dead.value == poison.model_dump_json().encode()
    assert_headers_identify_nobody(dead.headers)
