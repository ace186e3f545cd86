"""Kafka clients configured the way the delivery guarantee needs them."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiokafka.admin.client
import aiokafka.client
from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.client import AIOKafkaClient, ConnectionGroup
from aiokafka.cluster import ClusterMetadata
from aiokafka.errors import (
    IncompatibleBrokerVersion,
    KafkaConnectionError,
    KafkaError,
    NodeNotReadyError,
    TopicAlreadyExistsError,
    UnknownTopicOrPartitionError,
)
from aiokafka.protocol.metadata import MetadataRequest
from aiokafka.protocol.produce import ProduceRequest
from faststream.kafka.security import parse_security
from faststream.security import BaseSecurity, SASLPlaintext, SASLScram256, SASLScram512

from schemas.topics import settings_of
from services.common.logging import get_logger
from services.common.settings import KafkaClientSettings

log = get_logger(__name__)
_SASL = {"SCRAM-SHA-512": SASLScram512, "SCRAM-SHA-256": SASLScram256, "PLAIN": SASLPlaintext}


class _NoTopicCreatedByMetadata(MetadataRequest):  # type: ignore[misc]
    """A metadata request that never makes the topics it names. By default every client's request
    (a consumer's subscription, a producer's first send) makes a missing topic with the broker's
    defaults: after a broker wipe, Tansu's 4 partitions and default settings instead of the declared
    ones, kept for good since ``ensure_topics`` leaves existing topics alone. aiokafka 0.14 sends
    ``allow_auto_topic_creation`` (Metadata v4+) but offers no setting for it, hence this."""

    def __init__(self, topics: list[str] | None = None, allow_auto_topic_creation: bool | None = None):
        super().__init__(topics, allow_auto_topic_creation=False)


aiokafka.client.MetadataRequest = _NoTopicCreatedByMetadata
aiokafka.admin.client.MetadataRequest = _NoTopicCreatedByMetadata


class KafkaSecurityError(Exception):
    """The Kafka credentials are configured but cannot be read."""


@dataclass(frozen=True)
class KafkaSecurity:
    """One client's transport security and SASL identity, for aiokafka and FastStream alike."""

    security: BaseSecurity | None = None

    @classmethod
    def of(cls, settings: KafkaClientSettings) -> KafkaSecurity:
        protocol = settings.kafka_security_protocol
        if protocol == "PLAINTEXT":
            return cls()
        context = None
        if protocol.endswith("SSL"):
            cafile = str(settings.kafka_ca_file) if settings.kafka_ca_file else None
            context = ssl.create_default_context(cafile=cafile)
        if not protocol.startswith("SASL_"):
            return cls(BaseSecurity(ssl_context=context))
        assert settings.kafka_username and settings.kafka_password_file  # the settings check both
        try:
            password = settings.kafka_password_file.read_text().strip()
        except OSError:
            raise KafkaSecurityError("LANTERN_KAFKA_PASSWORD_FILE cannot be read") from None
        sasl = _SASL[settings.kafka_sasl_mechanism]
        return cls(sasl(settings.kafka_username, password, ssl_context=context))

    def client_options(self) -> dict[str, Any]:
        """Keyword arguments for an aiokafka producer, consumer or admin client."""
        return parse_security(self.security)


PLAINTEXT = KafkaSecurity()
_NOT_YET = object()
_ABSENT = {3, 5}
"""Error codes a metadata answer gives a topic the broker does not have (UNKNOWN_TOPIC_OR_PARTITION)
or has not yet set up (LEADER_NOT_AVAILABLE). Any other error (Tansu answers -1 when reading a topic
it has fails; an authorization error) says nothing of whether the topic is there."""


TANSU_SETTLING_SECONDS = 1.0
"""How long a topic a Tansu broker has just shown is written to by no producer here
(``LANTERN_KAFKA_SETTLING_SECONDS``, which ``lantern up`` sets to this). Tansu 0.6 makes a topic in
two steps: it stores the topic (from then on its metadata names it), then sets each partition's
offsets back to nothing, one partition after another (``DynoStore::create_topic``). A record written
in between takes offset 0 and the reset puts the next record on offset 0 again, over it. The steps
take microseconds with an idle CPU, but nothing stops the OS from pausing the thread between them on a
loaded machine (2 cores, load 10 and more in the fault runs): a second is many times any such pause,
and short beside aiokafka's request timeout (15 s), inside which a held record is retried. Apache
Kafka makes a partition's log before it publishes a leader for it, so it needs no hold (0, the
default): a hold there would delay the first write to each topic after every producer start, since
aiokafka's bootstrap request names no topic and each topic is first seen at its first write."""


