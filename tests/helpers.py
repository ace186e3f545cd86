"""Running services in the test's own event loop, and reading what they published."""

from __future__ import annotations

import asyncio
import json
import sys
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

import asyncpg
import httpx
from aiokafka import AIOKafkaProducer
from fastapi import FastAPI
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from pydantic import SecretStr

from lantern.observe import Published, TopicReader, by_tip
from schemas.envelope import EventBase
from schemas.registry import EVENTS_BY_TOPIC
from services.common.auth import Role, create_token
from services.common.sealing import DataKey, KeyEncryptionKey, Keystore
from services.common.settings import ServiceSettings
from services.common.telemetry import tracer_provider
from tests.keys import signed_headers


@asynccontextmanager
async def running(*apps: FastAPI) -> AsyncIterator[tuple[FastAPI, ...]]:
    """Run each app's lifespan (migrations, consumers, relay) until the block ends.

    The apps start side by side, because each start waits for its consumer group's first join,
    which the broker holds for a while; one after another, those waits would add up. Each lifespan
    runs in a task of its own, so that it ends in the task it began in. The apps stop one at a time,
    the last one first.
    """
    stops = [asyncio.Event() for _ in apps]
    starts = [asyncio.Event() for _ in apps]
    lifespans = [
        asyncio.create_task(_run_lifespan(app, started, stop), name=f"lifespan-{app.title}")
        for app, started, stop in zip(apps, starts, stops, strict=True)
    ]
    try:
        for lifespan, started in zip(lifespans, starts, strict=True):
            await _until_started(lifespan, started)
        yield apps
    finally:
        for lifespan, stop in reversed(list(zip(lifespans, stops, strict=True))):
            stop.set()
            await asyncio.wait({lifespan})
        failures = [task.exception() for task in lifespans if not task.cancelled() and task.exception()]
        if failures and sys.exc_info()[1] is None:
            raise failures[0]  # an app failed to stop; a failure already on its way is not hidden


async def _run_lifespan(app: FastAPI, started: asyncio.Event, stop: asyncio.Event) -> None:
    async with app.router.lifespan_context(app):
        started.set()
        await stop.wait()


