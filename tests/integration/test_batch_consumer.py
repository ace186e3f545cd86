"""The consume path on real PostgreSQL: a batch applies once, a poison message is isolated and parks
its tip, held events apply in order, and concurrent deliveries have one effect.

The records are built here rather than read from a broker, so each scenario is exact; the broker's
side (offsets, dead-letter topic) is proven in test_consumer_guarantees.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import asyncpg
import pytest

from schemas import topics
from schemas.intake import TipReceivedV1
from services.common.consumer import Route
from services.common.inbox import HeldEvent, held_events, set_aside
from services.common.messaging import PostgresUnitOfWork
from tests.factories import tip_received
from tests.probe import SERVICE, Probe, RecordingProducer, consumer_of, of_tip, probe_pool, records, signed


@pytest.fixture
async def pool(database_url: str, tmp_path: Path) -> AsyncIterator[asyncpg.Pool]:
    pool = await probe_pool(database_url, tmp_path)
    yield pool
    await pool.close()


async def applied(pool: asyncpg.Pool) -> list[uuid.UUID]:
    return [row["event_id"] for row in await pool.fetch("SELECT event_id FROM effects ORDER BY seq")]


async def counts(pool: asyncpg.Pool) -> tuple[int, int, int]:
    return (
        await pool.fetchval("SELECT count(*) FROM effects"),
        await pool.fetchval("SELECT count(*) FROM outbox"),
        await pool.fetchval("SELECT count(*) FROM inbox WHERE status = 'done'"),
    )


async def test_a_batch_delivered_three_times_has_each_effect_once(pool: asyncpg.Pool) -> None:
    events = [tip_received() for _ in range(20)]
    consumer = consumer_of(pool, Probe(), RecordingProducer())
    for _ in range(3):
        await consumer.consume(records(*events))
    assert await counts(pool) == (20, 20, 20)
    assert await applied(pool) == [event.event_id for event in events]


async def test_a_poison_message_in_the_middle_commits_its_neighbours_once_and_is_dead_lettered_once(
    pool: asyncpg.Pool,
) -> None:
    events = [tip_received() for _ in range(9)]
    poison = events[4]
    probe, producer = Probe(poison={poison.event_id}), RecordingProducer()
    await consumer_of(pool, probe, producer).consume(records(*events))
    assert await applied(pool) == [event.event_id for event in events if event is not poison]
    assert await counts(pool) == (8, 8, 8)
    [(topic, value, headers)] = producer.sent
    assert topic == topics.dead_letter_topic(topics.TIPS_RECEIVED)
    assert value == poison.model_dump_json().encode()
    assert headers["dlt-reason"] == b"processing_failed"
    assert headers["dlt-exception-fqcn"] == b"builtins.ValueError"
    [held] = await _held(pool)
    assert (held.event_id, held.status) == (poison.event_id, "poisoned")


async def _held(pool: asyncpg.Pool) -> list[HeldEvent]:
    async with pool.acquire() as connection:
        return await held_events(connection, SERVICE)


async def test_the_poisoned_tips_next_event_waits_until_the_poison_is_replayed_then_both_apply_in_order(
    pool: asyncpg.Pool,
) -> None:
    poison = tip_received()
    later, other = of_tip(poison), tip_received()
    probe, producer = Probe(poison={poison.event_id}), RecordingProducer()
    consumer = consumer_of(pool, probe, producer)
    await consumer.consume(records(poison, other))
    await consumer.consume(records(later, first_offset=2))
    assert await applied(pool) == [other.event_id], "the tip's next event waits behind its poisoned one"
    assert [(h.event_id, h.status) for h in await _held(pool)] == [
        (poison.event_id, "poisoned"), (later.event_id, "waiting"),
    ]  # fmt: skip
    probe.poison.clear()
    await consumer.consume(records(poison, first_offset=3))  # replayed from the dead-letter topic
    assert await applied(pool) == [other.event_id, poison.event_id, later.event_id]
    assert await _held(pool) == []
    assert await counts(pool) == (3, 3, 3)


@dataclass
class FailsOnce(Probe):
    """Fails the first time it is given one of ``flaky``, as a transient fault would."""

    flaky: set[uuid.UUID] = field(default_factory=set)

    async def __call__(self, event: TipReceivedV1, uow: PostgresUnitOfWork) -> None:
        if event.event_id in self.flaky:
            self.flaky.discard(event.event_id)
            raise ValueError("fails once")
        await super().__call__(event, uow)


async def test_a_replay_that_fails_once_in_its_batch_then_applies_alone_lets_its_tips_next_event_apply_with_it(
    pool: asyncpg.Pool,
) -> None:
    # The next event waited behind the replay in the failed attempt; that wait must not outlive it.
    poison = tip_received()
    later = of_tip(poison)
    probe = FailsOnce(poison={poison.event_id})
    consumer = consumer_of(pool, probe, RecordingProducer())
    await consumer.consume(records(poison))
    probe.poison.clear()
    probe.flaky = {poison.event_id}
    await consumer.consume(records(poison, later, first_offset=1))
    assert await applied(pool) == [poison.event_id, later.event_id]
    assert await _held(pool) == []


async def test_a_batch_tells_its_events_only_the_tips_of_the_events_it_applies(pool: asyncpg.Pool) -> None:
    """A repository locks and reads for the batch's tips: not for a parked tip, whose event only waits."""
    poison = tip_received()
    later, other = of_tip(poison), tip_received()
    probe = Probe(poison={poison.event_id})
    consumer = consumer_of(pool, probe, RecordingProducer())
    await consumer.consume(records(poison))
    probe.batch_tips.clear()
    await consumer.consume(records(later, other, first_offset=1))
    assert await applied(pool) == [other.event_id]
    assert probe.batch_tips == [(other.tip_id,)]


