"""Counting what waits on the dead-letter topics, for the console: a broker read, no consumer group."""

from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaConsumer, TopicPartition

from schemas.topics import CONSUMED_TOPICS, dead_letter_topic
from services.common.kafka import KafkaSecurity
from services.common.logging import get_logger

log = get_logger(__name__)
DEAD_LETTER_TOPICS = tuple(dead_letter_topic(topic) for topic in CONSUMED_TOPICS)


class DeadLetterCounts:
    """How many messages each dead-letter topic holds, refreshed in the background."""

    def __init__(self) -> None:
        self.by_topic: dict[str, int] = {}

    async def watch(
        self, bootstrap_servers: str, security: KafkaSecurity, every_seconds: float = 10.0
    ) -> None:
        # Offsets only (Describe on each dead-letter topic): monitoring never reads a dead letter.
        consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap_servers, enable_auto_commit=False, **security.client_options()
        )
        await consumer.start()
        try:
            while True:
                try:
                    await consumer.topics()
                    partitions = [
                        TopicPartition(topic, number)
                        for topic in DEAD_LETTER_TOPICS
                        for number in sorted(consumer.partitions_for_topic(topic) or ())
                    ]
                    ends = await consumer.end_offsets(partitions)
                    starts = await consumer.beginning_offsets(partitions)
                    counts: dict[str, int] = {}
                    for partition in partitions:
                        counts[partition.topic] = (
                            counts.get(partition.topic, 0) + ends[partition] - starts[partition]
                        )
                    self.by_topic = counts
                except asyncio.CancelledError:
                    raise
                except Exception as error:
                    log.warning("dead letters not counted", error_type=type(error).__name__)
                await asyncio.sleep(every_seconds)
        finally:
            await consumer.stop()