class WriteGuardBlindError(KafkaError):  # type: ignore[misc]
    """The write guard has seen no metadata answer though aiokafka read metadata: aiokafka no longer
    goes through the methods the guard wraps (an upgrade past 0.14.0), and the guard would hold
    nothing. Not retried: the write fails rather than go unguarded."""

    retriable = False


class WritesOnlyWhereTheBrokerSays:
    """A producer's records go over a broker connection only once a metadata answer asked for after
    that connection opened names every partition they are for, led by that broker, and only to a
    topic that broker has shown for ``settling_seconds`` (``TANSU_SETTLING_SECONDS``).

    aiokafka sends what it holds with the metadata it holds: a send retried after the broker went
    away, or the first one after it, goes to whatever now listens at the address, before any
    metadata answer from it. Tansu takes records for a topic it does not have, acknowledges them,
    and when the topic is made a moment later starts its partitions' offsets again from 0 under
    them: the next records collide with them (refused, ``UnknownServerError``) or land inside
    their offsets, where no reader ever sees them (issue 18: acknowledged, marked sent, and read by
    nobody). Held here, such records wait for the topic (aiokafka retries them until its request
    timeout), and go only once it exists.

    Each topic is held for ``settling_seconds`` (none by default) from its first sight: the first
    answer from a broker incarnation (its cluster id) that names it without error after the last
    that did not, by listing it with error 3 or 5 or by leaving it out, whatever was asked (Tansu
    answers aiokafka's bootstrap request, which names no topic, with every topic, so aiokafka then
    asks for all topics and a missing one is left out; once aiokafka adds a topic it asks for its
    own subset for good). Other errors change nothing. A topic a broker keeps naming never waits
    again. Only the held topics' partitions wait: the rest of a produce request goes, and the held
    ones get a retriable error as if the broker had answered it. The aiokafka internals it leans on
    are those of the pinned 0.14.0; a guard that sees no answer fails the write
    (``WriteGuardBlindError``), and ``tests/integration/test_writes_after_a_broker_wipe.py`` drives
    them against Tansu.
    """

    def __init__(
        self,
        client: AIOKafkaClient,
        clock: Callable[[], float] = time.monotonic,
        settling_seconds: float = 0.0,
    ) -> None:
        self._client = client
        self._clock = clock
        self._settling_seconds = settling_seconds
        self._send = client.send
        self._update = client._metadata_update
        self._update_cluster = client.cluster.update_metadata
        self._checked: weakref.WeakSet[Any] = weakref.WeakSet()
        self._asked_at = float("-inf")
        """When the metadata request last answered was sent."""
        self._learned = 0
        """How many metadata answers the guard has seen applied to the client's cluster."""
        self._incarnation: object = _NOT_YET
        self._first_sight: dict[str, float] = {}
        self.held = 0
        """How many partitions' writes were held for a topic not yet settled."""
        self._add_topic = client.add_topic
        client.send = self.send
        client.add_topic = self.add_topic
        client._metadata_update = self._metadata_update
        client.cluster.update_metadata = self._learn
        client.write_guard = self

    async def _metadata_update(self, cluster: ClusterMetadata, topics: Any) -> bool:
        asked_at = self._clock()
        updated: bool = await self._update(cluster, topics)
        if updated and cluster is self._client.cluster:
            self._asked_at = max(self._asked_at, asked_at)
        return updated

    def add_topic(self, topic: str) -> Any:
        """aiokafka's ``add_topic``, which first puts every topic the cluster knows on the list of
        topics aiokafka asks about. Its first call switches aiokafka from asking for all topics to
        asking for that list: a topic known only from an answer for all would be left out of the
        next answer, and a batch queued for it would wait for the request timeout (15 s)."""
        self._client._topics.update(self._client.cluster.topics())
        return self._add_topic(topic)

    def _learn(self, answer: Any) -> None:
        """Apply a metadata answer and note each topic's first sight (every answer reaches the
        client's cluster through here, the bootstrap one included)."""
        self._update_cluster(answer)
        self._learned += 1
        if not answer.brokers:
            return  # aiokafka ignores such an answer
        now = self._clock()
        incarnation = getattr(answer, "cluster_id", None)  # Metadata v2 and later
        if incarnation != self._incarnation:
            self._incarnation = incarnation
            self._first_sight.clear()
        kept = set()
        for error_code, topic, *_ in answer.topics:
            if error_code == 0:
                self._first_sight.setdefault(topic, now)
            if error_code not in _ABSENT:
                kept.add(topic)
        # As aiokafka's cluster replaces its map with each answer, whatever was asked: a topic left
        # out (not asked for, or missing from an answer for all) is seen afresh when next named.
        for topic in self._first_sight.keys() - kept:
            del self._first_sight[topic]

    @property
    def incarnation(self) -> object:
        """The cluster id of the broker's last answer (None: it gave none)."""
        return self._incarnation

    def first_sight(self, topic: str) -> float | None:
        """When the broker's answers last began to name ``topic`` (None: not named now)."""
        return self._first_sight.get(topic)

    def _settled(self, topic: str, now: float) -> bool:
        shown_at = self._first_sight.get(topic)
        return shown_at is not None and now - shown_at >= self._settling_seconds

    async def send(
        self, node_id: Any, request: Any, *, group: ConnectionGroup = ConnectionGroup.DEFAULT
    ) -> Any:
        if not isinstance(request, ProduceRequest):
            return await self._send(node_id, request, group=group)
        connection = await self._check(node_id, request, group)
        now = self._clock()
        held = [(topic, partitions) for topic, partitions in request._topics if not self._settled(topic, now)]
        if not held:
            return await self._send(node_id, request, group=group)
        self.held += sum(len(partitions) for _topic, partitions in held)
        settled = [(topic, partitions) for topic, partitions in request._topics if self._settled(topic, now)]
        if (
            not settled
            or request.required_acks == 0  # aiokafka reads no answer per partition
            or _partition_fields(_answer_type(request, connection)) is None
        ):
            raise UnknownTopicOrPartitionError(f"{held[0][0]} shown by the broker a moment ago")
        response = await self._send(node_id, _narrowed(request, settled), group=group)
        fields = _partition_fields(type(response))
        if fields is None:
            raise WriteGuardBlindError("a produce answer unlike the one its request's version gives")
        response.topics = [*response.topics, *_not_yet_there(held, fields)]
        return response

    async def _check(self, node_id: Any, request: ProduceRequest, group: ConnectionGroup) -> Any:
        """Raise an error aiokafka retries (after reading metadata again) unless the broker behind
        the connection aiokafka's send is about to use named every partition of ``request``; raise
        one it does not retry if the guard sees none of the metadata answers aiokafka reads.

        Nothing yields to the event loop between the last check here and aiokafka's send, so that
        send takes the connection checked: a connection not made (the broker was down an instant
        ago) or closed meanwhile is not left for it to make again unchecked."""
        connection = await self._client._get_conn(node_id, group=group)
        if connection is None:
            raise NodeNotReadyError(f"no connection to node {node_id}")
        if connection not in self._checked:
            opened_by = self._clock()
            while self._asked_at < opened_by:
                learned = self._learned
                if not await self._client.force_metadata_update():
                    raise KafkaConnectionError("no metadata from the broker since connecting")
                if self._learned == learned or self._asked_at == float("-inf"):
                    raise WriteGuardBlindError("aiokafka read metadata the write guard did not see")
            cluster = self._client.cluster
            for topic, partitions in request._topics:
                for partition, _records in partitions:
                    if cluster.leader_for_partition(TopicPartition(topic, partition)) != node_id:
                        raise UnknownTopicOrPartitionError(f"{topic} {partition} not on this broker")
            self._checked.add(connection)
        if self._client._conns.get((node_id, group)) is not connection or not connection.connected():
            raise KafkaConnectionError("the connection checked closed meanwhile")
        return connection