async def test_a_batch_of_events_whose_use_case_reads_nothing_of_their_tips_has_no_tips(
    pool: asyncpg.Pool,
) -> None:
    probe = Probe()
    await consumer_of(pool, probe, RecordingProducer(), reads_tip=False).consume(
        records(tip_received(), tip_received())
    )
    assert probe.batch_tips == [(), ()]


async def test_a_poisoned_event_set_aside_by_a_supervisor_releases_its_tips_waiting_events(
    pool: asyncpg.Pool,
) -> None:
    poison = tip_received()
    later = of_tip(poison)
    consumer = consumer_of(pool, Probe(poison={poison.event_id}), RecordingProducer())
    await consumer.consume(records(poison, later))
    assert await applied(pool) == []
    async with pool.acquire() as connection:
        assert await set_aside(connection, SERVICE, poison.event_id, by="supervisor")
    await consumer.sweep()
    assert await applied(pool) == [later.event_id]
    assert await pool.fetchval("SELECT status FROM inbox WHERE event_id = $1", poison.event_id) == "set_aside"


async def test_a_failure_that_clears_on_retry_applies_the_tips_events_in_order_without_a_dead_letter(
    pool: asyncpg.Pool,
) -> None:
    flaky = tip_received()
    later = of_tip(flaky)
    probe, producer = Probe(poison={flaky.event_id}), RecordingProducer()
    consumer = consumer_of(pool, probe, producer)
    attempts = 0

    async def clears(event: TipReceivedV1, uow: PostgresUnitOfWork) -> None:
        nonlocal attempts
        if event.event_id == flaky.event_id:
            attempts += 1
            if attempts == 2:
                probe.poison.clear()
        await probe(event, uow)

    consumer.routes[topics.TIPS_RECEIVED] = Route(TipReceivedV1, clears)
    await consumer.consume(records(flaky, later))
    assert await applied(pool) == [flaky.event_id, later.event_id]
    assert producer.sent == []


