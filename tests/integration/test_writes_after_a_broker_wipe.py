"""What a producer writes around a broker that restarted empty is read back (issue 18).

Tansu takes records for a topic it does not have and acknowledges them; once the topic is made, its
partitions' offsets start again from 0 under those records, and later records land inside their
offsets, where no reader sees them. A producer holds the old broker's metadata until a metadata
answer from the new one arrives: what it sends meanwhile must wait for the topic."""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path
from types import SimpleNamespace

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

import lantern.infra
from lantern.infra import TansuBroker
from lantern.observe import TopicReader
from schemas import topics
from services.common.kafka import TANSU_SETTLING_SECONDS, create_producer, ensure_topics, write_guard_of

TOPIC = topics.TIPS_RECEIVED


def as_before_the_restart(producer: AIOKafkaProducer, held: tuple[dict, dict]) -> None:  # type: ignore[type-arg]
    """The producer's metadata as the old broker gave it: what a producer holds from the moment it
    reconnects until the new broker's metadata answer arrives (a send retried across the restart,
    or the first one after it, goes out in that moment)."""
    cluster = producer.client.cluster
    cluster._partitions, cluster._broker_partitions = held[0], held[1]


async def read_back(bootstrap: str) -> set[bytes]:
    async with TopicReader(bootstrap, (TOPIC,)) as reader:
        values: set[bytes] = set()
        for _ in range(10):
            values |= {record.value for record in await reader.read(timeout_ms=200)}
        return values


async def test_records_a_producer_sends_to_a_broker_that_restarted_empty_are_all_read_back(
    tmp_path: Path,
) -> None:
    broker = TansuBroker(log_path=tmp_path / "tansu.log").start()
    producer = create_producer(
        broker.bootstrap_servers, "lantern-test", False, settling_seconds=TANSU_SETTLING_SECONDS
    )
    try:
        await ensure_topics(broker.bootstrap_servers, (TOPIC,))
        await producer.start()
        await producer.send_and_wait(TOPIC, b"on the old broker", partition=0)
        cluster = producer.client.cluster
        held = (
            dict(cluster._partitions),
            {node: set(tps) for node, tps in cluster._broker_partitions.items()},
        )
        broker.stop()
        broker.start()  # the same port, nothing on it
        await asyncio.sleep(0.5)  # the producer sees its connection closed and reads metadata again
        as_before_the_restart(producer, held)

        batch = producer.create_batch()
        for number in range(5):
            batch.append(key=None, value=f"sent before the topic {number}".encode(), timestamp=None)
        before_the_topic = await producer.send_batch(batch, TOPIC, partition=0)
        await asyncio.wait({before_the_topic}, timeout=2)
        await ensure_topics(broker.bootstrap_servers, (TOPIC,))  # what `lantern up` does once it listens

        acknowledged = set()
        for number in range(5):
            value = f"sent once the topic was made {number}".encode()
            try:
                await producer.send_and_wait(TOPIC, value, partition=0)
            except KafkaError:
                continue  # refused: the client knows it was not written
            acknowledged.add(value)
        await asyncio.wait_for(before_the_topic, 20)
        acknowledged |= {f"sent before the topic {number}".encode() for number in range(5)}

        assert acknowledged - await read_back(broker.bootstrap_servers) == set()
    finally:
        await producer.stop()
        broker.stop()


async def no_longer_named(producer: AIOKafkaProducer) -> None:
    """Once the producer has read the empty broker's metadata (what aiokafka's periodic refresh does)."""
    for _ in range(100):
        await producer.client.force_metadata_update()
        if producer.client.cluster.partitions_for_topic(TOPIC) is None:
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the producer never read metadata without the topic")


@pytest.mark.parametrize("cluster_id", ["drawn at each start", "kept across the wipe"])
async def test_a_topic_made_again_after_a_wipe_is_written_to_a_second_after_the_producer_first_sees_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cluster_id: str
) -> None:
    if cluster_id == "kept across the wipe":  # as Tansu's own default, ``tansu_cluster``, is
        kept = uuid.uuid4()
        monkeypatch.setattr(lantern.infra, "uuid", SimpleNamespace(uuid4=lambda: kept))
    broker = TansuBroker(log_path=tmp_path / "tansu.log").start()
    producer = create_producer(
        broker.bootstrap_servers, "lantern-test", False, settling_seconds=TANSU_SETTLING_SECONDS
    )
    guard = write_guard_of(producer)
    try:
        await ensure_topics(broker.bootstrap_servers, (TOPIC,))
        await producer.start()
        await producer.send_and_wait(TOPIC, b"on the old broker", partition=0)
        assert guard.incarnation == broker.cluster_id  # the guard sees aiokafka's own answers
        assert producer.client._topics == set()  # Tansu's bootstrap answer named every topic

        broker.stop()
        broker.start()
        await no_longer_named(producer)
        await asyncio.sleep(1.5)  # past the first second of the broker's new incarnation
        await ensure_topics(broker.bootstrap_servers, (TOPIC,))
        held_before = guard.held
        await producer.send_and_wait(TOPIC, b"once the topic was made", partition=0)
        written_at = time.monotonic()

        first_sight = guard.first_sight(TOPIC)
        assert first_sight is not None
        assert written_at - first_sight >= TANSU_SETTLING_SECONDS
        assert guard.held > held_before
        held_after = guard.held
        await producer.send_and_wait(TOPIC, b"later", partition=0)
        assert guard.held == held_after
        assert await read_back(broker.bootstrap_servers) >= {b"once the topic was made", b"later"}
    finally:
        await producer.stop()
        broker.stop()


async def test_a_write_queued_for_a_known_topic_is_answered_soon_when_a_new_topic_is_added(
    tmp_path: Path,
) -> None:
    """aiokafka's first ``add_topic`` switches it from asking for all topics to asking for its own
    list: a topic known only from an answer for all must stay on that list, or the next answer
    leaves it out and a batch queued for it waits for the request timeout (15 s)."""
    known, new = TOPIC, topics.TIPS_TRIAGED
    broker = TansuBroker(log_path=tmp_path / "tansu.log").start()
    producer = create_producer(
        broker.bootstrap_servers, "lantern-test", False, 50, settling_seconds=TANSU_SETTLING_SECONDS
    )
    try:
        await ensure_topics(broker.bootstrap_servers, (known,))
        await producer.start()
        await producer.send_and_wait(known, b"before", partition=0)
        assert producer.client._topics == set()  # Tansu's bootstrap answer named every topic
        await ensure_topics(broker.bootstrap_servers, (new,))

        started = time.monotonic()
        queued = await producer.send(known, b"queued", partition=0)  # lingers 50 ms
        await producer.send(new, b"first to the new topic", partition=0)  # aiokafka adds the topic
        await asyncio.wait_for(queued, 10)
        assert time.monotonic() - started < 10
    finally:
        await producer.stop()
        broker.stop()
