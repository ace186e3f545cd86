"""Kafka clients configured the way the delivery guarantee needs them."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from dataclasses import dataclass
from typing import Any

import aiokafka.admin.client
import aiokafka.client
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaConnectionError, TopicAlreadyExistsError
from aiokafka.protocol.metadata import MetadataRequest
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


def create_producer(
    bootstrap_servers: str,
    client_id: str,
    enable_idempotence: bool,
    linger_ms: int = 0,
    security: KafkaSecurity = PLAINTEXT,
) -> AIOKafkaProducer:
    """Create a producer that waits for every in-sync replica before a send counts as done.

    No linger by default: the relay sends a whole claimed batch at once, so records batch anyway
    under load, and an urgent tip's three hops do not each wait for more.
    """
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap_servers,
        client_id=client_id,
        acks="all",
        enable_idempotence=enable_idempotence,
        linger_ms=linger_ms,
        request_timeout_ms=15_000,
        **security.client_options(),
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
