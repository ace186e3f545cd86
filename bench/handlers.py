"""CPU a tip of triage's and disclosure's consume paths, the client's and PostgreSQL's, and statements.

    python -m bench.handlers [--tips 400] [--batch 10] [--database postgresql://...]

Drives each service's batch consumer directly (no broker: records signed as their producers sign
them) with its real use cases, on a pool of one connection, in batches of ``--batch`` tips, in a
database of its own on the server given (the local PostgreSQL by default). Counts the client's CPU
(this process: signature checks, parsing, handlers, the driver), the server's (that connection's
backend, from /proc) and the statements sent. The baseline in the same run is the probe service: the
runtime's own work per event, with a handler that writes one row. The stack's bench
(``bench.pipeline``) moves with everything else on a shared machine; this isolates the handlers.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

import asyncpg
from aiokafka.structs import ConsumerRecord

from schemas import topics
from schemas.envelope import EventBase
from schemas.intake import ConsentRecordedV1, TipReceivedV1, TipSupplementedV1
from schemas.triage import TipTriagedV1
from services.common.consumer import BatchConsumer, DeadLetters, Route
from services.common.db import apply_migrations, apply_shared_migrations, create_pool, service_migrations
from services.common.messaging import PostgresUnitOfWork, Transactions
from services.common.sealing import KeyEncryptionKey, Keystore
from services.disclosure import handlers as disclosure
from services.disclosure.adapters.audit import AuditChain
from services.disclosure.adapters.unit_of_work import DisclosureUnitOfWork
from services.disclosure.app import SPEC as DISCLOSURE
from services.disclosure.domain.audit import ChainKey
from services.disclosure.domain.routing import load_routing
from services.triage import handlers as triage
from services.triage.adapters.postgres import TriageUnitOfWork
from services.triage.app import SPEC as TRIAGE
from tests.factories import consent_recorded, tip_received, tip_triaged
from tests.keys import signed_headers, stack_keys

KEK = KeyEncryptionKey(bytes(32))
TOPIC = {
    TipReceivedV1: topics.TIPS_RECEIVED, ConsentRecordedV1: topics.CONSENTS,
    TipSupplementedV1: topics.TIPS_SUPPLEMENTED, TipTriagedV1: topics.TIPS_TRIAGED,
}  # fmt: skip
TICKS = os.sysconf("SC_CLK_TCK")


class Discarding:
    """Stands in for the broker's producer: nothing is dead-lettered in these runs."""

    async def send_and_wait(self, topic: str, value: bytes, key: bytes, headers: Any) -> None:
        return None


async def one_row(event: TipReceivedV1, uow: PostgresUnitOfWork) -> None:
    """The baseline's use case: one row an event, one event staged."""
    await uow.connection.execute(
        "INSERT INTO effects (event_id, tip_id) VALUES ($1, $2)", event.event_id, event.tip_id
    )
    uow.outbox.stage(
        topics.TIPS_TRIAGED, event.model_copy(update={"event_id": uuid.uuid5(event.event_id, "x")})
    )


def signed(record: ConsumerRecord[bytes, bytes]) -> ConsumerRecord[bytes, bytes]:
    return replace(record, headers=signed_headers(record.topic, record.key, record.value or b""))


def on_topics(events: list[EventBase], first_offset: int) -> list[ConsumerRecord[bytes, bytes]]:
    return [
        signed(
            ConsumerRecord(
                TOPIC[type(event)], 0, first_offset + number, 0, 0, event.partition_key,
                event.model_dump_json().encode(), None, 0, 0, [],
            )
        )
        for number, event in enumerate(events)
    ]  # fmt: skip


def consumer(
    service: str,
    pool: asyncpg.Pool,
    routes: dict[str, Route],
    unit_of_work: Callable[[asyncpg.Connection], PostgresUnitOfWork],
) -> BatchConsumer:
    return BatchConsumer(
        service=service,
        routes=routes,
        transactions=Transactions(pool, unit_of_work, stack_keys().signer(service)),
        dead_letters=DeadLetters(Discarding(), service),
        verifier=stack_keys().verifier(),
        max_attempts=2,
        backoff_seconds=0.001,
    )


def triage_consumer(pool: asyncpg.Pool) -> BatchConsumer:
    routes = {topics.TIPS_RECEIVED: Route(TipReceivedV1, triage.triage_tip)}
    return consumer(TRIAGE.name, pool, routes, TriageUnitOfWork.opening_keys_with(Keystore(KEK, "triage")))


def disclosure_consumer(pool: asyncpg.Pool) -> BatchConsumer:
    keystore, routing = Keystore(KEK, "disclosure"), load_routing()
    routes = {
        topics.TIPS_RECEIVED: Route(TipReceivedV1, disclosure.record_tip),
        topics.CONSENTS: Route(
            ConsentRecordedV1, partial(disclosure.record_consent, keystore=keystore, routing=routing)
        ),
        topics.TIPS_SUPPLEMENTED: Route(TipSupplementedV1, disclosure.record_supplement),
        topics.TIPS_TRIAGED: Route(
            TipTriagedV1, partial(disclosure.decide_on_triage, keystore=keystore, routing=routing)
        ),
    }
    unit_of_work = partial(DisclosureUnitOfWork, keystore=keystore, chain=AuditChain(ChainKey(bytes(32))))
    return consumer(DISCLOSURE.name, pool, routes, unit_of_work)


