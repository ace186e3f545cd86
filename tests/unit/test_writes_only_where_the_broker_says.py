"""A producer's records go only over a connection whose broker named their partitions in a metadata
answer asked for after the connection opened, and only to a topic that broker has shown for the hold
given (a second on Tansu, none by default) (issue 18; the whole path against Tansu is in
tests/integration/test_writes_after_a_broker_wipe.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

import pytest
from aiokafka import TopicPartition
from aiokafka.client import ConnectionGroup
from aiokafka.cluster import ClusterMetadata
from aiokafka.errors import KafkaConnectionError, NodeNotReadyError, UnknownTopicOrPartitionError
from aiokafka.producer.sender import SendProduceReqHandler
from aiokafka.protocol.metadata import MetadataResponse_v5
from aiokafka.protocol.produce import (
    ProduceRequest,
    ProduceResponse_v0,
    ProduceResponse_v1,
    ProduceResponse_v2,
    ProduceResponse_v3,
    ProduceResponse_v4,
    ProduceResponse_v5,
    ProduceResponse_v6,
    ProduceResponse_v7,
    ProduceResponse_v8,
)

from services.common.kafka import WriteGuardBlindError, WritesOnlyWhereTheBrokerSays

NODE = 111
SETTLING_SECONDS = 1.0  # Tansu's (``lantern up``)
NO_ERROR, UNKNOWN_TOPIC, LEADER_NOT_AVAILABLE, UNKNOWN_SERVER_ERROR = 0, 3, 5, -1


def write(*topics: str) -> ProduceRequest:
    return ProduceRequest(
        transactional_id=None,
        required_acks=-1,
        timeout=1000,
        topics=[(topic, [(0, b"")]) for topic in topics],
    )


WRITE = write("tips")
ANSWERS = [ProduceResponse_v0, ProduceResponse_v1, ProduceResponse_v2, ProduceResponse_v3]
ANSWERS += [
    ProduceResponse_v4,
    ProduceResponse_v5,
    ProduceResponse_v6,
    ProduceResponse_v7,
    ProduceResponse_v8,
]
WRITTEN: dict[int, tuple[Any, ...]] = {
    **dict.fromkeys((0, 1), (NO_ERROR, 7)),
    **dict.fromkeys((2, 3, 4), (NO_ERROR, 7, -1)),
    **dict.fromkeys((5, 6, 7), (NO_ERROR, 7, -1, 0)),
    8: (NO_ERROR, 7, -1, 0, [], None),
}
"""A partition's answer after its records were written at offset 7, field by field after the
partition, in each ProduceResponse version aiokafka 0.14 reads."""


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Connection:
    def __init__(self, produce_versions: tuple[int, int] = (0, 7)) -> None:
        self.open = True
        self._versions = {ProduceRequest.API_KEY: produce_versions}

    def connected(self) -> bool:
        return self.open


class Client:
    """aiokafka's client as the check sees it: connections made one after another from ``made``, and
    a broker (``cluster_id``) whose metadata answers show each topic of ``shown`` with its one
    partition led by the node given, or, for None, as Tansu does: listed with error 3 when asked for
    by name, left out of an answer for all topics. ``failing`` lists topics answered with an error
    code instead. Its cluster is aiokafka's own; like aiokafka's, a forced update while one is under
    way waits for that one; an answer is what the broker held when asked, and arrives once ``gate``
    (if any) is set."""

    def __init__(self, made: list[Connection | None], shown: dict[str, int | None]) -> None:
        self.made = iter(made)
        self.shown = shown
        self.failing: dict[str, int] = {}
        self.cluster_id: str | None = "first"
        self.cluster = ClusterMetadata()
        self._conns: dict[tuple[int, ConnectionGroup], Connection] = {}
        self.written: list[Connection | None] = []
        self.requests: list[ProduceRequest] = []
        self.on_metadata: Any = None
        self.gate: asyncio.Event | None = None
        self.under_way: asyncio.Future[bool] | None = None
        self._topics: set[str] = set()
        self.answer_type: type[Any] = ProduceResponse_v5

    def answer(self, topics: Any = ()) -> Any:
        asked = list(topics) or [topic for topic, leader in self.shown.items() if leader is not None]
        answers: list[tuple[Any, ...]] = []
        for topic in asked:
            leader = self.shown.get(topic)
            if topic in self.failing:
                answers.append((self.failing[topic], topic, False, []))
            elif leader is None:
                answers.append((UNKNOWN_TOPIC, topic, False, []))
            else:
                answers.append((NO_ERROR, topic, False, [(NO_ERROR, 0, leader, [leader], [leader], [])]))
        return MetadataResponse_v5(0, [(NODE, "127.0.0.1", 9092, None)], self.cluster_id, NODE, answers)

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
    ) -> Any:
        self.written.append(await self._get_conn(node_id, group=group))
        self.requests.append(request)
        written = [
            (topic, [(partition, *WRITTEN[self.answer_type.API_VERSION]) for partition, _ in partitions])
            for topic, partitions in request._topics
        ]
        return (
            self.answer_type(written) if self.answer_type.API_VERSION == 0 else self.answer_type(written, 0)
        )

    async def _metadata_update(self, cluster: ClusterMetadata, topics: Any) -> bool:
        if self.on_metadata is not None:
            self.on_metadata()
        answer = self.answer(topics)
        if self.gate is not None:
            await self.gate.wait()
        cluster.update_metadata(answer)
        return True

    def add_topic(self, topic: str) -> Awaitable[bool]:
        self._topics.add(topic)
        return self.force_metadata_update()

    def force_metadata_update(self) -> Awaitable[bool]:
        if self.under_way is None or self.under_way.done():
            self.under_way = asyncio.ensure_future(self._metadata_update(self.cluster, []))
        return asyncio.shield(self.under_way)


class Sender:
    """aiokafka's sender as its produce handler sees it."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self._retry_backoff = 0.1
        self._txn_manager = None


