"""A producer's records go only over a connection whose broker named their partitions in a metadata
answer asked for after the connection opened (issue 18; the whole path against Tansu is in
tests/integration/test_writes_after_a_broker_wipe.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

import pytest
from aiokafka import TopicPartition
from aiokafka.client import ConnectionGroup
from aiokafka.errors import KafkaConnectionError, NodeNotReadyError, UnknownTopicOrPartitionError
from aiokafka.protocol.produce import ProduceRequest

from services.common.kafka import WritesOnlyWhereTheBrokerSays

NODE = 111
WRITE = ProduceRequest(transactional_id=None, required_acks=-1, timeout=1000, topics=[("tips", [(0, b"")])])


class Connection:
    def __init__(self) -> None:
        self.open = True

    def connected(self) -> bool:
        return self.open


class Cluster:
    def __init__(self, leaders: dict[TopicPartition, int]) -> None:
        self.leaders = leaders

    def leader_for_partition(self, partition: TopicPartition) -> int | None:
        return self.leaders.get(partition)


class Client:
    """aiokafka's client as the check sees it: connections made one after another from ``made``, and
    a broker whose metadata answers name ``leaders``."""

    def __init__(self, made: list[Connection | None], leaders: dict[TopicPartition, int]) -> None:
        self.made = iter(made)
        self.cluster = Cluster(leaders)
        self._conns: dict[tuple[int, ConnectionGroup], Connection] = {}
        self.written: list[Connection | None] = []
        self.on_metadata: Any = None

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

    async def _metadata_update(self, cluster: Cluster, topics: Any) -> bool:
        if self.on_metadata is not None:
            self.on_metadata()
        return True

    def force_metadata_update(self) -> Awaitable[bool]:
        return asyncio.ensure_future(self._metadata_update(self.cluster, []))


LED_HERE = {TopicPartition("tips", 0): NODE}


async def test_a_write_goes_once_the_broker_behind_a_new_connection_names_its_partition() -> None:
    connection = Connection()
    client = Client([connection], LED_HERE)
    WritesOnlyWhereTheBrokerSays(client)

    assert await client.send(NODE, WRITE) == "answered"
    assert client.written == [connection]


async def test_a_write_for_a_partition_the_broker_does_not_name_is_held_for_a_retry() -> None:
    client = Client([Connection()], {})
    WritesOnlyWhereTheBrokerSays(client)

    with pytest.raises(UnknownTopicOrPartitionError):
        await client.send(NODE, WRITE)
    assert client.written == []


async def test_a_write_whose_connection_could_not_be_made_is_not_sent_over_the_next_one_unchecked() -> None:
    client = Client([None, Connection()], LED_HERE)
    WritesOnlyWhereTheBrokerSays(client)

    with pytest.raises(NodeNotReadyError):
        await client.send(NODE, WRITE)
    assert client.written == []


async def test_a_write_whose_connection_closed_while_metadata_was_read_is_not_sent_over_another() -> None:
    first = Connection()
    client = Client([first, Connection()], LED_HERE)
    WritesOnlyWhereTheBrokerSays(client)

    def broker_gone() -> None:
        first.open = False

    client.on_metadata = broker_gone
    with pytest.raises(KafkaConnectionError):
        await client.send(NODE, WRITE)
    assert client.written == []
