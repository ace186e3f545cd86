"""Monitoring keeps a batch's read-model writes and sends them before the commit: a step flag read
in the same batch as its tip and plan still finds the tip's reference, and a write the database
refuses is blamed on its own event, never on the flag that read the read model."""

from __future__ import annotations

from collections.abc import AsyncIterator
from functools import partial
from operator import attrgetter

import asyncpg
import pytest

from schemas import topics
from schemas.intake import TipReceivedV1
from schemas.triage import (
    ResponsePlanMessage,
    TipTriagedV1,
)
from services.common.consumer import BatchConsumer, DeadLetters, Route
from services.common.db import apply_migrations, apply_shared_migrations, create_pool, service_migrations
from services.common.messaging import PostgresUnitOfWork, Transactions
from services.monitoring import handlers
from services.monitoring.adapters.alerts import ConsoleAlertList
from services.monitoring.app import SPEC as MONITORING
from services.monitoring.domain.roster import Roster
from tests.factories import tip_received, tip_triaged
from tests.integration.test_alert_paging import ROSTER, plan_of
from tests.integration.test_round_trips import on_topics
from tests.keys import stack_keys
from tests.probe import RecordingProducer


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    await apply_shared_migrations(database_url)
    await apply_migrations(database_url, MONITORING.name, service_migrations(MONITORING.migrations))
    pool = await create_pool(database_url, MONITORING.name, max_size=1)
    try:
        yield pool
    finally:
        await pool.close()


def monitoring(pool: asyncpg.Pool, producer: RecordingProducer) -> BatchConsumer:
    alerting = handlers.Alerting(
        lambda: Roster.model_validate(ROSTER), lambda uow: [ConsoleAlertList(uow.connection)]
    )
    return BatchConsumer(
        service=MONITORING.name,
        routes={
            topics.TIPS_RECEIVED: Route(TipReceivedV1, handlers.tip_received),
            topics.TIPS_TRIAGED: Route(TipTriagedV1, handlers.tip_triaged),
            topics.RESPONSE_PLANS: Route(
                ResponsePlanMessage,
                partial(handlers.plan_changed, alerting=alerting),
                attrgetter("event.event_id"),
            ),
        },
        transactions=Transactions(pool, PostgresUnitOfWork, stack_keys().signer(MONITORING.name)),
        dead_letters=DeadLetters(producer, MONITORING.name),
        verifier=stack_keys().verifier(),
        max_attempts=2,
        backoff_seconds=0.001,
    )


async def test_a_step_breached_in_the_batch_of_its_tip_and_plan_alerts_with_the_tips_reference(
    pool: asyncpg.Pool,
) -> None:
    tip = tip_received()
    started, breached = plan_of(tip)
    retriaged = [tip_triaged(tip, "urgent", revision=2), tip_triaged(tip, "non_urgent", revision=3)]
    await monitoring(pool, RecordingProducer()).consume(on_topics(tip, *retriaged, started, breached))
    row = await pool.fetchrow("SELECT urgency, triage_revision FROM tips WHERE tip_id = $1", tip.tip_id)
    assert (row["urgency"], row["triage_revision"]) == ("non_urgent", 3), "the last revision wins"
    assert await pool.fetchval("SELECT breached FROM plan_steps WHERE plan_id = $1", started.plan_id)
    assert [alert["reference"] for alert in await pool.fetch("SELECT reference FROM alerts")] == [
        tip.reference
    ]


async def test_a_tip_the_read_model_refuses_is_dead_lettered_alone_and_a_flag_in_its_batch_keeps_its_order(
    pool: asyncpg.Pool,
) -> None:
    # Stand-in for any write the database refuses (a constraint, a bad value): one tip's row.
    refused = tip_received()
    await pool.execute(f"ALTER TABLE tips ADD CONSTRAINT refuses_one CHECK (tip_id <> '{refused.tip_id}')")
    tip = tip_received()
    started, breached = plan_of(tip)
    producer = RecordingProducer()
    await monitoring(pool, producer).consume(on_topics(refused, tip, started, breached))
    assert await pool.fetchval("SELECT breached FROM plan_steps WHERE plan_id = $1", started.plan_id)
    assert [alert["reference"] for alert in await pool.fetch("SELECT reference FROM alerts")] == [
        tip.reference
    ]
    journey = await pool.fetch("SELECT event_type FROM journey WHERE tip_id = $1 ORDER BY id", tip.tip_id)
    assert [row["event_type"] for row in journey] == [
        "tip.received", "response_plan.started", "response_plan.step_flagged",
    ]  # fmt: skip
    dead = [headers.get("dlt-original-topic") for _topic, _value, headers in producer.sent]
    assert dead == [topics.TIPS_RECEIVED.encode()], "only the refused tip is dead-lettered"
