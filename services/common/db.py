"""PostgreSQL access: one pool per service, confined to the service's own schema, and migrations."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import asyncpg

from services.common.logging import get_logger

COMMON_MIGRATIONS = Path(__file__).parent / "migrations"
KEYS_SCHEMA = "keys"
AUTH_SCHEMA = "auth"
RETENTION_SCHEMA = "retention"
SHARED_SCHEMAS: dict[str, list[tuple[str, Path]]] = {
    KEYS_SCHEMA: [("keys", COMMON_MIGRATIONS / "keys")],
    AUTH_SCHEMA: [("auth", COMMON_MIGRATIONS / "auth")],
    RETENTION_SCHEMA: [("retention", COMMON_MIGRATIONS / "retention")],
}


async def apply_shared_migrations(database_url: str) -> None:
    """Create or update the schemas the runtime shares: sealed-data keys, staff tokens, legal holds."""
    for schema, directories in SHARED_SCHEMAS.items():
        await apply_migrations(database_url, schema, directories)


log = get_logger(__name__)

# A batch transaction its consumer abandoned (a process hung or frozen, a connection lost on the
# way) would hold its inbox rows and its tip's advisory lock for ever: the consumer sets this in its
# batch's transaction only (``set_config(..., true)``, as ``SET LOCAL``, inside the batch's first
# statement: its claim of new events, or the lock of its held events' tips; a batch is bounded at
# 30 s by default). Not pool-wide: the relay holds its claim
# transaction while it waits on the broker, and a slow broker would have the session killed before
# the rows were marked sent, sending them again every round.
IDLE_IN_TRANSACTION_TIMEOUT_MS = 60_000


async def _init_connection(connection: asyncpg.Connection) -> None:
    for kind in ("json", "jsonb"):
        await connection.set_type_codec(kind, encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def _keep_session(_connection: asyncpg.Connection) -> None:
    """Nothing to reset: pool connections never change session state (no session locks, LISTEN,
    cursors or SET), and asyncpg still rolls back an open transaction. The default reset costs a
    round trip on every release, the most frequent one this runtime makes."""


# What a server that is down, starting, restarting or recovering answers to a new connection.
DATABASE_NOT_YET_REACHABLE = (OSError, TimeoutError, asyncpg.CannotConnectNowError)
LONGEST_WAIT_BETWEEN_TRIES_SECONDS = 5.0


async def create_pool(
    database_url: str,
    schema: str,
    max_size: int = 10,
    application: str | None = None,
    *,
    patience_seconds: float = 0.0,
) -> asyncpg.Pool:
    """Open a pool whose connections see the service's schema first, named ``lantern-<application>``
    (the schema's name unless said) in ``pg_stat_activity``.

    A server that cannot be reached yet is tried again, with a growing pause, for up to
    ``patience_seconds``: a service started while PostgreSQL is down or still recovering (a restart
    under ``lantern up``, a failover) waits for it instead of exiting and waiting for its supervisor
    to start it again, which at a loaded machine's start-up took a minute (issue 18)."""
    give_up_at = time.monotonic() + patience_seconds
    pause = 0.25
    tries = 1
    while True:
        try:
            return await _open_pool(database_url, schema, max_size, application)
        except DATABASE_NOT_YET_REACHABLE as error:
            if time.monotonic() + pause > give_up_at:
                raise
            # The class only: a connection error's text names the server, and nothing here needs it.
            log.warning("database not reachable yet; trying again", schema=schema, tries=tries,
                        error=type(error).__name__, again_in_seconds=pause)  # fmt: skip
            await asyncio.sleep(pause)
            pause = min(pause * 2, LONGEST_WAIT_BETWEEN_TRIES_SECONDS)
            tries += 1


async def _open_pool(database_url: str, schema: str, max_size: int, application: str | None) -> asyncpg.Pool:
    pool = await asyncpg.create_pool(
        database_url,
        min_size=1,
        max_size=max_size,
        init=_init_connection,
        reset=_keep_session,
        server_settings={
            "search_path": f"{schema},public", "application_name": f"lantern-{application or schema}",
        },
    )  # fmt: skip
    assert pool is not None
    return pool


async def connect(database_url: str, schema: str) -> asyncpg.Connection:
    """One connection that sees ``schema`` first and reads JSON as a service's pool does."""
    connection = await asyncpg.connect(
        database_url,
        server_settings={"search_path": f"{schema},public", "application_name": f"lantern-{schema}"},
    )
    await _init_connection(connection)
    return connection


def migration_files(directories: list[tuple[str, Path]]) -> list[tuple[str, Path]]:
    """List (version, file) in the order they apply: each directory in turn, files by name."""
    return [
        (f"{prefix}/{path.name}", path)
        for prefix, directory in directories
        for path in sorted(directory.glob("*.sql"))
    ]


def service_migrations(own: Path) -> list[tuple[str, Path]]:
    """A service's migrations: the shared inbox and outbox first, then its own."""
    return [("common", COMMON_MIGRATIONS / "messaging"), ("service", own)]


async def apply_migrations(database_url: str, schema: str, directories: list[tuple[str, Path]]) -> list[str]:
    """Bring ``schema`` up to date; safe to run from several processes at once."""
    connection = await asyncpg.connect(database_url)
    try:
        async with connection.transaction():
            await connection.execute("SELECT pg_advisory_xact_lock(hashtext($1))", f"migrate:{schema}")
            await connection.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
            await connection.execute(f'SET LOCAL search_path TO "{schema}", public')
            await connection.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
            )
            applied = {
                row["version"] for row in await connection.fetch("SELECT version FROM schema_migrations")
            }
            newly_applied = []
            for version, path in migration_files(directories):
                if version in applied:
                    continue
                await connection.execute(path.read_text(encoding="utf-8"))
                await connection.execute("INSERT INTO schema_migrations (version) VALUES ($1)", version)
                newly_applied.append(version)
    finally:
        await connection.close()
    for version in newly_applied:
        log.info("migration applied", schema=schema, version=version)
    return newly_applied


class SchemaNotReady(Exception):
    """A service's schema lacks migrations: the owner runs them before the service starts."""


async def check_migrated(pool: asyncpg.Pool, schema: str, directories: list[tuple[str, Path]]) -> None:
    """Refuse to run on a schema older than the code: a service's own role cannot migrate it."""
    try:
        applied = {
            row["version"] for row in await pool.fetch(f'SELECT version FROM "{schema}".schema_migrations')
        }
    except (asyncpg.UndefinedTableError, asyncpg.InvalidSchemaNameError, asyncpg.InsufficientPrivilegeError):
        applied = set()
    missing = [version for version, _path in migration_files(directories) if version not in applied]
    if missing:
        raise SchemaNotReady(
            f"the {schema} schema lacks {len(missing)} migration(s), first {missing[0]}: run them as the owner"
            " (`lantern up` or `lantern db setup`) before starting the service"
        )