async def test_a_deferred_event_waits_in_the_inbox_and_applies_once_what_it_needs_arrives(
    pool: asyncpg.Pool,
) -> None:
    first = tip_received()
    dependent = of_tip(first)
    probe = Probe(needs={dependent.event_id: first.event_id})
    consumer = consumer_of(pool, probe, RecordingProducer())
    await consumer.consume(records(dependent))
    assert [(h.event_id, h.status) for h in await _held(pool)] == [(dependent.event_id, "deferred")]
    await consumer.consume(records(first, first_offset=1))
    assert await applied(pool) == [first.event_id, dependent.event_id]
    assert await _held(pool) == []


async def test_a_dependency_later_in_the_same_batch_lets_the_deferred_event_apply_after_it(
    pool: asyncpg.Pool,
) -> None:
    first = tip_received()
    dependent = of_tip(first)
    consumer = consumer_of(pool, Probe(needs={dependent.event_id: first.event_id}), RecordingProducer())
    await consumer.consume(records(dependent, first))
    assert await applied(pool) == [first.event_id, dependent.event_id]


async def test_concurrent_deliveries_of_one_batch_have_exactly_one_effect(pool: asyncpg.Pool) -> None:
    events = [tip_received() for _ in range(10)]
    consumers = [consumer_of(pool, Probe(), RecordingProducer()) for _ in range(4)]
    await asyncio.gather(*(consumer.consume(records(*events)) for consumer in consumers))
    assert await counts(pool) == (10, 10, 10)


async def test_a_transient_failure_rolls_the_batch_back_and_retries_it_in_place(pool: asyncpg.Pool) -> None:
    events = [tip_received() for _ in range(3)]
    probe = Probe()
    failures = 0

    async def database_restarting(event: TipReceivedV1, uow: PostgresUnitOfWork) -> None:
        nonlocal failures
        await probe(event, uow)
        if event.event_id == events[-1].event_id and failures < 4:
            failures += 1
            raise ConnectionResetError

    consumer = consumer_of(pool, probe, RecordingProducer())
    consumer.routes[topics.TIPS_RECEIVED] = Route(TipReceivedV1, database_restarting)
    await consumer.consume(records(*events))
    assert failures == 4
    assert await counts(pool) == (3, 3, 3)


async def test_two_copies_of_one_event_in_a_batch_apply_once(pool: asyncpg.Pool) -> None:
    event, other = tip_received(), tip_received()
    await consumer_of(pool, Probe(), RecordingProducer()).consume(records(event, other, event))
    assert await applied(pool) == [event.event_id, other.event_id]
    assert await counts(pool) == (2, 2, 2)


async def test_a_rejected_event_is_dead_lettered_at_once_and_parks_nothing(pool: asyncpg.Pool) -> None:
    refused = tip_received()
    later = of_tip(refused)
    probe, producer = Probe(refuse={refused.event_id}), RecordingProducer()
    await consumer_of(pool, probe, producer).consume(records(refused, later))
    assert await applied(pool) == [later.event_id]
    assert probe.calls.count(refused.event_id) == 1, "a refusal is not retried"
    [(_, _, headers)] = producer.sent
    assert headers["dlt-reason"] == b"rejected"
    assert (
        await pool.fetchval("SELECT status FROM inbox WHERE event_id = $1", refused.event_id) == "set_aside"
    )
    assert await _held(pool) == []


async def test_a_failure_writing_the_batch_is_traced_to_its_event_and_the_rest_apply(
    pool: asyncpg.Pool,
) -> None:
    events = [tip_received() for _ in range(4)]
    clashing = events[2]

    async def stages_a_clashing_event(event: TipReceivedV1, uow: PostgresUnitOfWork) -> None:
        await Probe()(event, uow)
        if event.event_id == clashing.event_id:
            uow.outbox.stage(
                topics.TIPS_TRIAGED,
                events[0].model_copy(update={"event_id": uuid.uuid5(events[0].event_id, "x")}),
            )

    producer = RecordingProducer()
    consumer = consumer_of(pool, Probe(), producer)
    consumer.routes[topics.TIPS_RECEIVED] = Route(TipReceivedV1, stages_a_clashing_event)
    await consumer.consume(records(*events))
    assert await applied(pool) == [e.event_id for e in events if e is not clashing]
    [(_, value, _)] = producer.sent
    assert value == clashing.model_dump_json().encode()