class Batch:
    def __init__(self) -> None:
        self.offset: int | None = None

    def done(self, offset: int, timestamp: int | None = None, log_start_offset: int | None = None) -> None:
        self.offset = offset

    def expired(self) -> bool:
        return False


def guarded(client: Client, clock: Clock | None = None, settling_seconds: float = SETTLING_SECONDS) -> Clock:
    """``client`` guarded with a hold of ``settling_seconds``, started (its first metadata answer) at 0
    and met long ago: it is now 100."""
    clock = clock or Clock()
    WritesOnlyWhereTheBrokerSays(client, clock, settling_seconds)
    client.cluster.update_metadata(client.answer())
    clock.now = 100.0
    return clock


async def read_metadata(client: Client) -> None:
    await client._metadata_update(client.cluster, ["tips"])


async def read_all_metadata(client: Client) -> None:
    """What aiokafka asks against Tansu, whose bootstrap answer already named every topic."""
    await client._metadata_update(client.cluster, set())


def guard_of(client: Client) -> WritesOnlyWhereTheBrokerSays:
    guard: WritesOnlyWhereTheBrokerSays = client.write_guard  # type: ignore[attr-defined]
    return guard


LED_HERE: dict[str, int | None] = {"tips": NODE}


async def test_a_write_goes_once_the_broker_behind_a_new_connection_names_its_partition() -> None:
    connection = Connection()
    client = Client([connection], LED_HERE)
    guarded(client)

    assert await client.send(NODE, WRITE)
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
    client.shown = {"tips": None}  # the same cluster id: Tansu's default one, say
    clock.now += 0.001  # the connection opens to the new broker, which has no such topic yet

    with pytest.raises(UnknownTopicOrPartitionError, match="not on this broker"):
        await client.send(NODE, WRITE)
    assert client.written == []


