"""Response plans start with the triage decision; their clocks flag each step exactly once."""

import asyncio
import os
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import asyncpg
import pytest

from lantern.infra import free_port
from lantern.observe import Published
from lantern.stack import ServiceProcess
from schemas import topics
from schemas.envelope import utc_now
from services.common.db import apply_migrations, apply_shared_migrations, create_pool, service_migrations
from services.common.messaging import Transactions
from services.common.sealing import KeyEncryptionKey, Keystore
from services.common.settings import ServiceSettings
from services.triage import handlers
from services.triage.adapters.postgres import TriageUnitOfWork
from services.triage.app import SPEC
from services.triage.app import build_app as build_triage
from services.triage.domain.plans import load_templates
from services.triage.entrypoints.clock import tick
from services.triage.settings import TriageSettings
from tests.factories import tip_received
from tests.helpers import environment_of, eventually, produce, read_until, running
from tests.keys import stack_keys

URGENT = {"assessment": {"minor_involved": "yes"}}
# Received 12 minutes ago: notify_supervisor (5 min) is at risk and breached, safety_assessment
# (15 min) is at risk, the other steps are not due yet: three flags in all.
TWELVE_MINUTES_AGO = timedelta(minutes=12)
KEYSTORE = Keystore(KeyEncryptionKey(bytes(32)), "triage")


async def open_transactions(database_url: str) -> Transactions[TriageUnitOfWork]:
    return Transactions(
        await create_pool(database_url, SPEC.name),
        TriageUnitOfWork.opening_keys_with(KEYSTORE),
        stack_keys().signer(SPEC.name),
    )


@pytest.fixture
async def migrated(database_url: str) -> AsyncIterator[str]:
    await apply_shared_migrations(database_url)
    await apply_migrations(database_url, SPEC.name, service_migrations(SPEC.migrations))
    return database_url


async def flags_in_outbox(database_url: str) -> list[str]:
    connection = await asyncpg.connect(database_url)
    try:
        rows = await connection.fetch(
            "SELECT convert_from(payload, 'UTF8')::jsonb ->> 'step' AS step,"
            " convert_from(payload, 'UTF8')::jsonb ->> 'flag' AS flag FROM triage.outbox"
            " WHERE headers ->> 'event_type' = 'response_plan.step_flagged' ORDER BY id"
        )
        return [f"{row['step']}/{row['flag']}" for row in rows]
    finally:
        await connection.close()


async def test_an_urgent_tip_starts_its_plan_in_the_same_transaction(migrated: str) -> None:
    transactions = await open_transactions(migrated)
    try:
        event = tip_received(**URGENT)
        async with transactions.begin() as uow:
            await handlers.triage_tip(event, uow)
        steps = await transactions.pool.fetch("SELECT step, deadline FROM plan_steps ORDER BY position")
    finally:
        await transactions.pool.close()
    assert next(row["step"] for row in steps) == "notify_supervisor"
    assert steps[0]["deadline"] == event.received_at + timedelta(minutes=5)


async def test_two_clocks_flag_each_due_step_exactly_once_and_a_restart_flags_nothing_again(
    migrated: str,
) -> None:
    first, second = await open_transactions(migrated), await open_transactions(migrated)
    templates = load_templates()
    try:
        event = tip_received(**URGENT).model_copy(update={"received_at": utc_now() - TWELVE_MINUTES_AGO})
        async with first.begin() as uow:
            await handlers.triage_tip(event, uow)
        for _ in range(3):
            await asyncio.gather(*(tick(clock, templates) for clock in (first, second, first, second)))
    finally:
        await first.pool.close()
        await second.pool.close()
    restarted = await open_transactions(migrated)
    try:
        assert await tick(restarted, templates) == 0
    finally:
        await restarted.pool.close()
    assert sorted(await flags_in_outbox(migrated)) == [
        "notify_supervisor/at_risk", "notify_supervisor/breached", "safety_assessment/at_risk",
    ]  # fmt: skip


async def test_two_triage_processes_in_one_consumer_group_publish_each_flag_once(
    settings: ServiceSettings, tmp_path: Path
) -> None:
    fast = TriageSettings.of(settings).model_copy(update={"clock_poll_seconds": 0.05})
    port, operations = free_port(), free_port()
    second = ServiceProcess(
        "triage",
        port,
        operations,
        {**os.environ, **environment_of(fast), "LANTERN_HTTP_PORT": str(port),
         "LANTERN_OPERATIONS_PORT": str(operations)},
        tmp_path / "triage.log",
    )  # fmt: skip
    second.start()
    try:
        async with running(build_triage(fast)):
            assert await eventually(lambda: asyncio.to_thread(second.healthy), timeout=60), (
                "second triage never started"
            )
            tips = [
                tip_received(**URGENT).model_copy(update={"received_at": utc_now() - TWELVE_MINUTES_AGO})
                for _ in range(4)
            ]
            for tip in tips:
                await produce(
                    fast.kafka_bootstrap_servers,
                    topics.TIPS_RECEIVED,
                    tip.model_dump_json().encode(),
                    tip.partition_key,
                )
            await read_until(
                fast.kafka_bootstrap_servers, (topics.RESPONSE_PLANS,), lambda rs: len(flag_events(rs)) >= 12
            )
            await asyncio.sleep(1)
            records = await read_until(
                fast.kafka_bootstrap_servers, (topics.RESPONSE_PLANS,), lambda _: False, timeout=1
            )
    finally:
        second.stop(grace=5)
    flags = [
        (r.json()["plan_id"], r.json()["step"], r.json()["flag"])
        for r in records
        if r.json()["event_type"] == "response_plan.step_flagged"
    ]
    assert len(flags) == 12
    assert len(set(flags)) == 12


def flag_events(records: list[Published]) -> list[str]:
    return [
        f"{record.json()['step']}/{record.json()['flag']}"
        for record in records
        if record.json().get("event_type") == "response_plan.step_flagged"
    ]


async def test_flags_reach_the_broker_once_across_a_restart_of_triage(
    settings: ServiceSettings,
) -> None:
    fast = TriageSettings.of(settings).model_copy(update={"clock_poll_seconds": 0.05})
    event = tip_received(**URGENT).model_copy(update={"received_at": utc_now() - TWELVE_MINUTES_AGO})

    async with running(build_triage(fast)):
        await produce(
            fast.kafka_bootstrap_servers,
            topics.TIPS_RECEIVED,
            event.model_dump_json().encode(),
            event.partition_key,
        )
        await read_until(
            fast.kafka_bootstrap_servers, (topics.RESPONSE_PLANS,), lambda rs: len(flag_events(rs)) >= 3
        )
        await asyncio.sleep(0.5)
    # The restarted process: a new pool and a new clock over the same database. (It does not join the
    # consumer group: on Tansu a quick rejoin by the same group can stall, and the clock needs none.)
    restarted = await open_transactions(fast.database_url)
    try:
        assert await tick(restarted, load_templates()) == 0
    finally:
        await restarted.pool.close()
    records = await read_until(
        fast.kafka_bootstrap_servers, (topics.RESPONSE_PLANS,), lambda _: False, timeout=1
    )
    flags = flag_events(records)
    assert sorted(flags) == [
        "notify_supervisor/at_risk",
        "notify_supervisor/breached",
        "safety_assessment/at_risk",
    ]
    breach = next(r.json() for r in records if r.json().get("flag") == "breached")
    assert breach["escalated_to"] == "on_duty_supervisor"
