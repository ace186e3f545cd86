"""Real infrastructure for the tests: a Tansu broker per test and a fresh database per test.

The database server is the embedded one by default, or the server named by ``DATABASE_URL``.
Each test's database is a copy of a template that holds every service's migrations, made once per
session (per xdist worker). As in production, each service connects as its own role, which cannot
migrate: the session's roles are created with the template, granted there (so every copy holds the
grants too), and dropped at the end, after every database that names them.
"""

from __future__ import annotations

import asyncio
import gc
import os
import sys
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

import services
from lantern.infra import (
    EmbeddedPostgres,
    TansuBroker,
    create_database_from,
    drop_database,
    ensure_database,
)
from schemas.topics import ALL_TOPICS
from services.common.agency_keys import AgencyKeys
from services.common.db import apply_migrations, apply_shared_migrations, service_migrations
from services.common.kafka import ensure_topics
from services.common.roles import ServiceRoles, create_roles, drop_roles, grant_privileges
from services.common.sealing import KeyEncryptionKey
from services.common.settings import ServiceSettings
from services.disclosure.settings import DisclosureSettings, generate_key_text
from tests.keys import stack_keys

# Read from the folders rather than each app's SPEC, so that one service that does not import
# breaks only its own tests.
SERVICE_MIGRATIONS = {
    path.parent.name: path for path in sorted(Path(services.__file__).parent.glob("*/migrations"))
}
SERVICE_MIGRATIONS.pop("common", None)


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


async def create_migrated_database(
    server_url: str, name: str, roles: ServiceRoles, agency_keys: dict[str, AgencyKeys] | None = None
) -> None:
    database_url = await ensure_database(server_url, name)
    await apply_shared_migrations(database_url)
    for service, migrations in SERVICE_MIGRATIONS.items():
        await apply_migrations(database_url, service, service_migrations(migrations))
    await grant_privileges(database_url, roles)
    if agency_keys:
        from lantern.agency import register

        for keys in agency_keys.values():
            await register(database_url, keys.public)


@pytest.fixture(scope="session")
def service_roles(postgres_server_url: str) -> Iterator[ServiceRoles]:
    """The session's service roles (server-wide, so named apart from any other session's)."""
    roles = ServiceRoles.generate(f"lantern_roles_{uuid.uuid4().hex[:12]}")
    asyncio.run(create_roles(postgres_server_url, roles))
    try:
        yield roles
    finally:
        asyncio.run(drop_roles(postgres_server_url, roles.prefix))


@pytest.fixture(scope="session")
def agency_keys() -> dict[str, AgencyKeys]:
    """Every agency's private keys, as its liaison unit holds them; the test databases hold the
    public halves, so packages are sealed to these."""
    from services.disclosure.commands import agency_ids

    return {agency_id: AgencyKeys.generate(agency_id) for agency_id in agency_ids()}


@pytest.fixture(scope="session")
def template_database(
    postgres_server_url: str, service_roles: ServiceRoles, agency_keys: dict[str, AgencyKeys]
) -> Iterator[str]:
    """The name of a database holding every service's schema and the agencies' public keys, for each
    test's database to copy."""
    name = f"lantern_template_{uuid.uuid4().hex[:12]}"
    asyncio.run(create_migrated_database(postgres_server_url, name, service_roles, agency_keys))
    try:
        yield name
    finally:
        asyncio.run(drop_database(postgres_server_url, name))


@pytest.fixture
async def database_url(
    request: pytest.FixtureRequest, postgres_server_url: str, template_database: str
) -> AsyncIterator[str]:
    """The test's own database: a copy of the template, or empty for a test marked ``empty_database``."""
    name = f"lantern_test_{uuid.uuid4().hex[:12]}"
    if request.node.get_closest_marker("empty_database"):
        url = await ensure_database(postgres_server_url, name)
    else:
        url = await create_database_from(postgres_server_url, name, template_database)
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
def settings(database_url: str, kafka: str, service_roles: ServiceRoles, tmp_path: Path) -> ServiceSettings:
    """Settings for services run in the test's process: ``database_url`` is the owner's (for the
    test to look at any table); each service connects as its own role."""
    # Tansu holds a consumer group's first join for about half the session timeout, and every test
    # that starts a consuming service waits for that join: the setting's minimum keeps it short.
    # Disclosure's settings, which the other services read as their own: its audit key and witness.
    return DisclosureSettings(
        DATABASE_URL=database_url,
        LANTERN_SERVICE_DATABASE_URLS=service_roles.urls(database_url),
        KAFKA_BOOTSTRAP_SERVERS=kafka,
        LANTERN_KAFKA_FETCH_MAX_WAIT_MS=5,
        LANTERN_KAFKA_SESSION_TIMEOUT_MS=1000,
        LANTERN_RETRY_BACKOFF_SECONDS=0.05,
        LANTERN_OUTBOX_POLL_SECONDS=0.5,
        LANTERN_HANDLER_MAX_ATTEMPTS=3,
        LANTERN_KEK=KeyEncryptionKey.generate_text(),
        LANTERN_AUDIT_KEY=generate_key_text(),
        LANTERN_AUDIT_WITNESS_FILE=tmp_path / "audit-witness.jsonl",
        **stack_keys().settings_fields(),
    )


# Seconds before pytest-timeout's limit at which a test still running prints its event loop's tasks.
TASKS_PRINTED_BEFORE_TIMEOUT = 10


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """A test about to time out prints every asyncio task's await chain.

    pytest-timeout shows the threads' stacks, and an event loop that waits for an await which never
    completes shows as an idle ``select``: the tasks' own stacks say which await it was.
    """
    marker = item.get_closest_marker("timeout")
    limit = float(marker.args[0]) if marker and marker.args else float(item.config.getini("timeout") or 0)
    timer = None
    if limit > TASKS_PRINTED_BEFORE_TIMEOUT:
        timer = threading.Timer(limit - TASKS_PRINTED_BEFORE_TIMEOUT, _print_running_loops_tasks)
        timer.daemon = True
        timer.start()
    try:
        yield
    finally:
        if timer is not None:
            timer.cancel()


def _print_running_loops_tasks() -> None:
    for loop in (o for o in gc.get_objects() if isinstance(o, asyncio.AbstractEventLoop)):
        if loop.is_running():
            loop.call_soon_threadsafe(_print_tasks)


def _print_tasks() -> None:
    print("~~~~~~~~~~ asyncio tasks of a test about to time out ~~~~~~~~~~", file=sys.stderr)
    for task in asyncio.all_tasks():
        print(f"task {task.get_name()}:", file=sys.stderr)
        for line in _await_chain(task.get_coro()):
            print(f"  {line}", file=sys.stderr)


def _await_chain(awaitable: object) -> Iterator[str]:
    """Where each coroutine in the chain that ``awaitable`` waits on is suspended, outermost first
    (a task's own stack shows only its outermost frame)."""
    while awaitable is not None:
        frame = next(
            (
                getattr(awaitable, name)
                for name in ("cr_frame", "ag_frame", "gi_frame")
                if hasattr(awaitable, name)
            ),
            None,
        )
        if frame is None:
            yield repr(awaitable)[:200]
            return
        yield f"{frame.f_code.co_filename}:{frame.f_lineno} in {frame.f_code.co_name}"
        awaitable = next(
            (
                getattr(awaitable, name)
                for name in ("cr_await", "ag_await", "gi_yieldfrom")
                if hasattr(awaitable, name)
            ),
            None,
        )
