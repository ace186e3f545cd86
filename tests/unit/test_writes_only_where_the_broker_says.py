"""A producer's records go only over a connection whose broker named their partitions in a metadata
answer asked for after the connection opened, and only to a topic that broker has shown for a second
(issue 18; the whole path against Tansu is in tests/integration/test_writes_after_a_broker_wipe.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

import pytest
from aiokafka.client import ConnectionGroup
from aiokafka.cluster import ClusterMetadata
from aiokafka.errors import KafkaConnectionError, NodeNotReadyError, UnknownTopicOrPartitionError
from aiokafka.protocol.metadata import MetadataResponse_v5
from aiokafka.protocol.produce import ProduceRequest

from services.common.kafka import SETTLING_SECONDS, WritesOnlyWhereTheBrokerSays

NODE = 111
NO_ERROR, UNKNOWN_TOPIC = 0, 3
WRITE = ProduceRequest(transactional_id=None, required_acks=-1, timeout=1000, topics=[("tips", [(0, b"")])])


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Connection:
    def __init__(self) -> None:
        self.open = True

    def connected(self) -> bool:
        return self.open


class Client:
    """aiokafka's client as the check sees it: connections made one after another from ``made``, and
    a broker (``cluster_id``) whose metadata answers show each topic of ``shown`` with its one
    partition led by the node given, or not at all (None). Its cluster is aiokafka's own."""

    def __init__(self, made: list[Connection | None], shown: dict[str, int | None]) -> None:
        self.made = iter(made)
        self.shown = shown
        self.cluster_id = "first"
        self.cluster = ClusterMetadata()
        self._conns: dict[tuple[int, ConnectionGroup], Connection] = {}
        self.written: list[Connection | None] = []
        self.on_metadata: Any = None

    def answer(self) -> Any:
        topics: list[tuple[Any, ...]] = [
            (NO_ERROR, topic, False, [(NO_ERROR, 0, leader, [leader], [leader], [])])
            if leader is not None
            else (UNKNOWN_TOPIC, topic, False, [])
            for topic, leader in self.shown.items()
        ]
        return MetadataResponse_v5(0, [(NODE, "127.0.0.1", 9092, None)], self.cluster_id, NODE, topics)

    async def _get_conn(
        self, node_id: int, *, group: ConnectionGroup = ConnectionGroup.DEFAULT
    ) -> Connection | None:
        current = self._conns.get((node_id, group))
        if current is not None and current.connected():
            return current
        connection = next(self.made)
        if connection is not None:
            self._conns[(node_id, group)] = connection
        return connection

    async def send(
        self, node_id: int, request: Any, *, group: ConnectionGroup = ConnectionGroup.DEFAULT
    ) -> str:
        self.written.append(await self._get_conn(node_id, group=group))
        return "answered"

    async def _metadata_update(self, cluster: ClusterMetadata, topics: Any) -> bool:
        if self.on_metadata is not None:
            self.on_metadata()
        cluster.update_metadata(self.answer())
        return True

    def force_metadata_update(self) -> Awaitable[bool]:
        return asyncio.ensure_future(self._metadata_update(self.cluster, []))


def guarded(client: Client, clock: Clock | None = None) -> Clock:
    """``client`` guarded, started (its first metadata answer) at 0 and met long ago: it is now 100."""
    clock = clock or Clock()
    WritesOnlyWhereTheBrokerSays(client, clock)
    client.cluster.update_metadata(client.answer())
    clock.now = 100.0
    return clock


async def read_metadata(client: Client) -> None:
    await client._metadata_update(client.cluster, ["tips"])


LED_HERE: dict[str, int | None] = {"tips": NODE}


async def test_a_write_goes_once_the_broker_behind_a_new_connection_names_its_partition() -> None:
    connection = Connection()
    client = Client([connection], LED_HERE)
    guarded(client)

    assert await client.send(NODE, WRITE) == "answered"
    assert client.written == [connection]


async def test_a_write_for_a_partition_the_broker_does_not_name_is_held_for_a_retry() -> None:
    client = Client([Connection()], {"tips": None})
    guarded(client)

    with pytest.raises(UnknownTopicOrPartitionError):
        await client.send(NODE, WRITE)
    assert client.written == []


