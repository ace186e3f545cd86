"""Reading what the services published, for the demo, the benchmark and the tests."""

from __future__ import annotations

import asyncio
import json
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition


@dataclass
class Published:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: dict[str, bytes]
    timestamp_ms: int

    def json(self) -> dict[str, Any]:
        return dict(json.loads(self.value))


@dataclass
class TopicReader:
    """Reads topics from the beginning, without a consumer group, so it commits nothing."""

    bootstrap_servers: str
    topics: tuple[str, ...]
    fetch_max_wait_ms: int = 5
    _consumer: AIOKafkaConsumer | None = field(default=None, init=False)

    async def __aenter__(self) -> TopicReader:
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap_servers,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            fetch_max_wait_ms=self.fetch_max_wait_ms,
        )
        await self._consumer.start()
        partitions = []
        for topic in self.topics:
            for number in sorted(await self._partitions(topic)):
                partitions.append(TopicPartition(topic, number))
        self._consumer.assign(partitions)
        await self._consumer.seek_to_beginning(*partitions)
        return self

    async def _partitions(self, topic: str) -> set[int]:
        assert self._consumer is not None
        for _ in range(100):
            found = self._consumer.partitions_for_topic(topic)
            if found:
                return set(found)
            await self._consumer.topics()
            await asyncio.sleep(0.05)
        raise LookupError(f"topic {topic} has no partitions")

    async def __aexit__(self, *_exc: object) -> None:
        if self._consumer is not None:
            await self._consumer.stop()

    async def read(self, timeout_ms: int = 100) -> list[Published]:
        assert self._consumer is not None
        batches = await self._consumer.getmany(timeout_ms=timeout_ms)
        return [
            Published(
                topic=record.topic,
                partition=record.partition,
                offset=record.offset,
                key=record.key,
                value=record.value or b"",
                headers={name: value for name, value in record.headers},
                timestamp_ms=record.timestamp,
            )
            for records in batches.values()
            for record in records
        ]

    async def collect_until(self, done: Any, timeout: float) -> list[Published]:
        """Read until ``done(all_records_so_far)`` is true or ``timeout`` seconds pass."""
        collected: list[Published] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            collected.extend(await self.read())
            if done(collected):
                break
        return collected


def by_tip(records: list[Published]) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """Group event payloads by tip id, then by topic."""
    grouped: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    for record in records:
        try:
            payload = record.json()
        except ValueError:
            continue
        tip_id = payload.get("tip_id")
        if isinstance(tip_id, str):
            grouped[tip_id][record.topic].append(payload)
    return grouped