def probe_consumer(pool: asyncpg.Pool) -> BatchConsumer:
    routes = {topics.TIPS_RECEIVED: Route(TipReceivedV1, one_row)}
    return consumer("probe", pool, routes, PostgresUnitOfWork)


def triage_events(tip: TipReceivedV1) -> list[EventBase]:
    return [tip]


def disclosure_events(tip: TipReceivedV1) -> list[EventBase]:
    """A tip's events as disclosure receives them from intake and triage, in the order a batch applies."""
    return [tip, consent_recorded(tip, 1, [], law_enforcement=True, service_referral=True),
            tip_triaged(tip, "non_urgent")]  # fmt: skip


@dataclass
class Measured:
    tips: int
    client_seconds: float
    server_seconds: float
    statements: int

    def line(self, name: str) -> str:
        return (
            f"{name:<10} {self.client_seconds * 1000 / self.tips:6.2f} ms client + "
            f"{self.server_seconds * 1000 / self.tips:6.2f} ms server a tip, "
            f"{self.statements / self.tips:5.1f} statements a tip"
        )


def backend_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


async def measure(
    database_url: str,
    schema: str,
    migrations: Path | None,
    build: Callable[[asyncpg.Pool], BatchConsumer],
    events_of: Callable[[TipReceivedV1], list[EventBase]],
    tips: int,
    batch: int,
) -> Measured:
    await apply_shared_migrations(database_url)
    if migrations is not None:
        await apply_migrations(database_url, schema, service_migrations(migrations))
    else:
        own = Path(os.environ.get("TMPDIR", "/tmp")) / f"probe-{uuid.uuid4().hex}"
        own.mkdir()
        (own / "0001_effects.sql").write_text(
            "CREATE TABLE effects (seq bigint GENERATED ALWAYS AS IDENTITY, event_id uuid NOT NULL UNIQUE,"
            " tip_id uuid NOT NULL);"
        )
        await apply_migrations(database_url, schema, service_migrations(own))
    connection = await asyncpg.connect(database_url)
    try:
        keystore = Keystore(KEK, "intake")
        sealed = [tip_received(await keystore.create(connection, uuid.uuid4())) for _ in range(tips + batch)]
    finally:
        await connection.close()
    batches = [
        on_topics([event for tip in sealed[start : start + batch] for event in events_of(tip)], start * 10)
        for start in range(0, len(sealed), batch)
    ]
    pool = await create_pool(database_url, schema, max_size=1)
    statements = 0

    def count(_logged: Any) -> None:
        nonlocal statements
        statements += 1

    try:
        applying = build(pool)
        await applying.consume(batches[0])  # prepares the statements
        async with pool.acquire() as held:
            pid = held.get_server_pid()
            held.add_query_logger(count)
        statements, server, client = 0, backend_cpu_seconds(pid), time.process_time()
        for records in batches[1:]:
            await applying.consume(records)
        return Measured(tips, time.process_time() - client, backend_cpu_seconds(pid) - server, statements)
    finally:
        await pool.close()


async def in_own_database(server_url: str, run: Callable[[str], Any]) -> Any:
    name = f"lantern_bench_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(server_url)
    try:
        await admin.execute(f"CREATE DATABASE {name}")
    finally:
        await admin.close()
    try:
        return await run(server_url.rsplit("/", 1)[0] + f"/{name}")
    finally:
        admin = await asyncpg.connect(server_url)
        try:
            await admin.execute(f"DROP DATABASE {name} WITH (FORCE)")
        finally:
            await admin.close()


async def main_async(server_url: str, tips: int, batch: int) -> None:
    cases = [
        ("probe", "probe", None, probe_consumer, triage_events),
        ("triage", TRIAGE.name, TRIAGE.migrations, triage_consumer, triage_events),
        ("disclosure", DISCLOSURE.name, DISCLOSURE.migrations, disclosure_consumer, disclosure_events),
    ]
    for name, schema, migrations, build, events_of in cases:
        measured = await in_own_database(
            server_url, partial(_measure_in, schema, migrations, build, events_of, tips, batch)
        )
        print(measured.line(name), flush=True)


async def _measure_in(
    schema: str,
    migrations: Path | None,
    build: Callable[[asyncpg.Pool], BatchConsumer],
    events_of: Callable[[TipReceivedV1], list[EventBase]],
    tips: int,
    batch: int,
    database_url: str,
) -> Measured:
    return await measure(database_url, schema, migrations, build, events_of, tips, batch)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tips", type=int, default=400)
    parser.add_argument("--batch", type=int, default=10)
    parser.add_argument("--database", default="postgresql://postgres@127.0.0.1:5432/postgres")
    options = parser.parse_args()
    asyncio.run(main_async(options.database, options.tips, options.batch))


if __name__ == "__main__":
    main()