async def test_a_write_whose_connection_could_not_be_made_is_not_sent_over_the_next_one_unchecked() -> None:
    client = Client([None, Connection()], LED_HERE)
    guarded(client)

    with pytest.raises(NodeNotReadyError):
        await client.send(NODE, WRITE)
    assert client.written == []


async def test_a_write_whose_connection_closed_while_metadata_was_read_is_not_sent_over_another() -> None:
    first = Connection()
    client = Client([first, Connection()], LED_HERE)
    guarded(client)

    def broker_gone() -> None:
        first.open = False

    client.on_metadata = broker_gone
    with pytest.raises(KafkaConnectionError):
        await client.send(NODE, WRITE)
    assert client.written == []


async def test_a_metadata_answer_asked_for_before_the_connection_opened_does_not_count() -> None:
    client = Client([Connection()], LED_HERE)
    clock = guarded(client)
    await read_metadata(client)  # the old broker's answer, an instant before it went away
    client.cluster_id, client.shown = "second", {"tips": None}
    clock.now += 0.001  # the connection opens to the new broker, which has no such topic yet

    with pytest.raises(UnknownTopicOrPartitionError):
        await client.send(NODE, WRITE)
    assert client.written == []


async def test_a_write_to_a_topic_the_broker_shows_again_is_held_for_a_second() -> None:
    client = Client([Connection()], {"tips": None})
    clock = guarded(client)
    await read_metadata(client)
    client.shown = LED_HERE
    await read_metadata(client)

    clock.now += SETTLING_SECONDS - 0.01
    with pytest.raises(UnknownTopicOrPartitionError):
        await client.send(NODE, WRITE)
    assert client.written == []


async def test_a_write_to_a_topic_shown_a_second_ago_goes() -> None:
    connection = Connection()
    client = Client([connection], {"tips": None})
    clock = guarded(client)
    await read_metadata(client)
    client.shown = LED_HERE
    await read_metadata(client)

    clock.now += SETTLING_SECONDS
    assert await client.send(NODE, WRITE) == "answered"
    assert client.written == [connection]


async def test_a_topic_that_went_away_and_came_back_is_held_again() -> None:
    client = Client([Connection()], LED_HERE)
    clock = guarded(client)
    assert await client.send(NODE, WRITE) == "answered"
    client.shown = {"tips": None}
    await read_metadata(client)
    client.shown = LED_HERE
    await read_metadata(client)

    clock.now += 0.5
    with pytest.raises(UnknownTopicOrPartitionError):
        await client.send(NODE, WRITE)
    assert len(client.written) == 1


async def test_every_topic_of_a_broker_that_started_again_is_held_for_its_first_second() -> None:
    first, second = Connection(), Connection()
    client = Client([first, second], LED_HERE)
    clock = guarded(client)
    assert await client.send(NODE, WRITE) == "answered"
    first.open = False
    client.cluster_id = "second"  # its topics already made when the producer first asks it

    clock.now += 0.5
    with pytest.raises(UnknownTopicOrPartitionError):
        await client.send(NODE, WRITE)
    clock.now += SETTLING_SECONDS
    assert await client.send(NODE, WRITE) == "answered"
    assert client.written == [first, second]


async def test_writes_to_a_steady_broker_never_wait() -> None:
    first, second = Connection(), Connection()
    client = Client([first, second], LED_HERE)
    guarded(client)

    await read_metadata(client)
    assert await client.send(NODE, WRITE) == "answered"
    first.open = False  # closed idle, say: the broker is the same
    assert await client.send(NODE, WRITE) == "answered"
    await read_metadata(client)
    assert await client.send(NODE, WRITE) == "answered"
    assert client.written == [first, second, second]


async def test_a_topic_first_asked_about_long_after_the_broker_was_met_does_not_wait() -> None:
    connection = Connection()
    client = Client([connection], {})
    clock = guarded(client)
    clock.now += 600
    client.shown = LED_HERE  # an agency's topic, say, written to for the first time since the start

    assert await client.send(NODE, WRITE) == "answered"
    assert client.written == [connection]
