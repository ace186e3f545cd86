"""Referral's retention, run as referral's role: a case's consent, match, referrals and their history
go once past the casework limit from the shred of its tip's key. On the provider side, which is not
about a caller: a decided request to be listed or to change a listing (its contact person is
personal data) goes once past its limit, a provider whose listing lapsed and was never confirmed
again leaves the directory entirely once past the directory's limit, and the provider side's audit
(ids, codes and times) once past its own."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from services.common.retention import BATCH, PROVIDER_AUDIT_FLOOR, Kind, Step, after_shred_step, sql_step

# A lapsed organization's records: itself, and every record that names it, one of its services or
# locations, or one of their contacts (HSDS links by organization_id, service_id, location_id,
# contact_id, and generically by link_id and resource_id). Data-modifying CTEs share one snapshot,
# so each DELETE sees the records as they were before any of them.
_LAPSED_DIRECTORY = """
WITH orgs AS (
    SELECT organization_id AS id FROM referral.directory_reconfirmations
    WHERE lapsed_at IS NOT NULL AND lapsed_at < $1 ORDER BY lapsed_at LIMIT $2
), services AS (
    SELECT id FROM referral.hsds_records
    WHERE resource = 'service' AND record ->> 'organization_id' IN (SELECT id FROM orgs)
), locations AS (
    SELECT id FROM referral.hsds_records
    WHERE resource = 'location' AND record ->> 'organization_id' IN (SELECT id FROM orgs)
), contacts AS (
    SELECT id FROM referral.hsds_records
    WHERE resource = 'contact' AND (record ->> 'organization_id' IN (SELECT id FROM orgs)
        OR record ->> 'service_id' IN (SELECT id FROM services)
        OR record ->> 'location_id' IN (SELECT id FROM locations))
), named AS (
    SELECT id FROM orgs UNION SELECT id FROM services UNION SELECT id FROM locations
    UNION SELECT id FROM contacts
), records AS (
    DELETE FROM referral.hsds_records r
    WHERE (r.resource = 'organization' AND r.id IN (SELECT id FROM orgs))
       OR r.record ->> 'organization_id' IN (SELECT id FROM orgs)
       OR r.record ->> 'service_id' IN (SELECT id FROM services)
       OR r.record ->> 'location_id' IN (SELECT id FROM locations)
       OR r.record ->> 'contact_id' IN (SELECT id FROM contacts)
       OR r.record ->> 'link_id' IN (SELECT id FROM named)
       OR r.record ->> 'resource_id' IN (SELECT id FROM named)
), addresses AS (
    DELETE FROM referral.hsds_addresses WHERE location_id IN (SELECT id FROM locations)
), confirmations AS (
    DELETE FROM referral.directory_confirmations
    WHERE (resource = 'organization' AND id IN (SELECT id FROM orgs))
       OR (resource = 'location' AND id IN (SELECT id FROM locations))
), gone AS (
    DELETE FROM referral.directory_reconfirmations WHERE organization_id IN (SELECT id FROM orgs)
    RETURNING organization_id
)
SELECT organization_id FROM gone
"""


async def _forget_lapsed(connection: asyncpg.Connection, cutoff: datetime) -> int:
    gone = await connection.fetch(_LAPSED_DIRECTORY, cutoff, BATCH)
    for row in gone:
        await connection.execute(
            "INSERT INTO referral.provider_audit (subject, action, role) VALUES ($1, 'retention_deleted', 'retention')",
            f"organization:{row['organization_id']}",
        )
    if gone:
        # The public directory and the matcher read the directory by its version.
        await connection.execute("UPDATE referral.directory_state SET version = version + 1")
    return len(gone)


STEPS: tuple[Step, ...] = (
    # Children before the rows they point to.
    after_shred_step(
        Kind.CASEWORK,
        "referral.referral_history",
        tip="r.tip_id",
        via="JOIN referral.referrals r ON r.referral_id = x.referral_id",
    ),
    after_shred_step(Kind.CASEWORK, "referral.referrals"),
    after_shred_step(Kind.CASEWORK, "referral.referral_matches"),
    after_shred_step(Kind.CASEWORK, "referral.consents"),
    sql_step(
        Kind.PROVIDER_REQUESTS,
        "referral.provider_requests",
        "SELECT decided_at AS since, false AS held FROM referral.provider_requests WHERE status <> 'pending'",
        "DELETE FROM referral.provider_requests WHERE request_id = ANY(ARRAY(SELECT request_id"
        " FROM referral.provider_requests WHERE status <> 'pending' AND decided_at < $1 LIMIT $2))",
    ),
    Step(
        Kind.DIRECTORY,
        "referral.hsds_records",
        "SELECT lapsed_at AS since, false AS held FROM referral.directory_reconfirmations"
        " WHERE lapsed_at IS NOT NULL",
        _forget_lapsed,
    ),
    sql_step(
        Kind.PROVIDER_AUDIT,
        "referral.provider_audit",
        "SELECT at AS since, false AS held FROM referral.provider_audit",
        # Its trigger judges by the database's clock: an entry younger than the floor there is left
        # for a later run, never attempted (the DELETE would be refused).
        "DELETE FROM referral.provider_audit WHERE entry_id = ANY(ARRAY(SELECT entry_id"
        f" FROM referral.provider_audit WHERE at < $1 AND at < now() - interval '{PROVIDER_AUDIT_FLOOR.days} days'"
        " ORDER BY entry_id LIMIT $2))",
    ),
)
