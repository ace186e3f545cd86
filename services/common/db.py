"""PostgreSQL access: one pool per service, confined to the service's own schema, and migrations."""

from __future__ import annotations

import json
from pathlib import Path

import asyncpg

from services.common.logging import get_logger

COMMON_MIGRATIONS = Path(__file__).parent / "migrations"
log = get_logger(__name__)


async def _init_connection(connection: asyncpg.Connection) -> None:
    for kind in ("json", "jsonb"):
        await connection.set_type_codec(kind, encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def create_pool(database_url: str, schema: str, max_size: int = 10) -> asyncpg.Pool:
    """Open a pool whose connections see the service's schema first."""
    pool = await asyncpg.create_pool(
        database_url,
        min_size=1,
        max_size=max_size,
        init=_init_connection,
        server_settings={"search_path": f"{schema},public", "application_name": f"lantern-{schema}"},
    )
    assert pool is not None
    return pool


def migration_files(service_migrations: Path) -> list[tuple[str, Path]]:
    """List (version, file) in the order they apply: the shared messaging tables first."""
    common = [(f"common/{path.name}", path) for path in sorted(COMMON_MIGRATIONS.glob("*.sql"))]
    own = [(f"service/{path.name}", path) for path in sorted(service_migrations.glob("*.sql"))]
    return common + own


async def apply_migrations(database_url: str, schema: str, service_migrations: Path) -> list[str]:
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
            for version, path in migration_files(service_migrations):
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
