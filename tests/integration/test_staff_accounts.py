"""Staff accounts: tokens belong to people, expire, can be revoked, and die with a disabled person.

Most tests ask a small app that admits staff through ``services.common.auth``'s dependencies, the
ones every service uses, over a real PostgreSQL pool; one asks a real service (monitoring).
"""

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from types import SimpleNamespace
from typing import Annotated, Any

import asyncpg
import httpx
import pytest
from click.testing import Result
from fastapi import Depends, FastAPI
from typer.testing import CliRunner

from lantern.cli import app as lantern
from services.common.auth import (
    Role,
    Staff,
    add_staff,
    create_token,
    disable_staff,
    find_staff,
    list_staff,
    require_role,
    revoke_token,
    token_hash,
)
from services.common.db import COMMON_MIGRATIONS, apply_shared_migrations
from services.common.settings import ServiceSettings
from services.monitoring.app import build_app as build_monitoring
from services.monitoring.settings import MonitoringSettings
from tests.helpers import http_client, running

JOURNEY = "/v1/console/journey/NO-SUCH-TIP"  # any staff may ask; the answer is 404


def whoami_app(pool: asyncpg.Pool) -> FastAPI:
    """An app with one route for supervisors and admins that says who is asking."""
    app = FastAPI()
    app.state.runtime = SimpleNamespace(pool=pool)

    @app.get("/whoami")
    async def whoami(staff: Annotated[Staff, Depends(require_role(Role.SUPERVISOR, Role.ADMIN))]) -> Any:
        return {
            "token_id": str(staff.token_id),
            "role": staff.role.value,
            "person_id": str(staff.person_id),
            "display_name": staff.display_name,
        }

    return app


class Desk:
    def __init__(self, connection: asyncpg.Connection, client: httpx.AsyncClient) -> None:
        self.connection = connection
        self.client = client

    async def ask(self, token: str) -> httpx.Response:
        return await self.client.get("/whoami", headers={"authorization": f"Bearer {token}"})


@pytest.fixture
async def desk(database_url: str) -> AsyncIterator[Desk]:
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
    assert pool is not None
    connection = await asyncpg.connect(database_url)
    try:
        async with http_client(whoami_app(pool)) as client:
            yield Desk(connection, client)
    finally:
        await connection.close()
        await pool.close()


async def test_a_person_with_two_tokens_is_the_same_person_through_both(desk: Desk) -> None:
    person = await add_staff(desk.connection, "Amina Haddad", [Role.SUPERVISOR, Role.ADMIN])
    supervisor_id, supervisor = await create_token(desk.connection, Role.SUPERVISOR, person_id=person)
    admin_id, admin = await create_token(desk.connection, Role.ADMIN, "laptop", person_id=person)

    first, second = (await desk.ask(supervisor)).json(), (await desk.ask(admin)).json()

    assert first["person_id"] == second["person_id"] == str(person)
    assert first["display_name"] == second["display_name"] == "Amina Haddad"
    assert (first["token_id"], first["role"]) == (str(supervisor_id), "supervisor")
    assert (second["token_id"], second["role"]) == (str(admin_id), "admin")


async def test_two_tokens_made_without_a_person_are_two_people(desk: Desk) -> None:
    _, one = await create_token(desk.connection, Role.SUPERVISOR, "night desk")
    _, other = await create_token(desk.connection, Role.SUPERVISOR, "night desk")

    first, second = (await desk.ask(one)).json(), (await desk.ask(other)).json()

    assert first["person_id"] != second["person_id"]
    assert first["display_name"] == "night desk"


async def test_an_expired_token_is_refused(desk: Desk) -> None:
    token_id, token = await create_token(desk.connection, Role.SUPERVISOR, expires_in=timedelta(days=1))
    assert (await desk.ask(token)).status_code == 200
    expires_at = await desk.connection.fetchval(
        "SELECT expires_at - created_at FROM auth.staff_tokens WHERE token_id = $1", token_id
    )
    assert timedelta(hours=23) < expires_at <= timedelta(days=1)

    await desk.connection.execute(  # a day goes by
        "UPDATE auth.staff_tokens SET expires_at = now() - interval '1 second' WHERE token_id = $1", token_id
    )

    refused = await desk.ask(token)
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"] == "Bearer"


async def test_a_token_expires_in_90_days_unless_told_otherwise(desk: Desk) -> None:
    token_id, _ = await create_token(desk.connection, Role.SPECIALIST)
    never_id, _ = await create_token(desk.connection, Role.SPECIALIST, expires_in=None)

    lifetime = await desk.connection.fetchval(
        "SELECT expires_at - now() FROM auth.staff_tokens WHERE token_id = $1", token_id
    )
    assert timedelta(days=89, hours=23) < lifetime <= timedelta(days=90)
    assert (
        await desk.connection.fetchval(
            "SELECT expires_at FROM auth.staff_tokens WHERE token_id = $1", never_id
        )
        is None
    )
    with pytest.raises(ValueError, match="future"):
        await create_token(desk.connection, Role.SPECIALIST, expires_in=timedelta(0))


