"""Least privilege in the database: each service as its own role, on the real server."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import pytest

import services
from services.common.db import apply_migrations, apply_shared_migrations, connect, service_migrations
from services.common.roles import (
    PUBLIC_DIRECTORY,
    SERVICES,
    UNSEALING,
    RoleSetupError,
    ServiceRoles,
    grant_privileges,
    grant_statements,
)
from services.common.sealing import KeyConfigurationError
from services.common.settings import ServiceSettings
from services.disclosure.app import build_app as build_disclosure
from services.intake.app import build_app as build_intake
from services.monitoring.app import build_app as build_monitoring
from services.referral.app import build_app as build_referral
from services.triage.app import build_app as build_triage
from services.workbench.app import build_app as build_workbench
from services.workbench.settings import WorkbenchSettings
from tests.helpers import eventually, http_client, operations_client, running


@asynccontextmanager
async def connected_as(
    roles: ServiceRoles, database_url: str, service: str
) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(roles.url(database_url, service))
    try:
        yield connection
    finally:
        await connection.close()


async def tables_of(database_url: str, schemas: list[str]) -> list[str]:
    connection = await asyncpg.connect(database_url)
    try:
        rows = await connection.fetch(
            "SELECT format('%I.%I', table_schema, table_name) AS name FROM information_schema.tables"
            " WHERE table_schema = ANY ($1::text[]) ORDER BY 1",
            schemas,
        )
    finally:
        await connection.close()
    return [row["name"] for row in rows]


@pytest.mark.parametrize("service", ["referral", "monitoring", "workbench"])
async def test_the_referral_and_monitoring_roles_cannot_read_keys_or_another_services_schema(
    database_url: str, service_roles: ServiceRoles, service: str
) -> None:
    others = [name for name in SERVICES if name != service]
    forbidden = await tables_of(database_url, ["keys", *others])
    assert any(name.startswith("keys.") for name in forbidden) and len(forbidden) > 20
    readable = await tables_of(database_url, [service, "auth"])
    async with connected_as(service_roles, database_url, service) as connection:
        for table in readable:
            await connection.fetch(f"SELECT * FROM {table} LIMIT 1")
        for table in forbidden:
            with pytest.raises(asyncpg.InsufficientPrivilegeError, match="permission denied"):
                await connection.fetch(f"SELECT * FROM {table} LIMIT 1")
        assert not await connection.fetchval("SELECT has_schema_privilege('keys', 'USAGE')")


async def test_the_disclosure_role_may_append_to_the_audit_log_but_never_change_delete_or_truncate_it(
    database_url: str, service_roles: ServiceRoles
) -> None:
    async with connected_as(service_roles, database_url, "disclosure") as connection:
        rights = {
            right: await connection.fetchval("SELECT has_table_privilege('disclosure.audit_log', $1)", right)
            for right in ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE")
        }
        assert rights == {"SELECT": True, "INSERT": True, "UPDATE": False, "DELETE": False, "TRUNCATE": False}
        # Refused by the grant, before the append-only trigger is reached (its message differs).
        for statement in (
            "UPDATE disclosure.audit_log SET actor = 'someone else'",
            "DELETE FROM disclosure.audit_log",
            "TRUNCATE disclosure.audit_log",
        ):
            with pytest.raises(
                asyncpg.InsufficientPrivilegeError, match="permission denied for table audit_log"
            ):
                await connection.execute(statement)


async def test_no_service_role_may_change_its_schema_or_its_migrations(
    database_url: str, service_roles: ServiceRoles
) -> None:
    for service in SERVICES:
        async with connected_as(service_roles, database_url, service) as connection:
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await connection.execute(f"CREATE TABLE {service}.intruder (id int)")
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await connection.execute(f"ALTER TABLE {service}.outbox ADD COLUMN intruder int")
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await connection.execute(f"DELETE FROM {service}.schema_migrations")
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await connection.execute(
                    "INSERT INTO auth.staff (person_id, display_name, roles) VALUES ($1, 'x', '{admin}')",
                    uuid.uuid4(),
                )


async def test_only_the_services_that_unseal_may_read_the_wrapped_data_keys(
    database_url: str, service_roles: ServiceRoles
) -> None:
    allowed = {}
    for service in SERVICES:
        async with connected_as(service_roles, database_url, service) as connection:
            allowed[service] = await connection.fetchval(
                "SELECT has_schema_privilege('keys', 'USAGE') AND has_table_privilege('keys.data_keys', 'SELECT')"
            )
    assert (
        {service for service, yes in allowed.items() if yes}
        == {"intake", "triage", "disclosure"}
        == UNSEALING
    )


async def test_a_table_a_later_migration_creates_is_granted_to_its_service_only(
    database_url: str, service_roles: ServiceRoles, tmp_path: Path
) -> None:
    later = tmp_path / "later"
    later.mkdir()
    (later / "0001_later.sql").write_text(
        "CREATE TABLE later (id bigint GENERATED BY DEFAULT AS IDENTITY, note text);"
    )
    await apply_migrations(database_url, "triage", [("later", later)])
    async with connected_as(service_roles, database_url, "triage") as connection:
        await connection.execute("INSERT INTO triage.later (note) VALUES ('granted by default')")
        assert await connection.fetchval("SELECT count(*) FROM triage.later") == 1
    async with connected_as(service_roles, database_url, "referral") as connection:
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await connection.fetch("SELECT * FROM triage.later")


async def test_each_running_service_is_connected_as_its_own_role(
    settings: ServiceSettings, service_roles: ServiceRoles
) -> None:
    apps = (
        build_intake(settings),
        build_triage(settings),
        build_disclosure(settings),
        build_referral(settings),
        build_monitoring(settings),
        build_workbench(WorkbenchSettings(
            DATABASE_URL=settings.service_database_urls["workbench"], LANTERN_WORKBENCH_SERVICES={}
        )),
    )  # fmt: skip
    async with running(*apps):
        connection = await asyncpg.connect(settings.database_url)
        try:
            rows = await connection.fetch(
                "SELECT DISTINCT application_name, usename FROM pg_stat_activity"
                " WHERE datname = current_database() AND application_name LIKE 'lantern-%'"
            )
        finally:
            await connection.close()
    assert {row["application_name"]: row["usename"] for row in rows} == {
        f"lantern-{service}": service_roles.name(service) for service in SERVICES
    }


async def test_a_service_given_the_owners_connection_refuses_to_start(settings: ServiceSettings) -> None:
    as_owner = settings.model_copy(update={"service_database_urls": {}})
    with pytest.raises(RoleSetupError, match="connects to PostgreSQL as"):
        async with running(build_referral(as_owner)):
            pass


@pytest.mark.empty_database
async def test_a_service_refuses_to_start_on_a_schema_the_owner_has_not_migrated(
    settings: ServiceSettings, service_roles: ServiceRoles
) -> None:
    connection = await connect(settings.database_url, "public")
    try:
        await connection.execute("CREATE SCHEMA monitoring; CREATE SCHEMA auth; CREATE SCHEMA keys")
    finally:
        await connection.close()
    await grant_privileges(settings.database_url, service_roles)
    with pytest.raises(Exception, match="the monitoring schema lacks"):
        async with running(build_monitoring(settings)):
            pass


async def test_referral_and_monitoring_run_end_to_end_without_the_key_encryption_key(
    settings: ServiceSettings,
) -> None:
    without_kek = settings.model_copy(update={"kek": None, "kek_file": None})
    referral, monitoring = build_referral(without_kek), build_monitoring(without_kek)
    async with running(referral, monitoring):
        for app in (referral, monitoring):
            async with operations_client(app) as client:
                assert (await client.get("/health")).json()["checks"]["database"] == "ok"
            with pytest.raises(KeyConfigurationError, match="holds no key-encryption key"):
                _ = app.state.runtime.keystore
        async with http_client(referral) as client:
            assert (await client.get("/v1/directory")).status_code == 200


@pytest.mark.parametrize("build", [build_intake, build_triage, build_disclosure])
async def test_a_service_that_unseals_refuses_to_start_without_the_key_encryption_key(
    settings: ServiceSettings, build: object
) -> None:
    without_kek = settings.model_copy(update={"kek": None, "kek_file": None})
    with pytest.raises(KeyConfigurationError):
        async with running(build(without_kek)):  # type: ignore[operator]
            pass


async def _refused(url: str) -> bool:
    try:
        connection = await asyncpg.connect(url)
    except asyncpg.InvalidPasswordError:
        return True
    await connection.close()
    return False


# The shared server on DATABASE_URL trusts every local login; only the embedded one is ours to edit.
@pytest.mark.skipif("DATABASE_URL" in os.environ, reason="edits the embedded server's pg_hba.conf")
async def test_a_service_role_logs_in_with_its_password_where_the_server_asks_for_one(
    database_url: str, service_roles: ServiceRoles
) -> None:
    role = service_roles.name("monitoring")
    wrong = ServiceRoles(service_roles.prefix, {"monitoring": "not-the-password"})
    owner = await asyncpg.connect(database_url)
    try:
        hba = Path(await owner.fetchval("SHOW hba_file"))
        before = await asyncio.to_thread(hba.read_text)
        rules = f"local all {role} scram-sha-256\nhost all {role} all scram-sha-256\n"
        await asyncio.to_thread(hba.write_text, rules + before)
        try:
            assert await owner.fetchval("SELECT pg_reload_conf()")
            assert await eventually(lambda: _refused(wrong.url(database_url, "monitoring"))), (
                "rule not loaded"
            )
            async with connected_as(service_roles, database_url, "monitoring") as connection:
                assert await connection.fetchval("SELECT current_user") == role
        finally:
            await asyncio.to_thread(hba.write_text, before)
            await owner.fetchval("SELECT pg_reload_conf()")
    finally:
        await owner.close()


@pytest.mark.empty_database
async def test_referral_writes_its_audit_on_a_database_migrated_past_0009_before_the_grant_step_runs(
    database_url: str, service_roles: ServiceRoles, tmp_path: Path
) -> None:
    """A database set up at referral's migration 0008 with that day's grants, then migrated to the
    latest schema by the owner alone (the setup Job's grant step not yet run)."""
    migrations = Path(services.__file__).parent
    await apply_shared_migrations(database_url)
    for service in SERVICES:
        if service != "referral":
            await apply_migrations(
                database_url, service, service_migrations(migrations / service / "migrations")
            )
    until_0008 = tmp_path / "referral"
    until_0008.mkdir()
    for path in sorted((migrations / "referral" / "migrations").glob("*.sql")):
        if path.name < "0009":
            (until_0008 / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    await apply_migrations(database_url, "referral", service_migrations(until_0008))
    await grant_privileges(database_url, service_roles)
    directory, referral = service_roles.name(PUBLIC_DIRECTORY), service_roles.name("referral")
    owner = await asyncpg.connect(database_url)
    try:
        # What 0008's grant step gave the public role besides: its own received line.
        await owner.execute(
            f'GRANT INSERT (subject, action, role) ON referral.provider_audit TO "{directory}"'
        )
        await owner.execute(f'GRANT USAGE ON SEQUENCE referral.provider_audit_entry_id_seq TO "{directory}"')
        assert not await owner.fetchval("SELECT to_regclass('referral.provider_audit_writers') IS NOT NULL")
        await apply_migrations(
            database_url, "referral", service_migrations(migrations / "referral" / "migrations")
        )
        assert await owner.fetchval("SELECT array_agg(role_name) FROM referral.provider_audit_writers") == [
            referral
        ]
    finally:
        await owner.close()

    line = (
        "INSERT INTO referral.provider_audit (subject, action, role)"
        " VALUES ('request:' || gen_random_uuid(), 'received', 'provider')"
    )
    async with connected_as(service_roles, database_url, "referral") as connection:
        await connection.execute(line)
        for change in (
            "INSERT INTO referral.provider_audit_writers (role_name) VALUES (current_user || '_x')",
            f"UPDATE referral.provider_audit_writers SET role_name = '{directory}'",
            "DELETE FROM referral.provider_audit_writers",
            "TRUNCATE referral.provider_audit_writers",
        ):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await connection.execute(change)
    async with connected_as(service_roles, database_url, PUBLIC_DIRECTORY) as connection:
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await connection.execute(line)
        # Its request is still audited, by the database.
        await connection.execute(
            "INSERT INTO referral.provider_requests (request_id, kind, details, language)"
            " VALUES (gen_random_uuid(), 'registration', '{}'::jsonb, 'en')"
        )
    owner = await asyncpg.connect(database_url)
    try:
        assert await owner.fetchval("SELECT count(*) FROM referral.provider_audit") == 2
    finally:
        await owner.close()


async def test_the_grant_step_run_statement_by_statement_never_lets_referral_write_its_writer_list(
    database_url: str, service_roles: ServiceRoles
) -> None:
    """As a DBA runs the printed script, each statement on its own: at no point between two of them
    may referral's role name another writer of its audit."""
    referral = service_roles.name("referral")
    owner = await asyncpg.connect(database_url)
    try:
        tables: dict[str, set[str]] = {}
        for row in await owner.fetch(
            "SELECT table_schema, table_name FROM information_schema.tables"
            " WHERE table_schema NOT IN ('pg_catalog', 'information_schema', 'public')"
        ):
            tables.setdefault(row["table_schema"], set()).add(row["table_name"])
        database = await owner.fetchval("SELECT current_database()")
        statements = grant_statements(database, tables, service_roles)
        writes = (
            "SELECT bool_or(has_table_privilege($1, 'referral.provider_audit_writers', p))"
            " FROM unnest(ARRAY['INSERT', 'UPDATE', 'DELETE', 'TRUNCATE']) AS p"
        )
        for statement in statements:
            await owner.execute(statement)
            assert not await owner.fetchval(writes, referral), statement
        # And the step gave referral its own tables' rights all the same.
        for table in ("referrals", "provider_requests", "hsds_records"):
            assert await owner.fetchval(
                "SELECT has_table_privilege($1, $2, 'INSERT, UPDATE, DELETE')", referral, f"referral.{table}"
            ), table
        assert await owner.fetchval(
            "SELECT has_table_privilege($1, 'referral.provider_audit_writers', 'SELECT')", referral
        )
    finally:
        await owner.close()