async def test_a_metadata_answer_under_way_when_the_connection_opened_does_not_count() -> None:
    client = Client([Connection()], LED_HERE)
    clock = guarded(client)
    client.gate = asyncio.Event()
    client.force_metadata_update()  # asked of the old broker, its answer still on the way
    await asyncio.sleep(0)
    client.shown = {"tips": None}
    clock.now += 0.001  # the connection opens to the new broker, which has no such topic yet
    sending = asyncio.ensure_future(client.send(NODE, WRITE))
    await asyncio.sleep(0)
    clock.now += 0.001  # the old broker's answer arrives after the connection opened
    client.gate.set()

    with pytest.raises(UnknownTopicOrPartitionError, match="not on this broker"):
        await sending
    assert client.written == []


async def test_an_answer_without_brokers_changes_nothing() -> None:
    connection = Connection()
    client = Client([connection], LED_HERE)
    guarded(client)

    client.cluster.update_metadata(MetadataResponse_v5(0, [], None, -1, []))  # aiokafka ignores it
    assert await client.send(NODE, WRITE)
    assert client.written == [connection]


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
    assert await client.send(NODE, WRITE)
    assert client.written == [connection]


async def test_a_topic_that_went_away_and_came_back_is_held_again() -> None:
    client = Client([Connection()], LED_HERE)
    clock = guarded(client)
    assert await client.send(NODE, WRITE)
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
    assert await client.send(NODE, WRITE)
    first.open = False
    client.cluster_id = "second"  # its topics already made when the producer first asks it

    clock.now += 0.5
    with pytest.raises(UnknownTopicOrPartitionError):
        await client.send(NODE, WRITE)
    clock.now += SETTLING_SECONDS
    assert await client.send(NODE, WRITE)
    assert client.written == [first, second]


async def test_writes_to_a_steady_broker_never_wait() -> None:
    first, second = Connection(), Connection()
    client = Client([first, second], LED_HERE)
    guarded(client)

    await read_metadata(client)
    assert await client.send(NODE, WRITE)
    first.open = False  # closed idle, say: the broker is the same
    assert await client.send(NODE, WRITE)
    await read_metadata(client)
    assert await client.send(NODE, WRITE)
    assert client.written == [first, second, second]


async def test_a_topic_first_named_long_after_the_broker_was_met_is_held_from_its_first_sight() -> None:
    connection = Connection()
    client = Client([connection], {})
    clock = guarded(client)
    clock.now += 600
    client.shown = LED_HERE  # made at the instant a producer first asks about it, say

    with pytest.raises(UnknownTopicOrPartitionError, match="a moment ago"):
        await client.send(NODE, WRITE)
    clock.now += SETTLING_SECONDS
    assert await client.send(NODE, WRITE)
    assert client.written == [connection]


async def test_a_topic_an_answer_for_all_topics_leaves_out_is_held_once_named_again() -> None:
    client = Client([Connection()], LED_HERE)
    clock = guarded(client)
    assert await client.send(NODE, WRITE)
    client.shown = {"tips": None}
    await read_all_metadata(client)
    client.shown = LED_HERE
    await read_all_metadata(client)

    clock.now += SETTLING_SECONDS - 0.01
    with pytest.raises(UnknownTopicOrPartitionError, match="a moment ago"):
        await client.send(NODE, WRITE)
    clock.now += 0.01
    assert await client.send(NODE, WRITE)
    assert len(client.written) == 2


async def test_without_a_hold_a_topic_named_an_instant_ago_is_written_at_once() -> None:
    connection = Connection()
    client = Client([connection], {"tips": None})
    clock = guarded(client, settling_seconds=0.0)
    await read_metadata(client)
    client.shown = LED_HERE
    await read_metadata(client)  # its first sight: a producer's first write after it starts, say
    client.cluster_id = "second"
    await read_metadata(client)  # and a broker that started again

    assert await client.send(NODE, WRITE)
    assert client.written == [connection]
    assert guard_of(client).held == 0
    assert clock.now == 100.0


async def test_a_topic_the_broker_does_not_name_is_refused_even_without_a_hold() -> None:
    first, second = Connection(), Connection()
    client = Client([first, second], LED_HERE)
    guarded(client, settling_seconds=0.0)
    assert await client.send(NODE, WRITE)
    client.shown = {"tips": None}
    await read_metadata(client)

    with pytest.raises(UnknownTopicOrPartitionError):
        await client.send(NODE, WRITE)
    assert client.written == [first]