async def test_a_revoked_token_is_refused_and_the_persons_other_tokens_still_work(desk: Desk) -> None:
    person = await add_staff(desk.connection, "Luc Tremblay", [Role.SUPERVISOR])
    lost_id, lost = await create_token(desk.connection, Role.SUPERVISOR, person_id=person)
    _, kept = await create_token(desk.connection, Role.SUPERVISOR, person_id=person)
    assert (await desk.ask(lost)).status_code == 200

    assert await revoke_token(desk.connection, lost_id)

    assert (await desk.ask(lost)).status_code == 401
    assert (await desk.ask(kept)).status_code == 200
    assert not await revoke_token(desk.connection, uuid.uuid4()), "no such token"


async def test_a_disabled_persons_tokens_no_longer_open_anything(desk: Desk) -> None:
    person = await add_staff(desk.connection, "Sam Roy", [Role.SUPERVISOR, Role.ADMIN])
    tokens = [
        (await create_token(desk.connection, role, person_id=person))[1]
        for role in (Role.SUPERVISOR, Role.ADMIN)
    ]
    assert [(await desk.ask(token)).status_code for token in tokens] == [200, 200]

    assert await disable_staff(desk.connection, person)

    assert [(await desk.ask(token)).status_code for token in tokens] == [401, 401]
    revoked = await desk.connection.fetchval(
        "SELECT count(*) FROM auth.staff_tokens WHERE person_id = $1 AND revoked_at IS NOT NULL", person
    )
    assert revoked == 0, "disabling revokes nothing: the person is what fails"
    with pytest.raises(ValueError, match="disabled"):
        await create_token(desk.connection, Role.SUPERVISOR, person_id=person)
    assert not await disable_staff(desk.connection, uuid.uuid4()), "no such person"


async def test_a_token_for_a_role_the_person_does_not_hold_cannot_be_created(desk: Desk) -> None:
    person = await add_staff(desk.connection, "Jo Martin", [Role.SPECIALIST])

    with pytest.raises(ValueError, match="does not hold the role supervisor"):
        await create_token(desk.connection, Role.SUPERVISOR, person_id=person)
    with pytest.raises(ValueError, match="no person"):
        await create_token(desk.connection, Role.SPECIALIST, person_id=uuid.uuid4())
    tokens = await desk.connection.fetchval(
        "SELECT count(*) FROM auth.staff_tokens WHERE person_id = $1", person
    )
    assert tokens == 0


async def test_a_person_needs_a_name_and_known_roles(desk: Desk) -> None:
    with pytest.raises(ValueError, match="'boss' is not a valid Role"):
        await add_staff(desk.connection, "Jo Martin", ["boss"])
    with pytest.raises(ValueError, match="at least one role"):
        await add_staff(desk.connection, "Jo Martin", [])
    with pytest.raises(ValueError, match="display name"):
        await add_staff(desk.connection, " ", [Role.SPECIALIST])
    assert await desk.connection.fetchval("SELECT count(*) FROM auth.staff") == 0


async def test_a_token_stops_working_when_its_person_loses_its_role(desk: Desk) -> None:
    person = await add_staff(desk.connection, "Kim Nguyen", [Role.SUPERVISOR, Role.SPECIALIST])
    _, token = await create_token(desk.connection, Role.SUPERVISOR, person_id=person)
    assert (await desk.ask(token)).status_code == 200

    await desk.connection.execute("UPDATE auth.staff SET roles = '{specialist}' WHERE person_id = $1", person)

    assert (await desk.ask(token)).status_code == 401


async def test_a_disabled_persons_token_is_refused_by_a_service(settings: ServiceSettings) -> None:
    connection = await asyncpg.connect(settings.database_url)
    try:
        person = await add_staff(connection, "Ana Silva", [Role.SPECIALIST])
        _, token = await create_token(connection, Role.SPECIALIST, person_id=person)
        app = build_monitoring(MonitoringSettings.of(settings))
        async with running(app), http_client(app) as client:
            headers = {"authorization": f"Bearer {token}"}
            assert (await client.get(JOURNEY, headers=headers)).status_code == 404, "admitted: no such tip"
            await disable_staff(connection, person)
            assert (await client.get(JOURNEY, headers=headers)).status_code == 401
    finally:
        await connection.close()


