"""Kafka clients configured the way the delivery guarantee needs them."""

from __future__ import annotations

import asyncio
import contextlib

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaConnectionError, TopicAlreadyExistsError

from services.common.logging import get_logger

log = get_logger(__name__)


def create_producer(
    bootstrap_servers: str, client_id: str, enable_idempotence: bool, linger_ms: int = 0
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
    )


async def ensure_topics(
    bootstrap_servers: str, names: tuple[str, ...], partitions: int = 3, replication: int = 1
) -> list[str]:
    """Create whichever of ``names`` do not exist yet; return the ones created."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, client_id="lantern-admin")
    await _start_with_retry(admin)
    try:
        existing = set(await admin.list_topics())
        missing = [name for name in names if name not in existing]
        if missing:
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics(
                    [
                        NewTopic(name, num_partitions=partitions, replication_factor=replication)
                        for name in missing
                    ]
                )
            for name in missing:
                log.info("topic created", topic=name, count=partitions)
        return missing
    finally:
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
