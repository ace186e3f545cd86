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
    KafkaConnectionError,
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


SETTLING_SECONDS = 1.0
"""How long a topic a broker has just shown is written to by no producer here. Tansu 0.6 makes a topic
in two steps: it stores the topic (from then on its metadata names it), then sets each partition's
offsets back to nothing, one partition after another (``DynoStore::create_topic``). A record written
in between takes offset 0 and the reset puts the next record on offset 0 again, over it. The steps
take microseconds with an idle CPU, but nothing stops the OS from pausing the thread between them on a
loaded machine (2 cores, load 10 and more in the fault runs): a second is many times any such pause,
and short beside aiokafka's request timeout (15 s), inside which a held record is retried."""


class WritesOnlyWhereTheBrokerSays:
    """A producer's records go over a broker connection only once a metadata answer asked for after
    that connection opened names every partition they are for, led by that broker, and only to a
    topic that broker has shown for ``SETTLING_SECONDS``.

    aiokafka sends what it holds with the metadata it holds: a send retried after the broker went
    away, or the first one after it, goes to whatever now listens at the address, before any
    metadata answer from it. Tansu takes records for a topic it does not have, acknowledges them,
    and when the topic is made a moment later starts its partitions' offsets again from 0 under
    them: the next records collide with them (refused, ``UnknownServerError``) or land inside
    their offsets, where no reader ever sees them (issue 18: acknowledged, marked sent, and read by
    nobody). Held here, such records wait for the topic (aiokafka retries them until its request
    timeout), and go only once it exists.

    A topic counts as just made, and is held, in the first ``SETTLING_SECONDS`` of a broker
    incarnation (its cluster id, which Tansu draws anew at each start: its topics are all new) and
    after an answer names it that follows one that did not (made again after it went away). A topic
    first asked about later in an incarnation is not held, nor is one it kept naming: on a steady
    broker nothing waits. The aiokafka internals it leans on are those of the pinned 0.14.0;
    ``tests/integration/test_writes_after_a_broker_wipe.py`` drives them against Tansu.
    """

    def __init__(self, client: AIOKafkaClient, clock: Callable[[], float] = time.monotonic) -> None:
        self._client = client
        self._clock = clock
        self._send = client.send
        self._update = client._metadata_update
        self._update_cluster = client.cluster.update_metadata
        self._checked: weakref.WeakSet[Any] = weakref.WeakSet()
        self._asked_at = float("-inf")
        """When the metadata request last answered was sent."""
        self._incarnation: object = _NOT_YET
        self._met_at = float("-inf")
        """When an answer from this incarnation first arrived."""
        self._unnamed: set[str] = set()
        self._named_again_at: dict[str, float] = {}
        client.send = self.send
        client._metadata_update = self._metadata_update
        client.cluster.update_metadata = self._learn

    async def _metadata_update(self, cluster: ClusterMetadata, topics: Any) -> bool:
        asked_at = self._clock()
        updated: bool = await self._update(cluster, topics)
        if updated and cluster is self._client.cluster:
            self._asked_at = max(self._asked_at, asked_at)
        return updated

    def _learn(self, answer: Any) -> None:
        """Apply a metadata answer and note which topics it shows for the first time since they were
        made (every answer reaches the client's cluster through here, its first one included)."""
        self._update_cluster(answer)
        if not answer.brokers:
            return  # aiokafka ignores such an answer
        now = self._clock()
        incarnation = getattr(answer, "cluster_id", None)  # Metadata v2 and later
        if incarnation != self._incarnation:
            self._incarnation, self._met_at = incarnation, now
            self._unnamed.clear()
            self._named_again_at.clear()
        for error_code, topic, *_ in answer.topics:
            if error_code != 0:
                self._unnamed.add(topic)
                self._named_again_at.pop(topic, None)
            elif topic in self._unnamed:
                self._unnamed.discard(topic)
                self._named_again_at[topic] = now

    def _settled(self, topic: str, now: float) -> bool:
        shown_at = max(self._met_at, self._named_again_at.get(topic, float("-inf")))
        return now - shown_at >= SETTLING_SECONDS

    async def send(
        self, node_id: Any, request: Any, *, group: ConnectionGroup = ConnectionGroup.DEFAULT
    ) -> Any:
        if isinstance(request, ProduceRequest):
            await self._check(node_id, request, group)
        return await self._send(node_id, request, group=group)

    async def _check(self, node_id: Any, request: ProduceRequest, group: ConnectionGroup) -> None:
        """Raise an error aiokafka retries (after reading metadata again) unless the broker behind
        the connection aiokafka's send is about to use named every partition of ``request``, and
        every topic of it has settled.

        Nothing yields to the event loop between the last check here and aiokafka's send, so that
        send takes the connection checked: a connection not made (the broker was down an instant
        ago) or closed meanwhile is not left for it to make again unchecked."""
        connection = await self._client._get_conn(node_id, group=group)
        if connection is None:
            raise NodeNotReadyError(f"no connection to node {node_id}")
        if connection not in self._checked:
            opened_by = self._clock()
            while self._asked_at < opened_by:
                if not await self._client.force_metadata_update():
                    raise KafkaConnectionError("no metadata from the broker since connecting")
            cluster = self._client.cluster
            for topic, partitions in request._topics:
                for partition, _records in partitions:
                    if cluster.leader_for_partition(TopicPartition(topic, partition)) != node_id:
                        raise UnknownTopicOrPartitionError(f"{topic} {partition} not on this broker")
            self._checked.add(connection)
        if self._client._conns.get((node_id, group)) is not connection or not connection.connected():
            raise KafkaConnectionError("the connection checked closed meanwhile")
        now = self._clock()
        for topic, _partitions in request._topics:
            if not self._settled(topic, now):
                raise UnknownTopicOrPartitionError(f"{topic} shown by the broker a moment ago")


def writes_only_where_the_broker_says(producer: AIOKafkaProducer) -> AIOKafkaProducer:
    """``producer``, its writes held as ``WritesOnlyWhereTheBrokerSays`` says (before its start)."""
    WritesOnlyWhereTheBrokerSays(producer.client)
    return producer


def create_producer(
    bootstrap_servers: str,
    client_id: str,
    enable_idempotence: bool,
    linger_ms: int = 0,
    security: KafkaSecurity = PLAINTEXT,
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
        )
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