@pytest.mark.empty_database
async def test_tokens_made_before_staff_accounts_each_become_a_person_and_keep_working(
    database_url: str,
) -> None:
    connection = await asyncpg.connect(database_url)
    try:
        await connection.execute("CREATE SCHEMA auth")
        await connection.execute("SET search_path TO auth")
        await connection.execute((COMMON_MIGRATIONS / "auth" / "0001_auth.sql").read_text())
        await connection.execute(
            "CREATE TABLE schema_migrations (version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now());"
            " INSERT INTO schema_migrations (version) VALUES ('auth/0001_auth.sql')"
        )
        old = {"lt_old-admin": ("admin", "Dana"), "lt_old-supervisor": ("supervisor", "")}
        for token, (role, label) in old.items():
            await connection.execute(
                "INSERT INTO staff_tokens (token_id, role, token_hash, label) VALUES ($1, $2, $3, $4)",
                uuid.uuid4(),
                role,
                token_hash(token),
                label,
            )

        await apply_shared_migrations(database_url)

        found = {token: await find_staff(connection, token) for token in old}
        people = {person.person_id: person for person in await list_staff(connection)}
        expiries = await connection.fetch("SELECT expires_at - now() AS left FROM staff_tokens")
    finally:
        await connection.close()
    admin, supervisor = found["lt_old-admin"], found["lt_old-supervisor"]
    assert admin is not None and supervisor is not None
    assert (admin.role, admin.display_name) == (Role.ADMIN, "Dana")
    assert (supervisor.role, supervisor.display_name) == (Role.SUPERVISOR, "unnamed")
    assert admin.person_id != supervisor.person_id
    assert people[admin.person_id].roles == (Role.ADMIN,)
    assert all(timedelta(days=89) < row["left"] <= timedelta(days=90) for row in expiries)


# The command line. These tests are not coroutines: each command runs its own event loop.


def run(database_url: str, *args: str) -> Result:
    return CliRunner().invoke(lantern, list(args), env={"DATABASE_URL": database_url})


def staff_of(database_url: str, token: str) -> Staff | None:
    async def find() -> Staff | None:
        connection = await asyncpg.connect(database_url)
        try:
            return await find_staff(connection, token)
        finally:
            await connection.close()

    return asyncio.run(find())


def test_the_staff_and_token_commands_manage_people_and_their_tokens(database_url: str) -> None:
    added = run(
        database_url, "staff", "add", "--name", "Amina Haddad", "--role", "supervisor", "--role", "admin"
    )
    assert added.exit_code == 0, added.output
    person = uuid.UUID(added.stdout.strip())

    created = run(
        database_url, "token", "create", "--role", "admin", "--person", str(person), "--label", "laptop"
    )
    assert created.exit_code == 0, created.output
    token = created.stdout.strip()
    staff = staff_of(database_url, token)
    assert staff is not None and (staff.person_id, staff.role) == (person, Role.ADMIN)
    assert str(staff.token_id) in created.stderr and "expires in 90 days" in created.stderr

    listed = run(database_url, "staff", "list")
    assert listed.exit_code == 0, listed.output
    assert f"{person}\tAmina Haddad\tsupervisor,admin\tactive" in listed.stdout.splitlines()
    assert token not in listed.output and "lt_" not in listed.output, "never a token"

    revoked = run(database_url, "token", "revoke", str(staff.token_id))
    assert revoked.exit_code == 0, revoked.output
    assert staff_of(database_url, token) is None

    second = run(database_url, "token", "create", "--role", "supervisor", "--person", str(person))
    assert staff_of(database_url, second.stdout.strip()) is not None
    disabled = run(database_url, "staff", "disable", str(person))
    assert disabled.exit_code == 0, disabled.output
    assert staff_of(database_url, second.stdout.strip()) is None
    assert f"{person}\tAmina Haddad\tsupervisor,admin\tdisabled " in run(database_url, "staff", "list").stdout


def test_the_token_command_refuses_a_role_the_person_does_not_hold(database_url: str) -> None:
    person = run(database_url, "staff", "add", "--name", "Jo Martin", "--role", "specialist").stdout.strip()

    refused = run(database_url, "token", "create", "--role", "admin", "--person", person)

    assert refused.exit_code == 1
    assert "does not hold the role admin" in refused.stderr and refused.stdout == ""
    assert run(database_url, "staff", "add", "--name", "X", "--role", "boss").exit_code == 2
    assert run(database_url, "token", "revoke", str(uuid.uuid4())).exit_code == 1
    assert run(database_url, "staff", "disable", str(uuid.uuid4())).exit_code == 1


def test_a_token_made_without_a_person_makes_one_and_expires_when_told(database_url: str) -> None:
    created = run(
        database_url, "token", "create", "--role", "specialist", "--label", "e2e", "--expires-in-days", "7"
    )

    assert created.exit_code == 0, created.output
    staff = staff_of(database_url, created.stdout.strip())
    assert staff is not None and staff.display_name == "e2e" and staff.role is Role.SPECIALIST
    assert "expires in 7 days" in created.stderr
    assert "\te2e\tspecialist\tactive" in run(database_url, "staff", "list").stdout
    assert (
        run(database_url, "token", "create", "--role", "specialist", "--expires-in-days", "0").exit_code == 2
    )
