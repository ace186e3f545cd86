"""Consuming events without ever losing one.

FastStream's ``AckPolicy.ACK`` commits the offset after the handler returns *and* after it raises,
so nothing may escape the handler that is not finished with the message:
- a message that is not a valid event goes to ``<topic>.DLT`` and is then acknowledged;
- a transient failure (database or broker unreachable) is retried in place, without limit, so the
  partition waits rather than skipping a tip;
- any other failure is retried a few times and then dead-lettered with its exception class.
A dead letter carries the original bytes and Spring-style headers, never an exception message.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Generic, TypeVar

import asyncpg
from aiokafka import AIOKafkaProducer, ConsumerRecord
from aiokafka.errors import KafkaError
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from opentelemetry import trace
from pydantic import BaseModel, ValidationError

from schemas.topics import dead_letter_topic
from services.common import errors, metrics
from services.common.logging import get_logger

log = get_logger(__name__)
_tracer = trace.get_tracer("lantern.consumer")
EventT = TypeVar("EventT", bound=BaseModel)


class Deferred(Exception):
    """The event depends on another one this service has not handled yet: retry it in place."""


TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    Deferred,
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


def qualified_name(kind: type[BaseException]) -> str:
    return f"{kind.__module__}.{kind.__qualname__}"


BACKOFF_CEILING_SECONDS = 30.0
DEFERRED_CEILING_SECONDS = 1.0


def backoff_delay(failures: int, base: float, ceiling: float = BACKOFF_CEILING_SECONDS) -> float:
    return float(min(base * 2 ** (failures - 1), ceiling))


class DeadLetters:
    """Publishes messages that cannot be processed to their topic's dead-letter topic."""

    def __init__(self, producer: AIOKafkaProducer, group_id: str) -> None:
        self.producer = producer
        self.group_id = group_id
        self.sent = 0

    async def send(
        self,
        record: ConsumerRecord[bytes, bytes],
        reason: str,
        error: BaseException,
        field_errors: list[errors.FieldError] | None = None,
    ) -> None:
        headers = [
            ("dlt-original-topic", record.topic),
            ("dlt-original-partition", str(record.partition)),
            ("dlt-original-offset", str(record.offset)),
            ("dlt-original-consumer-group", self.group_id),
            ("dlt-exception-fqcn", qualified_name(type(error))),
            ("dlt-failed-at", datetime.now(UTC).isoformat()),
            ("dlt-reason", reason),
        ]
        if field_errors:
            headers.append(("dlt-error-fields", ";".join(f"{e.field}:{e.rule}" for e in field_errors)))
        original = [(name, value) for name, value in (record.headers or ()) if not name.startswith("dlt-")]
        await self.producer.send_and_wait(
            dead_letter_topic(record.topic),
            value=record.value,
            key=record.key,
            headers=original + [(name, value.encode()) for name, value in headers],
        )
        metrics.dead_letters.add(1, {"service": self.group_id, "topic": record.topic, "reason": reason})
        self.sent += 1
        log.warning(
            "message dead-lettered",
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            group_id=self.group_id,
            reason=reason,
            error_type=qualified_name(type(error)),
        )


class EventConsumer(Generic[EventT]):
    """Validates one topic's messages and hands each event to a use case, with retries and DLT."""

    def __init__(
        self,
        *,
        model: type[EventT],
        handle: Callable[[EventT], Awaitable[None]],
        dead_letters: DeadLetters,
        max_attempts: int,
        backoff_seconds: float,
    ) -> None:
        self.model = model
        self.handle = handle
        self.dead_letters = dead_letters
        self.max_attempts = max_attempts
        self.backoff_seconds = backoff_seconds

    async def __call__(self, message: KafkaMessage) -> None:
        record: ConsumerRecord[bytes, bytes] = message.raw_message
        service = self.dead_letters.group_id
        attributes = {
            "lantern.service": service, "messaging.destination.name": record.topic,
            "messaging.kafka.destination.partition": record.partition, "messaging.kafka.message.offset": record.offset,
        }  # fmt: skip
        with _tracer.start_as_current_span(f"{service} handle {record.topic}", attributes=attributes) as span:
            if record.key:
                span.set_attribute("lantern.tip_id", record.key.decode(errors="replace"))
            outcome = await self._handle(record)
            span.set_attribute("lantern.outcome", outcome)
        metrics.events_handled.add(1, {"service": service, "topic": record.topic, "outcome": outcome})

    async def _handle(self, record: ConsumerRecord[bytes, bytes]) -> str:
        failures = 0
        while True:
            try:
                return await self._process(record)
            except TRANSIENT_ERRORS as error:
                failures += 1
                await self._wait_before_retry(record, error, failures)
            except Exception as error:
                failures += 1
                if failures < self.max_attempts:
                    await self._wait_before_retry(record, error, failures)
                    continue
                await self._dead_letter(record, "processing_failed", error)
                return "dead_lettered"

    async def _process(self, record: ConsumerRecord[bytes, bytes]) -> str:
        try:
            event = self.model.model_validate_json(record.value or b"")
        except ValidationError as error:
            await self._dead_letter(record, "validation_failed", error, errors.describe(error, self.model))
            return "dead_lettered"
        await self.handle(event)
        return "handled"

    async def _dead_letter(
        self,
        record: ConsumerRecord[bytes, bytes],
        reason: str,
        error: BaseException,
        field_errors: list[errors.FieldError] | None = None,
    ) -> None:
        failures = 0
        while True:
            try:
                await self.dead_letters.send(record, reason, error, field_errors)
                return
            except TRANSIENT_ERRORS as send_error:
                failures += 1
                await self._wait_before_retry(record, send_error, failures)

    async def _wait_before_retry(
        self, record: ConsumerRecord[bytes, bytes], error: BaseException, failures: int
    ) -> None:
        # What a deferred event waits for is normally handled within milliseconds: retry it soon.
        ceiling = DEFERRED_CEILING_SECONDS if isinstance(error, Deferred) else BACKOFF_CEILING_SECONDS
        delay = backoff_delay(failures, self.backoff_seconds, ceiling)
        log.warning(
            "handling failed, retrying",
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            attempt=failures,
            delay_seconds=delay,
            error_type=qualified_name(type(error)),
        )
        await asyncio.sleep(delay)


def subscribe(
    broker: KafkaBroker,
    *,
    topic: str,
    group_id: str,
    consumer: EventConsumer[EventT],
    fetch_max_wait_ms: int,
    session_timeout_ms: int,
) -> None:
    """Attach ``consumer`` to ``topic`` with the settings that make delivery at least once."""
    broker.subscriber(
        topic,
        group_id=group_id,
        ack_policy=AckPolicy.ACK,
        auto_offset_reset="earliest",
        fetch_max_wait_ms=fetch_max_wait_ms,
        session_timeout_ms=session_timeout_ms,
        heartbeat_interval_ms=max(session_timeout_ms // 3, 100),
    )(consumer.__call__)
