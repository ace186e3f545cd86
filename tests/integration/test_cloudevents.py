"""Every message carries CloudEvents' Kafka binding, read here by librdkafka (confluent-kafka), not aiokafka."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import datetime
from typing import Any

from cloudevents.v1.kafka import KafkaMessage, from_binary
from cloudevents.v1.pydantic import CloudEvent
from confluent_kafka import Consumer, KafkaError

from schemas import cloudevents, topics
from services.common.settings import ServiceSettings
from services.common.signing import SIGNATURE_HEADER, SIGNER_HEADER
from services.intake.app import build_app
from tests.factories import tip_body
from tests.helpers import http_client, running


def read_with_librdkafka(bootstrap: str, topic: str, wanted: int, timeout: float = 30) -> list[Any]:
    """The first ``wanted`` records of ``topic``, fetched by librdkafka."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"cloudevents-{uuid.uuid4()}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
            "api.version.request": True,
        }
    )
    records: list[Any] = []
    try:
        consumer.subscribe([topic])
        deadline = time.monotonic() + timeout
        while len(records) < wanted and time.monotonic() < deadline:
            record = consumer.poll(0.5)
            if record is None:
                continue
            if record.error() is not None:
                assert record.error().code() == KafkaError._PARTITION_EOF, record.error()
                continue
            records.append(record)
    finally:
        consumer.close()
    return records


def as_cloud_event(record: Any) -> tuple[CloudEvent, dict[str, bytes]]:
    headers = dict(record.headers() or [])
    message = KafkaMessage(headers=headers, key=record.key(), value=record.value())
    return from_binary(message, CloudEvent), headers


async def test_a_published_tip_reads_as_a_cloud_event_mapped_from_its_envelope(
    settings: ServiceSettings,
) -> None:
    app = build_app(settings)
    bootstrap = settings.kafka_bootstrap_servers
    async with running(app), http_client(app) as client:
        answer = await client.post("/v1/tips", json=tip_body())
        assert answer.status_code == 202, answer.text
        # Read while intake runs: its relay publishes the outbox after the answer, not before.
        received = await asyncio.to_thread(read_with_librdkafka, bootstrap, topics.TIPS_RECEIVED, 1)
        consent = await asyncio.to_thread(read_with_librdkafka, bootstrap, topics.CONSENTS, 1)
    tip_id = answer.json()["tip_id"]
    for [record] in (received, consent):
        event, headers = as_cloud_event(record)
        assert set(cloudevents.REQUIRED) <= set(headers)
        assert {SIGNER_HEADER, SIGNATURE_HEADER} <= set(headers), "the signature headers are kept"
        payload = json.loads(record.value())
        assert event.specversion == "1.0"
        assert event.id == payload["event_id"]
        assert event.source == "/lantern/intake"
        assert event.type == payload["event_type"]
        assert event.time == datetime.fromisoformat(payload["occurred_at"])
        assert event.subject == tip_id == payload["tip_id"]
        assert event.datacontenttype == "application/json"
        assert event.dataschema == f"urn:lantern:schema:{payload['event_type']}.v{payload['schema_version']}"
        assert event.data == payload
    assert {as_cloud_event(record)[0].type for record in (*received, *consent)} == {
        "tip.received",
        "consent.recorded",
    }