async def test_a_record_whose_key_is_not_printable_text_is_dead_lettered_and_costs_no_neighbour(
    pool: asyncpg.Pool,
) -> None:
    garbled, good = tip_received(), tip_received()
    [bad] = records(garbled)
    producer = RecordingProducer()
    await consumer_of(pool, Probe(), producer).consume(
        [signed(replace(bad, key=b"tip\x00id")), *records(good, first_offset=1)]
    )
    assert await applied(pool) == [good.event_id]
    [(_, _, headers)] = producer.sent
    assert headers["dlt-reason"] == b"validation_failed"
    assert headers["dlt-error-fields"] == b"<record key>:printable_text"


async def test_hundreds_of_events_of_one_tip_each_failing_once_apply_in_order(pool: asyncpg.Pool) -> None:
    first = tip_received()
    events = [first, *(of_tip(first) for _ in range(299))]
    failed_once: set[uuid.UUID] = set()

    async def fails_the_first_time(event: TipReceivedV1, uow: PostgresUnitOfWork) -> None:
        if event.event_id not in failed_once:
            failed_once.add(event.event_id)
            raise ValueError("not yet")
        await Probe()(event, uow)

    consumer = consumer_of(pool, Probe(), RecordingProducer())
    consumer.routes[topics.TIPS_RECEIVED] = Route(TipReceivedV1, fails_the_first_time)
    await consumer.consume(records(*events))
    assert await applied(pool) == [event.event_id for event in events]


async def test_a_held_event_that_can_no_longer_be_read_is_poisoned_for_an_operator_to_see(
    pool: asyncpg.Pool,
) -> None:
    stale = tip_received()
    await pool.execute(
        "INSERT INTO inbox (consumer, event_id, tip_key, status, topic, payload)"
        " VALUES ($1, $2, $3, 'deferred', $4, $5)",
        SERVICE, stale.event_id, str(stale.tip_id), topics.TIPS_RECEIVED, b'{"event_type": "tip.received"}',
    )  # fmt: skip
    await consumer_of(pool, Probe(), RecordingProducer()).sweep()
    [held] = await _held(pool)
    assert (held.event_id, held.status) == (stale.event_id, "poisoned")
    assert held.reason == "unreadable:pydantic_core._pydantic_core.ValidationError"


async def test_an_event_that_failed_before_its_batchs_rows_were_refused_still_waits_for_its_tips_earlier_event(
    pool: asyncpg.Pool,
) -> None:
    # One event fails in its handler (set aside), then writing the rest is refused (each tried alone):
    # the set-aside event goes back in its place, after its tip's earlier event, not before it.
    earlier = tip_received()
    failing, clashing = of_tip(earlier), tip_received()
    probe = FailsOnce(flaky={failing.event_id})

    async def stages_a_clashing_event(event: TipReceivedV1, uow: PostgresUnitOfWork) -> None:
        await probe(event, uow)
        if event.event_id == clashing.event_id:
            uow.outbox.stage(
                topics.TIPS_TRIAGED,
                earlier.model_copy(update={"event_id": uuid.uuid5(earlier.event_id, "x")}),
            )

    consumer = consumer_of(pool, probe, RecordingProducer())
    consumer.routes[topics.TIPS_RECEIVED] = Route(TipReceivedV1, stages_a_clashing_event)
    await consumer.consume(records(earlier, failing, clashing))
    assert await applied(pool) == [earlier.event_id, failing.event_id]
