"""Staff accounts and their bearer tokens. A token is shown once; only its SHA-256 is stored.

A person (``auth.staff``) holds one or more roles; each token belongs to one person and carries one
of those roles. A token opens something only while it is not revoked, not expired, and its person
is active and still holds the token's role.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

import asyncpg
from fastapi import HTTPException, Request

TOKEN_PREFIX = "lt_"  # noqa: S105 - a marker that makes leaked tokens easy to scan for, not a secret
TOKEN_LIFETIME = timedelta(days=90)
UNNAMED = "unnamed"


class Role(StrEnum):
    SPECIALIST = "specialist"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"
    # A partnership specialist: keeps the referral directory (providers' requests, confirmations);
    # reads no tip.
    PARTNERSHIPS = "partnerships"


@dataclass(frozen=True, slots=True)
class Staff:
    """Who is behind a request: the token used, its role, and the person the token belongs to.

    Code that builds a ``Staff`` without a person (unit tests) gets a person of its own, as a token
    created without a person does.
    """

    token_id: uuid.UUID
    role: Role
    person_id: uuid.UUID = field(default_factory=uuid.uuid4)
    display_name: str = ""


@dataclass(frozen=True, slots=True)
class StaffMember:
    """A staff account as operators list it: never its tokens."""

    person_id: uuid.UUID
    display_name: str
    roles: tuple[Role, ...]
    active: bool
    created_at: datetime
    disabled_at: datetime | None


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def _roles(roles: Iterable[Role | str]) -> list[str]:
    """Each role once, in the order given; ValueError for an unknown one or none at all."""
    known = list(dict.fromkeys(Role(role).value for role in roles))
    if not known:
        raise ValueError("a person needs at least one role")
    return known


async def add_staff(
    connection: asyncpg.Connection, display_name: str, roles: Iterable[Role | str]
) -> uuid.UUID:
    """Create an active person holding ``roles``; return their person id."""
    name = display_name.strip()
    if not name:
        raise ValueError("a person needs a display name")
    person_id = uuid.uuid4()
    await connection.execute(
        "INSERT INTO auth.staff (person_id, display_name, roles) VALUES ($1, $2, $3)",
        person_id,
        name,
        _roles(roles),
    )
    return person_id


async def disable_staff(connection: asyncpg.Connection, person_id: uuid.UUID) -> bool:
    """Disable a person: every token of theirs stops opening anything (none is revoked).

    Returns whether such a person exists; disabling a disabled person keeps the first date.
    """
    status = await connection.execute(
        "UPDATE auth.staff SET active = false, disabled_at = coalesce(disabled_at, now()) WHERE person_id = $1",
        person_id,
    )
    return str(status) == "UPDATE 1"


async def list_staff(connection: asyncpg.Connection) -> list[StaffMember]:
    """Every person, active ones first, then by name."""
    rows = await connection.fetch(
        "SELECT person_id, display_name, roles, active, created_at, disabled_at FROM auth.staff"
        " ORDER BY active DESC, display_name, created_at"
    )
    return [
        StaffMember(
            row["person_id"],
            row["display_name"],
            tuple(Role(role) for role in row["roles"]),
            row["active"],
            row["created_at"],
            row["disabled_at"],
        )
        for row in rows
    ]


async def create_token(
    connection: asyncpg.Connection,
    role: Role,
    label: str = "",
    *,
    person_id: uuid.UUID | None = None,
    expires_in: timedelta | None = TOKEN_LIFETIME,
) -> tuple[uuid.UUID, str]:
    """Create a token for ``role``; return its id and the token, which is never stored.

    The token belongs to ``person_id``, who must be active and hold ``role`` (ValueError otherwise);
    without a person, a new one is created for the token, named by ``label``. ``expires_in`` None
    makes a token that never expires.
    """
    role = Role(role)
    if expires_in is not None and expires_in <= timedelta(0):
        raise ValueError("a token must expire in the future")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token_id = uuid.uuid4()
    async with connection.transaction():
        if person_id is None:
            person_id = await add_staff(connection, label.strip() or UNNAMED, [role])
        else:
            person = await connection.fetchrow(
                "SELECT roles, active FROM auth.staff WHERE person_id = $1 FOR SHARE", person_id
            )
            if person is None:
                raise ValueError(f"no person {person_id}")
            if not person["active"]:
                raise ValueError(f"person {person_id} is disabled")
            if role.value not in person["roles"]:
                raise ValueError(f"person {person_id} does not hold the role {role.value}")
        await connection.execute(
            "INSERT INTO auth.staff_tokens (token_id, role, token_hash, label, person_id, expires_at)"
            " VALUES ($1, $2, $3, $4, $5, now() + $6::interval)",
            token_id,
            role.value,
            token_hash(token),
            label,
            person_id,
            expires_in,
        )
    return token_id, token


async def revoke_token(connection: asyncpg.Connection, token_id: uuid.UUID) -> bool:
    """Revoke a token for good; returns whether it exists. Revoking twice keeps the first date."""
    status = await connection.execute(
        "UPDATE auth.staff_tokens SET revoked_at = coalesce(revoked_at, now()) WHERE token_id = $1", token_id
    )
    return str(status) == "UPDATE 1"


async def find_staff(connection: asyncpg.Connection | asyncpg.Pool, token: str) -> Staff | None:
    """The staff behind ``token``, or None unless it is live and its person active in its role."""
    row = await connection.fetchrow(
        "SELECT t.token_id, t.role, s.person_id, s.display_name"
        " FROM auth.staff_tokens t JOIN auth.staff s ON s.person_id = t.person_id"
        " WHERE t.token_hash = $1 AND t.revoked_at IS NULL"
        " AND (t.expires_at IS NULL OR t.expires_at > now())"
        " AND s.active AND t.role = ANY (s.roles)",
        token_hash(token),
    )
    if row is None:
        return None
    return Staff(row["token_id"], Role(row["role"]), row["person_id"], row["display_name"])


UNAUTHORIZED = HTTPException(
    status_code=401,
    detail="A valid staff bearer token is required.",
    headers={"WWW-Authenticate": "Bearer"},
)


async def optional_staff(request: Request) -> Staff | None:
    """The staff member behind the request, None without credentials; 401 for a bad token."""
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise UNAUTHORIZED
    staff = await find_staff(request.app.state.runtime.pool, token.strip())
    if staff is None:
        raise UNAUTHORIZED
    return staff


def require_role(*roles: Role) -> Callable[[Request], Awaitable[Staff]]:
    """A dependency that admits staff of one of ``roles`` only."""

    async def dependency(request: Request) -> Staff:
        staff = await optional_staff(request)
        if staff is None:
            raise UNAUTHORIZED
        if staff.role not in roles:
            raise HTTPException(status_code=403, detail="Your role does not allow this.")
        return staff

    # The OpenAPI documents read it: a route with this dependency needs a token and may answer 403.
    dependency.roles = roles  # type: ignore[attr-defined]
    return dependency
