"""Real infrastructure for the tests: a Tansu broker per test and a fresh database per test.

The database server is the embedded one by default, or the server named by ``DATABASE_URL``.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from lantern.infra import EmbeddedPostgres, TansuBroker, drop_database, ensure_database
from schemas.topics import ALL_TOPICS
from services.common.kafka import ensure_topics
from services.common.sealing import KeyEncryptionKey
from services.common.settings import ServiceSettings


@pytest.fixture(scope="session")
def postgres_server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    configured = os.environ.get("DATABASE_URL")
    if configured:
        yield configured
        return
    server = EmbeddedPostgres(tmp_path_factory.mktemp("pg") / "data").start()
    try:
        yield server.url("postgres")
    finally:
        server.stop()


@pytest.fixture
async def database_url(postgres_server_url: str) -> AsyncIterator[str]:
    name = f"lantern_test_{uuid.uuid4().hex[:12]}"
    url = await ensure_database(postgres_server_url, name)
    try:
        yield url
    finally:
        await drop_database(postgres_server_url, name)


@pytest.fixture
async def kafka(tmp_path: Path) -> AsyncIterator[str]:
    broker = TansuBroker(log_path=tmp_path / "tansu.log").start()
    try:
        await ensure_topics(broker.bootstrap_servers, ALL_TOPICS)
        yield broker.bootstrap_servers
    finally:
        broker.stop()


@pytest.fixture
def settings(database_url: str, kafka: str) -> ServiceSettings:
    return ServiceSettings(
        DATABASE_URL=database_url,
        KAFKA_BOOTSTRAP_SERVERS=kafka,
        LANTERN_KAFKA_FETCH_MAX_WAIT_MS=5,
        LANTERN_KAFKA_SESSION_TIMEOUT_MS=3000,
        LANTERN_RETRY_BACKOFF_SECONDS=0.05,
        LANTERN_OUTBOX_POLL_SECONDS=0.5,
        LANTERN_HANDLER_MAX_ATTEMPTS=3,
        LANTERN_KEK=KeyEncryptionKey.generate_text(),
    )