async def test_a_topic_every_answer_for_all_topics_names_never_waits() -> None:
    first, second = Connection(), Connection()
    client = Client([first, second], LED_HERE)
    clock = guarded(client)

    for _ in range(3):
        await read_all_metadata(client)
        assert await client.send(NODE, WRITE)
        clock.now += 0.3
    first.open = False
    assert await client.send(NODE, WRITE)
    assert client.written == [first, first, first, second]
    assert guard_of(client).held == 0


def settled_and_held(client: Client) -> Clock:
    """``client`` guarded, "tips" long shown and "consents" shown again half a second ago."""
    clock = guarded(client)
    client.shown = {"tips": NODE, "consents": None}
    client.cluster.update_metadata(client.answer())
    client.shown = {"tips": NODE, "consents": NODE}
    client.cluster.update_metadata(client.answer())
    clock.now += 0.5
    return clock


@pytest.mark.parametrize("answer_type", ANSWERS, ids=lambda answer: f"v{answer.API_VERSION}")
async def test_a_held_topic_holds_back_only_its_own_partitions_which_aiokafka_retries(
    answer_type: type[Any],
) -> None:
    client = Client([Connection()], {"tips": NODE, "consents": NODE})
    client.answer_type = answer_type
    settled_and_held(client)

    response = await client.send(NODE, write("tips", "consents"))

    assert [topic for topic, _ in client.requests[0]._topics] == ["tips"]
    assert type(response).decode(response.encode()).topics[1][1][0][:2] == (0, UNKNOWN_TOPIC)
    assert guard_of(client).held == 1
    sender = Sender(client)
    tips, consents = Batch(), Batch()
    handler = SendProduceReqHandler(
        sender, {TopicPartition("tips", 0): tips, TopicPartition("consents", 0): consents}
    )
    handler.handle_response(response)
    assert tips.offset == 7
    assert handler._to_reenqueue == [consents]


async def test_a_write_split_keeps_its_transactional_id_acknowledgement_and_timeout() -> None:
    client = Client([Connection()], {"tips": NODE, "consents": NODE})
    settled_and_held(client)
    request = ProduceRequest(
        transactional_id="lantern-relay",
        required_acks=1,
        timeout=2500,
        topics=write("tips", "consents")._topics,
    )

    await client.send(NODE, request)

    (narrowed,) = client.requests
    assert (narrowed._transactional_id, narrowed.required_acks, narrowed._timeout) == (
        "lantern-relay",
        1,
        2500,
    )


async def test_a_write_without_acknowledgement_is_held_whole_when_one_of_its_topics_is_held() -> None:
    client = Client([Connection()], {"tips": NODE, "consents": NODE})
    settled_and_held(client)
    request = ProduceRequest(
        transactional_id=None, required_acks=0, timeout=1000, topics=write("tips", "consents")._topics
    )

    with pytest.raises(UnknownTopicOrPartitionError, match="a moment ago"):
        await client.send(NODE, request)
    assert client.requests == []


async def test_a_write_in_a_produce_version_the_guard_cannot_answer_for_is_held_whole() -> None:
    client = Client([Connection(produce_versions=(9, 12))], {"tips": NODE, "consents": NODE})
    settled_and_held(client)

    with pytest.raises(UnknownTopicOrPartitionError, match="a moment ago"):
        await client.send(NODE, write("tips", "consents"))
    assert client.requests == []


