"""The referral directory's public deployment (`python -m services.referral.public`): the HSDS API, the
public list and the registration form, served as the `directory` role, which reads only what referral
publishes and may only add a pending request. A confidential address and an opted-out provider are
out of its reach in the database itself, not only in its code."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import asyncpg
import pytest

from services.common.roles import (
    ACCESS,
    PUBLIC_DIRECTORY,
    ROLE_ATTRIBUTES,
    RoleSetupError,
    ServiceRoles,
    check_public_directory_role,
    with_credentials,
)
from services.common.settings import ServiceSettings
from services.referral.adapters.directory import import_file
from services.referral.app import SAMPLE_DIRECTORY
from services.referral.app import build_app as build_referral
from services.referral.public import build_app as build_public
from services.referral.settings import PublicDirectorySettings
from tests.helpers import http_client, operations_client, running
from tests.integration.test_provider_requests import partnership_specialist

FORM = {"content-type": "application/x-www-form-urlencoded"}
CONFIDENTIAL = "SAMPLE confidential address"


def public_settings(settings: ServiceSettings, **overrides: object) -> PublicDirectorySettings:
    return PublicDirectorySettings(DATABASE_URL=settings.database_url_of(PUBLIC_DIRECTORY), **overrides)


async def test_the_public_role_reads_only_the_published_directory_and_only_adds_requests(
    settings: ServiceSettings, service_roles: ServiceRoles, database_url: str
) -> None:
    assert not (await import_file(database_url, SAMPLE_DIRECTORY, timedelta(days=3650))).errors
    connection = await asyncpg.connect(service_roles.url(database_url, PUBLIC_DIRECTORY))
    try:
        published = await connection.fetch("SELECT resource, record FROM referral.public_directory")
        assert published and CONFIDENTIAL not in str([row["record"] for row in published])
        for table in ("hsds_records", "hsds_addresses", "directory_confirmations", "referrals",
                      "provider_requests", "provider_audit", "directory_reconfirmations"):  # fmt: skip
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await connection.fetch(f"SELECT * FROM referral.{table} LIMIT 1")
        for schema_table in ("auth.staff", "intake.tips", "keys.data_keys"):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await connection.fetch(f"SELECT * FROM {schema_table} LIMIT 1")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await connection.execute("DELETE FROM referral.public_directory")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await connection.execute("UPDATE referral.directory_state SET version = 0")
    finally:
        await connection.close()


async def test_the_public_deployment_serves_the_directory_and_the_form_and_nothing_of_the_staffs(
    settings: ServiceSettings, database_url: str
) -> None:
    assert not (await import_file(database_url, SAMPLE_DIRECTORY, timedelta(days=3650))).errors
    public = build_public(public_settings(settings))
    staff = build_referral(settings)
    alice = await partnership_specialist(settings, "Alice Partnerships")
    async with running(public, staff), http_client(public) as client, http_client(staff) as desk:
        health = await operations_client(public).get("/health")
        assert health.status_code == 200 and health.json()["checks"] == {"database": "ok"}
        services = (await client.get("/hsds/services", params={"per_page": 500})).json()
        assert services["total_items"] > 0 and CONFIDENTIAL not in str(services)
        assert (await client.get("/v1/directory")).json()["providers"]
        for path in ("/v1/provider-requests", "/v1/directory/reconfirmations"):
            assert (await client.get(path, headers=alice)).status_code == 404
        paths = set((await client.get("/openapi.json")).json()["paths"])
        assert "/providers/register" in paths and not any(
            path.startswith(("/v1/provider-requests", "/v1/referrals", "/v1/tips")) for path in paths
        )

        sent = await client.post(
            FORM_PATH, content="kind=registration&organization_name=Maison+Aurore", headers=FORM
        )
        assert sent.status_code == 200
        [pending] = (await desk.get("/v1/provider-requests", headers=alice)).json()["requests"]
        await desk.post(f"/v1/provider-requests/{pending['request_id']}/take", headers=alice)
        approved = await desk.post(
            f"/v1/provider-requests/{pending['request_id']}/approve", json={"public": True}, headers=alice
        )
        organization = approved.json()["organization_id"]
        # Published in the approval's own transaction: the public deployment shows it at once.
        listed = await client.get(f"/hsds/organizations/{organization}")
        assert listed.status_code == 200 and listed.json()["name"] == "Maison Aurore"


async def test_the_public_form_is_rate_limited_in_the_public_deployment_too(
    settings: ServiceSettings,
) -> None:
    public = build_public(public_settings(settings, LANTERN_REGISTRATION_RATE_LIMIT=1))
    async with running(public), http_client(public) as client:
        first = await client.post(FORM_PATH, content="organization_name=Un", headers=FORM)
        second = await client.post(FORM_PATH, content="organization_name=Deux", headers=FORM)
    assert first.status_code == 200 and second.status_code == 429 and "retry-after" in second.headers


# Every column of a provider request the public role may not write: what deciding a request sets.
DECISION_COLUMNS = (
    "status",
    "held_by",
    "decided_by",
    "decided_at",
    "reason",
    "restrictions_applied_at",
    "received_at",
)


async def test_the_public_role_may_insert_only_a_requests_own_columns_and_never_change_or_delete_one(
    settings: ServiceSettings, service_roles: ServiceRoles, database_url: str
) -> None:
    connection = await asyncpg.connect(service_roles.url(database_url, PUBLIC_DIRECTORY))
    try:
        for column in DECISION_COLUMNS:
            assert not await connection.fetchval(
                "SELECT has_column_privilege('referral.provider_requests', $1, 'INSERT')", column
            ), column
        for right in ("UPDATE", "DELETE", "TRUNCATE", "SELECT"):
            assert not await connection.fetchval(
                "SELECT has_table_privilege('referral.provider_requests', $1)", right
            ), right
            assert not await connection.fetchval(
                "SELECT has_table_privilege('referral.provider_audit', $1)", right
            ), right
        for column in ("subject", "action", "role", "person_id", "reason", "at", "entry_id"):
            assert not await connection.fetchval(
                "SELECT has_column_privilege('referral.provider_audit', $1, 'INSERT')", column
            ), column
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await connection.execute(
                "INSERT INTO referral.provider_requests (request_id, kind, details, language, status, decided_at)"
                " VALUES (gen_random_uuid(), 'registration', '{}', 'en', 'approved', now())"
            )
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await connection.execute(
                "INSERT INTO referral.provider_audit (subject, action, person_id, role)"
                " VALUES ('request:x', 'approved', gen_random_uuid(), 'partnerships')"
            )
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await connection.execute(
                "INSERT INTO referral.provider_audit (subject, action, role)"
                " VALUES ('request:' || gen_random_uuid(), 'received', 'provider')"
            )
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await connection.execute("UPDATE referral.provider_requests SET status = 'approved'")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await connection.execute("DELETE FROM referral.provider_requests")
        await connection.execute(
            "INSERT INTO referral.provider_requests (request_id, kind, details, language)"
            " VALUES (gen_random_uuid(), 'registration', '{}', 'en')"
        )
    finally:
        await connection.close()
    owner = await asyncpg.connect(database_url)
    try:
        [row] = await owner.fetch(
            "SELECT request_id, status, held_by, decided_at FROM referral.provider_requests"
        )
        assert (row["status"], row["held_by"], row["decided_at"]) == ("pending", None, None)
        # The database wrote its received line, as the owner: the only line in the audit.
        [line] = await owner.fetch("SELECT subject, action, role, person_id FROM referral.provider_audit")
        assert dict(line) == {
            "subject": f"request:{row['request_id']}", "action": "received", "role": "provider", "person_id": None,
        }  # fmt: skip
    finally:
        await owner.close()


async def test_the_public_role_writes_no_audit_line_even_if_granted_the_table_by_mistake(
    service_roles: ServiceRoles, database_url: str
) -> None:
    directory = service_roles.name(PUBLIC_DIRECTORY)
    owner = await asyncpg.connect(database_url)
    try:
        await owner.execute(f'GRANT INSERT, SELECT ON referral.provider_audit TO "{directory}"')
        await owner.execute(f'GRANT USAGE ON SEQUENCE referral.provider_audit_entry_id_seq TO "{directory}"')
        connection = await asyncpg.connect(service_roles.url(database_url, PUBLIC_DIRECTORY))
        try:
            for action, person in (("received", "NULL"), ("approved", "gen_random_uuid()")):
                with pytest.raises(
                    asyncpg.InsufficientPrivilegeError, match="only referral's role and the owner"
                ):
                    await connection.execute(
                        "INSERT INTO referral.provider_audit (subject, action, role, person_id)"
                        f" VALUES ('request:' || gen_random_uuid(), '{action}', 'provider', {person})"
                    )
            assert await connection.fetchval("SELECT count(*) FROM referral.provider_audit") == 0
        finally:
            await connection.close()
        # Referral's role and the owner still write it.
        await owner.execute(
            "INSERT INTO referral.provider_audit (subject, action, role) VALUES ('organization:x', 'lapsed', 'clock')"
        )
    finally:
        await owner.close()
    referral = await asyncpg.connect(service_roles.url(database_url, "referral"))
    try:
        await referral.execute(
            "INSERT INTO referral.provider_audit (subject, action, role) VALUES ('organization:x', 'lapsed', 'clock')"
        )
    finally:
        await referral.close()


@pytest.mark.parametrize(
    "decided",
    [
        "status = 'approved', decided_at = now(), decided_by = gen_random_uuid()",
        "held_by = gen_random_uuid()",
        "reason = 'pre-decided'",
        "restrictions_applied_at = now()",
        "received_at = now() - interval '1 day'",
    ],
)
async def test_a_provider_request_is_inserted_only_pending_whoever_inserts_it(
    database_url: str, decided: str
) -> None:
    # The owner holds every right: only the trigger stands between it and a request born decided.
    columns = dict(part.split(" = ", 1) for part in decided.split(", "))
    owner = await asyncpg.connect(database_url)
    try:
        with pytest.raises(asyncpg.CheckViolationError, match="inserted pending"):
            await owner.execute(
                "INSERT INTO referral.provider_requests (request_id, kind, details, language, "
                f"{', '.join(columns)}) VALUES (gen_random_uuid(), 'registration', '{{}}', 'en', "
                f"{', '.join(columns.values())})"
            )
    finally:
        await owner.close()


@pytest.mark.parametrize("service", ["referral", "owner"])
async def test_the_public_deployment_refuses_to_start_as_any_role_but_the_directorys(
    settings: ServiceSettings, database_url: str, service: str
) -> None:
    url = database_url if service == "owner" else settings.database_url_of(service)
    public = build_public(PublicDirectorySettings(DATABASE_URL=url))
    with pytest.raises(RoleSetupError, match="DATABASE_URL must name the public directory's own role"):
        async with running(public):
            pass


@asynccontextmanager
async def a_directory_named_role(
    service_roles: ServiceRoles, database_url: str, widened: str | None
) -> AsyncIterator[str]:
    """A login role named as the public directory's may be (``<prefix>_x_directory``) with exactly the
    directory role's rights, then ``widened`` (``{role}`` its name); its URL."""
    name = f"{service_roles.prefix}_x{uuid.uuid4().hex[:6]}_{PUBLIC_DIRECTORY}"
    role = f'"{name}"'
    owner = await asyncpg.connect(database_url)
    try:
        await owner.execute(f"CREATE ROLE {role} {ROLE_ATTRIBUTES}")
        database = await owner.fetchval("SELECT current_database()")
        await owner.execute(f'GRANT CONNECT ON DATABASE "{database}" TO {role}')
        await owner.execute(f"GRANT USAGE ON SCHEMA referral TO {role}")
        for table, rights in ACCESS[PUBLIC_DIRECTORY].elsewhere["referral"].items():
            await owner.execute(f"GRANT {rights} ON referral.{table} TO {role}")
        if widened is not None:
            await owner.execute(widened.format(role=role, referral=f'"{service_roles.name("referral")}"'))
        yield with_credentials(database_url, name, None)
    finally:
        await owner.execute(f"DROP OWNED BY {role}")  # its rights in this database
        await owner.execute(f"DROP ROLE {role}")
        await owner.close()