def _narrowed(request: ProduceRequest, topics: list[Any]) -> ProduceRequest:
    return ProduceRequest(
        transactional_id=request._transactional_id,
        required_acks=request.required_acks,
        timeout=request._timeout,
        topics=topics,
    )


def _answer_type(request: ProduceRequest, connection: Any) -> type[Any] | None:
    """The ProduceResponse class of the version aiokafka will send ``request`` in over
    ``connection`` (None: no version it can send)."""
    try:
        return request.prepare(connection._versions).RESPONSE_TYPE  # type: ignore[no-any-return]
    except (IncompatibleBrokerVersion, NotImplementedError):
        return None


_NOT_THERE = {
    "error_code": UnknownTopicOrPartitionError.errno,
    "offset": -1,
    "timestamp": -1,
    "log_start_offset": -1,
    "record_errors": [],
    "error_message": None,
}
"""What a broker without the topic answers for a partition, field by field."""


def _partition_fields(answer_type: type[Any] | None) -> tuple[str, ...] | None:
    """The names of a partition's fields in ``answer_type``'s answers, read from its schema; None
    if its shape is not one a partition's answer can be made up in (a version past those aiokafka
    0.14 knows): the whole request is then held rather than answered in a shape guessed."""
    if answer_type is None:
        return None
    try:
        topics = answer_type.SCHEMA.fields[answer_type.SCHEMA.names.index("topics")].array_of
        partitions = topics.fields[topics.names.index("partitions")].array_of
        names = tuple(partitions.names)
    except (AttributeError, ValueError):
        return None
    if tuple(topics.names) != ("topic", "partitions") or names[:1] != ("partition",):
        return None
    return names if set(names[1:]) <= _NOT_THERE.keys() else None


