"""The referral directory's public deployment (`python -m services.referral.public`): the HSDS API, the
public list and the registration form, served as the `directory` role, which reads only what referral
publishes and may only add a pending request. A confidential address and an opted-out provider are
out of its reach in the database itself, not only in its code."""

from __future__ import annotations

from datetime import timedelta

import asyncpg
import pytest

from services.common.roles import PUBLIC_DIRECTORY, RoleSetupError, ServiceRoles
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
        for column in ("person_id", "reason", "at", "entry_id"):
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
        with pytest.raises(asyncpg.CheckViolationError, match="received line"):
            await connection.execute(
                "INSERT INTO referral.provider_audit (subject, action, role)"
                " VALUES ('request:' || gen_random_uuid(), 'approved', 'partnerships')"
            )
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
        [row] = await owner.fetch("SELECT status, held_by, decided_at FROM referral.provider_requests")
        assert (row["status"], row["held_by"], row["decided_at"]) == ("pending", None, None)
    finally:
        await owner.close()


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


FORM_PATH = "/providers/register"