@pytest.mark.parametrize(
    ("widened", "held"),
    [
        ("GRANT SELECT ON referral.hsds_addresses TO {role}", "SELECT on referral.hsds_addresses"),
        ("GRANT SELECT ON referral.hsds_records TO {role}", "SELECT on referral.hsds_records"),
        ("GRANT {referral} TO {role}", "member of {referral}"),
        ("GRANT pg_read_all_data TO {role}", "member of pg_read_all_data"),
        ("GRANT pg_write_all_data TO {role}", "member of pg_write_all_data"),
        ("ALTER ROLE {role} CREATEROLE", "createrole"),
        ("ALTER ROLE {role} BYPASSRLS", "bypassrls"),
        ("GRANT SELECT ON referral.provider_requests TO {role}", "SELECT on referral.provider_requests"),
        ("GRANT UPDATE ON referral.provider_requests TO {role}", "UPDATE on referral.provider_requests"),
        ("GRANT DELETE ON referral.provider_requests TO {role}", "DELETE on referral.provider_requests"),
        ("GRANT TRUNCATE ON referral.provider_requests TO {role}", "TRUNCATE on referral.provider_requests"),
        ("GRANT INSERT (status) ON referral.provider_requests TO {role}", "INSERT on referral.provider_requests.status"),
        ("GRANT INSERT ON referral.provider_audit TO {role}", "INSERT on referral.provider_audit"),
        # A right on some columns is a right on the table.
        ("GRANT SELECT (record) ON referral.hsds_addresses TO {role}", "SELECT on referral.hsds_addresses"),
        ("GRANT UPDATE (status, decided_at) ON referral.provider_requests TO {role}",
         "UPDATE on referral.provider_requests"),
        ("GRANT REFERENCES (id) ON referral.hsds_records TO {role}", "REFERENCES on referral.hsds_records"),
        # Whatever the table, in any schema: an allow-list, not a list of what to refuse.
        ("GRANT SELECT ON referral.referrals TO {role}", "SELECT on referral.referrals"),
        ("GRANT SELECT ON intake.tips TO {role}", "SELECT on intake.tips"),
        ("GRANT SELECT ON auth.staff TO {role}", "SELECT on auth.staff"),
        ("GRANT TRIGGER ON referral.public_directory TO {role}", "TRIGGER on referral.public_directory"),
        ("GRANT USAGE ON SEQUENCE referral.provider_audit_entry_id_seq TO {role}",
         "USAGE on referral.provider_audit_entry_id_seq"),
        ("GRANT CREATE ON SCHEMA referral TO {role}", "CREATE on schema referral"),
        ("GRANT USAGE ON SCHEMA retention TO {role}", "USAGE on schema retention"),
        ("ALTER ROLE {role} REPLICATION", "replication"),
        ("ALTER ROLE {role} CREATEDB", "createdb"),
    ],
)  # fmt: skip
async def test_a_role_named_as_the_directorys_but_holding_more_is_refused(
    service_roles: ServiceRoles, database_url: str, widened: str, held: str
) -> None:
    async with a_directory_named_role(service_roles, database_url, widened) as url:
        pool = await asyncpg.create_pool(url, min_size=1, max_size=1)
        try:
            with pytest.raises(RoleSetupError, match="DATABASE_URL must name") as refused:
                await check_public_directory_role(pool)
        finally:
            await pool.close()
    assert held.format(referral=service_roles.name("referral")) in str(refused.value)


async def test_a_role_named_as_the_directorys_with_only_its_rights_is_accepted(
    service_roles: ServiceRoles, database_url: str
) -> None:
    # What makes the refusals above the widening's doing, not the name's.
    async with a_directory_named_role(service_roles, database_url, None) as url:
        pool = await asyncpg.create_pool(url, min_size=1, max_size=1)
        try:
            await check_public_directory_role(pool)
        finally:
            await pool.close()


FORM_PATH = "/providers/register"
