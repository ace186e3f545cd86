"""Staff bearer tokens with roles. A token is shown once; only its SHA-256 is stored."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum

import asyncpg
from fastapi import HTTPException, Request

TOKEN_PREFIX = "lt_"  # noqa: S105 - a marker that makes leaked tokens easy to scan for, not a secret


class Role(StrEnum):
    SPECIALIST = "specialist"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


@dataclass(frozen=True, slots=True)
class Staff:
    token_id: uuid.UUID
    role: Role


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


async def create_token(connection: asyncpg.Connection, role: Role, label: str = "") -> tuple[uuid.UUID, str]:
    """Create a token for ``role``; return its id and the token, which is never stored."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token_id = uuid.uuid4()
    await connection.execute(
        "INSERT INTO auth.staff_tokens (token_id, role, token_hash, label) VALUES ($1, $2, $3, $4)",
        token_id,
        role.value,
        token_hash(token),
        label,
    )
    return token_id, token


async def find_staff(connection: asyncpg.Connection | asyncpg.Pool, token: str) -> Staff | None:
    row = await connection.fetchrow(
        "SELECT token_id, role FROM auth.staff_tokens WHERE token_hash = $1 AND revoked_at IS NULL",
        token_hash(token),
    )
    return Staff(row["token_id"], Role(row["role"])) if row else None


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

    return dependency
