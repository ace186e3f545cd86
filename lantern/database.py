"""Setting a database up as its owner: every schema's migrations, then each service's role."""

from __future__ import annotations

import json
import os
from pathlib import Path

import services
from services.common.db import apply_migrations, apply_shared_migrations, service_migrations
from services.common.roles import (
    ROLES,
    SERVICES,
    ServiceRoles,
    create_roles,
    database_of,
    grant_privileges,
    role_prefix,
)

SERVICES_DIR = Path(services.__file__).parent


async def migrate_all(owner_url: str) -> None:
    """Bring the shared schemas and every service's schema up to date."""
    await apply_shared_migrations(owner_url)
    for name in SERVICES:
        await apply_migrations(owner_url, name, service_migrations(SERVICES_DIR / name / "migrations"))


async def set_up(owner_url: str, roles: ServiceRoles) -> None:
    """Migrate, create the services' roles and grant each its rights; safe to run again."""
    await migrate_all(owner_url)
    await create_roles(owner_url, roles)
    await grant_privileges(owner_url, roles)


def roles_kept_in(path: Path, owner_url: str) -> ServiceRoles:
    """The database's service roles, their passwords kept (0600) in ``path``, made on the first run."""
    prefix = role_prefix(database_of(owner_url))
    kept = json.loads(path.read_text()) if path.exists() else {}
    if kept.get("prefix") == prefix and set(kept.get("passwords", {})) == set(ROLES):
        return ServiceRoles(prefix, kept["passwords"])
    roles = ServiceRoles.generate(prefix)
    if kept.get("prefix") == prefix and set(kept.get("passwords", {})) < set(ROLES):
        # A role added since (the public directory's): its password is new, every other one is kept,
        # or the running services' DATABASE_URLs would stop working.
        roles = ServiceRoles(prefix, {**roles.passwords, **kept["passwords"]})
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as roles_file:
        json.dump({"prefix": roles.prefix, "passwords": dict(roles.passwords)}, roles_file, indent=2)
    return roles
