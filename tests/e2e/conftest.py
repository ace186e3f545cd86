"""The whole system as `make run` starts it: `lantern up` in a subprocess."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator

import pytest

from lantern.infra import drop_database, ensure_database
from lantern.launcher import LaunchedStack, launch
from services.common.roles import drop_roles, role_prefix


@pytest.fixture(scope="module")
def stack_environment(postgres_server_url: str) -> Iterator[dict[str, str]]:
    """`lantern up`'s environment: embedded PostgreSQL, or a fresh database on DATABASE_URL's server."""
    environment = {key: value for key, value in os.environ.items() if key != "KAFKA_BOOTSTRAP_SERVERS"}
    # Tansu holds a group's first join for half the session timeout: 3 s keeps starts quick and
    # still rides out a busy CI machine.
    environment.setdefault("LANTERN_KAFKA_SESSION_TIMEOUT_MS", "3000")
    if "DATABASE_URL" not in os.environ:
        yield environment
        return
    name = f"lantern_e2e_{uuid.uuid4().hex[:12]}"
    environment["DATABASE_URL"] = asyncio.run(ensure_database(postgres_server_url, name))
    yield environment
    asyncio.run(drop_database(postgres_server_url, name))
    # `lantern up` made the database's service roles; they are server-wide and would outlive it.
    asyncio.run(drop_roles(postgres_server_url, role_prefix(name)))


@pytest.fixture(scope="module")
def stack(
    tmp_path_factory: pytest.TempPathFactory, stack_environment: dict[str, str]
) -> Iterator[LaunchedStack]:
    running = launch(tmp_path_factory.mktemp("lantern") / ".lantern", stack_environment)
    try:
        yield running
    finally:
        running.stop()
