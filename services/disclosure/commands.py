"""Disclosure's operator commands: what `lantern` may use of this service besides its app."""

from __future__ import annotations

import asyncpg

from services.common.agency_keys import AgencyKeyError, AgencyPublicKeys
from services.disclosure.adapters.agency_keys import PostgresAgencyKeys
from services.disclosure.adapters.audit import verify as verify_audit
from services.disclosure.domain.audit import BrokenLink
from services.disclosure.domain.routing import load_routing

__all__ = ["BrokenLink", "agency_ids", "register_agency_key", "registered_agency_keys", "verify_audit"]


def agency_ids() -> tuple[str, ...]:
    """Every agency the jurisdiction table can send a package to."""
    return tuple(agency.agency_id for agency in load_routing().agencies)


async def register_agency_key(connection: asyncpg.Connection, keys: AgencyPublicKeys) -> bool:
    """Make ``keys`` the agency's current key (on a connection to disclosure's schema); False if it
    already was. Only agencies of the jurisdiction table are known."""
    if keys.agency_id not in agency_ids():
        raise AgencyKeyError("agency_id: not an agency of the jurisdiction table")
    return await PostgresAgencyKeys(connection).register(keys)


async def registered_agency_keys(connection: asyncpg.Connection) -> list[asyncpg.Record]:
    """Every registered key (key id, agency, registered, retired), never a key itself."""
    return await PostgresAgencyKeys(connection).registered()
