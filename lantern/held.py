"""Operators' commands for events that could not be applied (held in an inbox, or dead-lettered)
or not published (quarantined in an outbox)."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from services.common.auth import Role, find_staff
from services.common.db import connect
from services.common.inbox import HeldEvent, held_events, set_aside
from services.common.kafka import writes_only_where_the_broker_says
from services.common.relay import discard, quarantined_rows, release

SERVICES = ("triage", "disclosure", "referral", "monitoring")


class NotASupervisor(Exception):
    pass


class NoSuchDeadLetter(Exception):
    pass


async def check_supervisor(database_url: str, token: str) -> str:
    """Who acts; raises ``NotASupervisor`` unless the token is a supervisor's or an admin's."""
    connection = await connect(database_url, "auth")
    try:
        return await _acting_supervisor(connection, token)
    finally:
        await connection.close()


async def _acting_supervisor(connection: asyncpg.Connection, token: str) -> str:
    staff = await find_staff(connection, token)
    if staff is None or staff.role not in (Role.SUPERVISOR, Role.ADMIN):
        raise NotASupervisor
    return f"{staff.role.value}:{staff.token_id}"


async def list_held(database_url: str, services: tuple[str, ...] = SERVICES) -> dict[str, list[HeldEvent]]:
    """Each service's held events, oldest first."""
    held: dict[str, list[HeldEvent]] = {}
    for service in services:
        connection = await connect(database_url, service)
        try:
            held[service] = await held_events(connection, service)
        finally:
            await connection.close()
    return held


async def set_aside_event(database_url: str, service: str, event_id: uuid.UUID, token: str) -> bool:
    """A supervisor gives up on a poisoned event; its tip's waiting events then apply in order."""
    connection = await connect(database_url, service)
    try:
        return await set_aside(connection, service, event_id, by=await _acting_supervisor(connection, token))
    finally:
        await connection.close()


@dataclass(frozen=True, slots=True)
class Replayed:
    topic: str
    partition: int
    offset: int


async def replay_dead_letter(
    bootstrap: str, dead_letter_topic: str, partition: int, offset: int, settling_seconds: float = 0.0
) -> Replayed:
    """Publish one dead letter again to the topic it came from, with its key and original headers."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    producer = writes_only_where_the_broker_says(
        AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=False),
        settling_seconds,
    )
    await consumer.start()
    await producer.start()
    try:
        position = TopicPartition(dead_letter_topic, partition)
        consumer.assign([position])
        consumer.seek(position, offset)
        record = await asyncio.wait_for(consumer.getone(), 10)
        if record.offset != offset:
            raise NoSuchDeadLetter(f"no dead letter at offset {offset} of {dead_letter_topic}")
        headers = dict(record.headers or ())
        if "dlt-original-topic" not in headers:
            raise NoSuchDeadLetter(f"{dead_letter_topic} holds no dead letter at offset {offset}")
        original_topic = headers["dlt-original-topic"].decode()
        kept = [(name, value) for name, value in record.headers or () if not name.startswith("dlt-")]
        sent = await producer.send_and_wait(original_topic, value=record.value, key=record.key, headers=kept)
        return Replayed(original_topic, sent.partition, sent.offset)
    finally:
        await producer.stop()
        await consumer.stop()


OUTBOX_SERVICES = ("intake", *SERVICES)


async def list_quarantined(database_url: str) -> dict[str, list[dict[str, Any]]]:
    """Each service's quarantined outbox rows, oldest first, with how many rows wait behind each."""
    rows: dict[str, list[dict[str, Any]]] = {}
    for service in OUTBOX_SERVICES:
        connection = await connect(database_url, service)
        try:
            rows[service] = await quarantined_rows(connection, limit=1000)
        finally:
            await connection.close()
    return rows


async def settle_quarantined(
    database_url: str, service: str, event_id: uuid.UUID, token: str, *, send: bool
) -> bool:
    """A supervisor releases a quarantined row (``send``: it goes again) or discards it; either way
    the rows held behind it go on. A package to an agency is only ever released
    (``relay.PackageNotDiscardable``).
    """
    connection = await connect(database_url, service)
    try:
        by = await _acting_supervisor(connection, token)
        return await (release if send else discard)(connection, event_id, by)
    finally:
        await connection.close()
