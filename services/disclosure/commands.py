"""Disclosure's operator commands: what `lantern` may use of this service besides its app."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from services.common.agency_keys import AgencyKeyError, AgencyPublicKeys
from services.common.db import connect
from services.common.retention import Kind, Policy
from services.disclosure.adapters import audit
from services.disclosure.adapters.agency_keys import PostgresAgencyKeys
from services.disclosure.adapters.audit import AuditNotPrunable, AuditPruneContended, Pruning
from services.disclosure.adapters.witness import FileWitness, WitnessUnreadable
from services.disclosure.domain.audit import BrokenLink, Status, Verdict
from services.disclosure.domain.routing import load_routing
from services.disclosure.retention import AUDIT_SOURCE
from services.disclosure.settings import AuditConfigurationError, AuditSettings

__all__ = [
    "AUDIT_SOURCE", "AuditConfigurationError", "AuditNotPrunable", "AuditPruneContended", "AuditSettings", "BrokenLink", "Pruning", "Status",
    "Verdict", "agency_ids", "prune_audit", "register_agency_key", "registered_agency_keys", "verify_audit",
]  # fmt: skip


async def verify_audit(database_url: str, settings: AuditSettings) -> Verdict:
    """Check the audit's keyed chain against the heads its witness holds (read only: anchors nothing)."""
    key, witness = settings.chain_key(), FileWitness(settings.witness_path())
    connection = await connect(database_url, "disclosure")
    try:
        return await audit.verify(connection, key, witness)
    except WitnessUnreadable as unreadable:
        return Verdict(Status.TAMPERED, 0, BrokenLink(0, str(unreadable)))
    finally:
        await connection.close()


async def prune_audit(owner_url: str, settings: AuditSettings, policy: Policy, now: datetime) -> Pruning:
    """As the owner: prune the audit entries past the audit's limit behind a checkpoint entry, so that
    the chain still verifies (``adapters.audit.prune``). Refused on a chain that does not verify."""
    key, witness = settings.chain_key(), FileWitness(settings.witness_path())
    connection = await connect(owner_url, "disclosure")
    try:
        return await audit.prune(connection, key, witness, now - policy.limit(Kind.AUDIT), actor="retention")
    finally:
        await connection.close()


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
