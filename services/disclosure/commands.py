"""Disclosure's operator commands: what `lantern` may use of this service besides its app."""

from __future__ import annotations

from services.common.db import connect
from services.disclosure.adapters import audit
from services.disclosure.adapters.witness import FileWitness, WitnessUnreadable
from services.disclosure.domain.audit import BrokenLink, Status, Verdict
from services.disclosure.settings import AuditConfigurationError, AuditSettings

__all__ = ["AuditConfigurationError", "AuditSettings", "BrokenLink", "Status", "Verdict", "verify_audit"]


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