async def _until_started(lifespan: asyncio.Task[None], started: asyncio.Event) -> None:
    waiting = asyncio.ensure_future(started.wait())
    try:
        await asyncio.wait({lifespan, waiting}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        waiting.cancel()
    if not started.is_set():
        lifespan.result()  # raises what kept the app from starting
        raise RuntimeError(f"{lifespan.get_name()} ended before it started")


def http_client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://lantern.test")


def operations_client(app: FastAPI) -> httpx.AsyncClient:
    """A client of the service's private operations listener (metrics, detailed health)."""
    return http_client(app.state.operations)


async def read_until(
    bootstrap: str, topics: tuple[str, ...], done: Callable[[list[Published]], bool], timeout: float = 20
) -> list[Published]:
    async with TopicReader(bootstrap, topics) as reader:
        return await reader.collect_until(done, timeout)


async def events_of_tips(
    bootstrap: str, topics: tuple[str, ...], tip_ids: set[str], timeout: float = 20
) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """Wait until every tip has at least one event on every topic; return them grouped."""

    def complete(records: list[Published]) -> bool:
        grouped = by_tip(records)
        return all(all(grouped[tip][topic] for topic in topics) for tip in tip_ids)

    return by_tip(await read_until(bootstrap, topics, complete, timeout))


async def produce(
    bootstrap: str, topic: str, value: bytes, key: bytes | None = None, *, signer: str | None = None
) -> None:
    """Put ``value`` on ``topic`` signed as its rightful producer would (or as ``signer``)."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=False)
    await producer.start()
    try:
        await producer.send_and_wait(
            topic, value=value, key=key, headers=signed_headers(topic, key, value, signer)
        )
    finally:
        await producer.stop()


async def fetch(settings: ServiceSettings, query: str, *args: Any) -> list[asyncpg.Record]:
    connection = await asyncpg.connect(settings.database_url)
    try:
        return list(await connection.fetch(query, *args))
    finally:
        await connection.close()


async def eventually(check: Callable[[], Any], timeout: float = 15) -> Any:
    """Await ``check()`` until it returns something truthy; return its last result, truthy or not.

    It never fails on its own: a caller that does not assert what it returns has waited, not checked.
    """
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await check()
        if result or asyncio.get_running_loop().time() > deadline:
            return result
        await asyncio.sleep(0.05)


async def every_stored_text(database_url: str) -> str:
    """Every text, JSON and byte column of every Lantern table, as one string."""
    connection = await asyncpg.connect(database_url)
    try:
        columns = await connection.fetch(
            "SELECT table_schema, table_name, column_name FROM information_schema.columns"
            " WHERE table_schema IN ('intake', 'keys', 'auth', 'triage', 'disclosure', 'referral', 'monitoring')"
            " AND data_type IN ('text', 'jsonb', 'bytea', 'ARRAY', 'character varying')"
        )
        parts = []
        for column in columns:
            rows = await connection.fetch(
                f'SELECT "{column["column_name"]}"::text AS value FROM "{column["table_schema"]}"."{column["table_name"]}"'
            )
            parts.extend(str(row["value"]) for row in rows)
        return "\n".join(parts)
    finally:
        await connection.close()


async def staff_token(database_url: str, role: Role) -> str:
    """Create a staff token for ``role`` as `lantern token create` does; return the token."""
    connection = await asyncpg.connect(database_url)
    try:
        return (await create_token(connection, role, "test"))[1]
    finally:
        await connection.close()


def environment_of(settings: ServiceSettings) -> dict[str, str]:
    """The environment variables that make a service process read ``settings``."""
    environment = {}
    for name, field in type(settings).model_fields.items():
        value = getattr(settings, name)
        if value is None or field.alias is None:
            continue
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        if isinstance(value, dict):
            value = json.dumps(value)
        environment[field.alias] = str(value).lower() if isinstance(value, bool) else str(value)
    return environment


async def new_data_key(settings: ServiceSettings) -> DataKey:
    """A tip's data key, created as intake creates it, under the settings' KEK."""
    assert settings.kek is not None
    keystore = Keystore(KeyEncryptionKey.from_text(settings.kek.get_secret_value()), "intake")
    connection = await asyncpg.connect(settings.database_url)
    try:
        return await keystore.create(connection, uuid.uuid4())
    finally:
        await connection.close()


TOPIC_OF_EVENT = {event: topic for topic, events in EVENTS_BY_TOPIC.items() for event in events}


async def publish_events(bootstrap: str, *events: EventBase) -> None:
    """Put events on their own topics, keyed by tip and signed, as the services that own them would."""
    for event in events:
        await produce(
            bootstrap, TOPIC_OF_EVENT[type(event)], event.model_dump_json().encode(), event.partition_key
        )


async def published_for_tip(
    bootstrap: str, topic: str, tip_id: str, done: Callable[[list[Published]], bool], timeout: float = 20
) -> list[Published]:
    """The records of one tip on ``topic``, read until ``done`` says they are all there."""

    def mine(records: list[Published]) -> list[Published]:
        return [record for record in records if record.json().get("tip_id") == tip_id]

    return mine(await read_until(bootstrap, (topic,), lambda records: done(mine(records)), timeout))


async def settled(*apps: FastAPI, timeout: float = 90) -> None:
    """Wait until every app's consumers hold their partitions, as `lantern up` does before it is ready."""

    async def assigned() -> bool:
        return all(app.state.runtime.consumers_assigned() for app in apps)

    assert await eventually(assigned, timeout=timeout), "the consumer groups did not settle"


def event_types(events: list[dict[str, Any]]) -> list[str]:
    return [event["event_type"] for event in events]


def through(url: str, port: int) -> str:
    """``url`` on the same server and database, reached through a proxy on ``port``."""
    parts = urlsplit(url)
    user = parts.netloc.rsplit("@", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{user}@127.0.0.1:{port}", query=""))


def server_address(url: str) -> tuple[str, int]:
    """Where the server of ``url`` listens: a Unix socket's path (the embedded server), or host and port."""
    parts = urlsplit(url)
    port = parts.port or 5432
    directory = parse_qs(parts.query).get("host", [parts.hostname or "127.0.0.1"])[0]
    if directory.startswith("/"):
        return f"{directory}/.s.PGSQL.{port}", port
    return directory, port


@contextmanager
def recorded_spans() -> Iterator[InMemorySpanExporter]:
    """The spans the process ends while in the block; the processor leaves the provider after it, so
    later tests pay nothing for it. The SDK has no public way to remove a processor: this replaces
    the provider's tuple of them, under its lock, as ``add_span_processor`` does to add one."""
    exporter = InMemorySpanExporter()
    processor = SimpleSpanProcessor(exporter)
    provider = tracer_provider("tests", None)
    provider.add_span_processor(processor)
    try:
        yield exporter
    finally:
        processors = provider._active_span_processor
        with processors._lock:
            processors._span_processors = tuple(
                kept for kept in processors._span_processors if kept is not processor
            )
        exporter.shutdown()