async def test_a_topic_an_answer_to_a_request_for_some_topics_leaves_out_is_held_once_named_again() -> None:
    client = Client([Connection()], {"tips": NODE, "tips.dlt": NODE})
    clock = guarded(client)  # its bootstrap answer, for all topics, named both
    await read_metadata(client)  # aiokafka added "tips" once: it asks for its topics by name for good
    client.shown = {"tips": None, "tips.dlt": None}  # wiped, the same cluster id
    await read_metadata(client)
    client.shown = {"tips": NODE, "tips.dlt": NODE}  # both made again
    await client._metadata_update(client.cluster, ["tips", "tips.dlt"])  # the first write to the DLT

    clock.now += 0.01
    with pytest.raises(UnknownTopicOrPartitionError, match="a moment ago"):
        await client.send(NODE, write("tips.dlt"))
    clock.now += SETTLING_SECONDS
    assert await client.send(NODE, write("tips.dlt"))
    assert len(client.written) == 1


async def test_a_topic_added_keeps_every_topic_the_cluster_knows_on_aiokafkas_list() -> None:
    client = Client([Connection()], {"tips": NODE, "tips.dlt": NODE})
    guarded(client)  # its bootstrap answer, for all topics, named both: aiokafka's list is empty
    client.shown = {"tips": NODE, "tips.dlt": NODE, "consents": NODE}

    await client.add_topic("consents")

    assert client._topics == {"tips", "tips.dlt", "consents"}


async def test_an_error_other_than_a_missing_topic_leaves_a_topic_settled() -> None:
    connection = Connection()
    client = Client([connection], LED_HERE)
    guarded(client)
    client.failing = {"tips": UNKNOWN_SERVER_ERROR}  # Tansu failed to read a topic it has
    await read_metadata(client)
    client.failing = {}
    await read_metadata(client)

    assert await client.send(NODE, WRITE)
    assert client.written == [connection]


async def test_a_topic_answered_as_without_a_leader_is_held_once_named_again() -> None:
    client = Client([Connection()], LED_HERE)
    clock = guarded(client)
    client.failing = {"tips": LEADER_NOT_AVAILABLE}
    await read_metadata(client)
    client.failing = {}
    await read_metadata(client)

    clock.now += 0.5
    with pytest.raises(UnknownTopicOrPartitionError, match="a moment ago"):
        await client.send(NODE, WRITE)
    assert client.written == []


async def test_a_broker_that_gives_no_cluster_id_has_its_topics_held_from_their_first_sight() -> None:
    client = Client([Connection()], LED_HERE)
    client.cluster_id = None  # Metadata before v2, or a broker that leaves it out
    clock = guarded(client)
    assert await client.send(NODE, WRITE)
    client.shown = {"tips": None}
    await read_all_metadata(client)
    client.shown = LED_HERE
    await read_all_metadata(client)

    clock.now += 0.5
    with pytest.raises(UnknownTopicOrPartitionError, match="a moment ago"):
        await client.send(NODE, WRITE)
    clock.now += SETTLING_SECONDS
    assert await client.send(NODE, WRITE)
    assert len(client.written) == 2


@pytest.mark.timeout(10)  # without the guard's check, its wait for an answer never ends
@pytest.mark.parametrize("unseen", ["_metadata_update", "update_metadata"])
async def test_a_write_fails_for_good_when_aiokafka_reads_metadata_the_guard_does_not_see(
    unseen: str,
) -> None:
    client = Client([Connection()], LED_HERE)
    guard = WritesOnlyWhereTheBrokerSays(client, Clock())
    if unseen == "_metadata_update":
        client._metadata_update = Client._metadata_update.__get__(client)  # type: ignore[method-assign]
    else:
        client.cluster.update_metadata = guard._update_cluster

    with pytest.raises(WriteGuardBlindError) as raised:
        await client.send(NODE, WRITE)
    assert not raised.value.retriable
    assert client.written == []


async def test_a_write_fails_for_good_when_aiokafka_stops_applying_answers_through_the_guard() -> None:
    first, second = Connection(), Connection()
    client = Client([first, second], LED_HERE)
    clock = guarded(client)
    assert await client.send(NODE, WRITE)
    client.cluster.update_metadata = guard_of(client)._update_cluster  # an aiokafka that goes around it
    first.open = False
    clock.now += 1

    with pytest.raises(WriteGuardBlindError):
        await client.send(NODE, WRITE)
    assert client.written == [first]