def _not_yet_there(held: list[Any], fields: tuple[str, ...]) -> list[Any]:
    """The held partitions' answers, as a broker without the topic would give them: error 3, which
    aiokafka retries after reading metadata again, for those batches only."""
    return [
        (
            topic,
            [(partition, *(_NOT_THERE[name] for name in fields[1:])) for partition, _records in partitions],
        )
        for topic, partitions in held
    ]


def writes_only_where_the_broker_says(
    producer: AIOKafkaProducer, settling_seconds: float = 0.0
) -> AIOKafkaProducer:
    """``producer``, its writes held as ``WritesOnlyWhereTheBrokerSays`` says (before its start)."""
    WritesOnlyWhereTheBrokerSays(producer.client, settling_seconds=settling_seconds)
    return producer


def write_guard_of(producer: AIOKafkaProducer) -> WritesOnlyWhereTheBrokerSays:
    guard: WritesOnlyWhereTheBrokerSays = producer.client.write_guard
    return guard


def create_producer(
    bootstrap_servers: str,
    client_id: str,
    enable_idempotence: bool,
    linger_ms: int = 0,
    security: KafkaSecurity = PLAINTEXT,
    settling_seconds: float = 0.0,
) -> AIOKafkaProducer:
    """Create a producer that waits for every in-sync replica before a send counts as done, and
    writes only to partitions the broker it reaches has named (``WritesOnlyWhereTheBrokerSays``).

    No linger by default: the relay sends a whole claimed batch at once, so records batch anyway
    under load, and an urgent tip's three hops do not each wait for more.
    """
    return writes_only_where_the_broker_says(
        AIOKafkaProducer(
            bootstrap_servers=bootstrap_servers,
            client_id=client_id,
            acks="all",
            enable_idempotence=enable_idempotence,
            linger_ms=linger_ms,
            request_timeout_ms=15_000,
            **security.client_options(),
        ),
        settling_seconds,
    )


async def ensure_topics(
    bootstrap_servers: str,
    names: tuple[str, ...],
    replication: int = 1,
    security: KafkaSecurity = PLAINTEXT,
) -> list[str]:
    """Create whichever of ``names`` do not exist yet, each with its settings (``schemas.topics``);
    return the ones created. Existing topics are left as they are (``lantern deploy topics`` aligns
    their configuration).
    """
    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap_servers, client_id="lantern-admin", **security.client_options()
    )
    await _start_with_retry(admin)
    try:
        existing = set(await admin.list_topics())
        missing = [name for name in names if name not in existing]
        if missing:
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics([new_topic(name, replication) for name in missing])
            for name in missing:
                log.info("topic created", topic=name, count=settings_of(name).partitions)
        return missing
    finally:
        await admin.close()


def new_topic(name: str, replication: int) -> NewTopic:
    """``name`` as its settings say, on a cluster that keeps ``replication`` copies."""
    settings = settings_of(name)
    return NewTopic(
        name,
        num_partitions=settings.partitions,
        replication_factor=replication,
        topic_configs=settings.configs(replication),
    )


class ClusterIdentity:
    """Reads the broker's cluster id, keeping one admin client open between reads."""

    def __init__(self, bootstrap_servers: str, security: KafkaSecurity = PLAINTEXT) -> None:
        self.bootstrap_servers = bootstrap_servers
        self.security = security
        self._admin: AIOKafkaAdminClient | None = None

    async def __call__(self) -> str | None:
        """The cluster id, or None from a broker too old to say; raises while the broker is out of reach."""
        try:
            if self._admin is None:
                admin = AIOKafkaAdminClient(
                    bootstrap_servers=self.bootstrap_servers,
                    client_id="lantern-epoch",
                    **self.security.client_options(),
                )
                await admin.start()
                self._admin = admin
            described = await self._admin.describe_cluster()
        except BaseException:
            await self.close()
            raise
        cluster_id = described.get("cluster_id")
        return str(cluster_id) if cluster_id else None

    async def close(self) -> None:
        admin, self._admin = self._admin, None
        if admin is not None:
            with contextlib.suppress(Exception):
                await admin.close()


async def _start_with_retry(admin: AIOKafkaAdminClient, attempts: int = 50) -> None:
    for attempt in range(1, attempts + 1):
        try:
            await admin.start()
            return
        except KafkaConnectionError:
            if attempt == attempts:
                raise
            await asyncio.sleep(0.2)
