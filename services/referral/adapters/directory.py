"""The HSDS 3.0 directory in PostgreSQL: import, a partnership specialist's confirmations, the matcher's
view, the public view (for the HSDS API, the public list and the export) and a confidential address.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import asyncpg

from services.referral.adapters import datapackage
from services.referral.domain import hsds
from services.referral.domain.directory import Directory


@dataclass
class ImportReport:
    organizations: int = 0
    services: int = 0
    locations: int = 0
    errors: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)
    not_matchable: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)
    unconfirmed: list[str] = field(default_factory=list)  # organizations not public until confirmed


def parse(path: Path) -> tuple[hsds.Tables, list[str]]:
    """Every record of an HSDS datapackage or JSON file, validated; problems name table, record and field."""
    tables, _sample, problems = datapackage.read(path)
    return tables, problems


async def store_records(
    connection: asyncpg.Connection, table: str, records: dict[str, Any], *, rewrite_unchanged: bool = False
) -> None:
    """Insert or update ``records`` of one HSDS table (addresses in their own table, by location). A
    record whose content did not change keeps its ``updated_at`` unless ``rewrite_unchanged``."""
    if not records:
        return
    if table == "address":
        await connection.executemany(
            "INSERT INTO hsds_addresses (id, location_id, record) VALUES ($1, $2, $3)"
            " ON CONFLICT (id) DO UPDATE SET location_id = excluded.location_id, record = excluded.record,"
            " updated_at = now()",
            [(key, record.get("location_id"), record) for key, record in records.items()],
        )
        return
    only_changed = "" if rewrite_unchanged else " WHERE hsds_records.record IS DISTINCT FROM excluded.record"
    await connection.executemany(
        "INSERT INTO hsds_records (resource, id, record) VALUES ($1, $2, $3)"
        " ON CONFLICT (resource, id) DO UPDATE SET record = excluded.record, updated_at = now()"
        + only_changed,
        [(table, key, record) for key, record in records.items()],
    )


async def import_tables(
    connection: asyncpg.Connection, tables: hsds.Tables, stale_after: timedelta
) -> ImportReport:
    """Insert or update every record in one transaction; a parent's children that the file no longer
    lists are removed with it, so re-importing a file updates it in place.
    """
    async with connection.transaction():
        for table in hsds.TABLES:
            await store_records(connection, table, tables[table])
        for table, links in hsds.LINKS.items():
            for link in links:
                parents = list(tables[link.removesuffix("_id")])
                if not parents:
                    continue
                if table == "address":
                    await connection.execute(
                        "DELETE FROM hsds_addresses WHERE location_id = ANY($1::text[]) AND id <> ALL($2::text[])",
                        parents, list(tables[table]),
                    )  # fmt: skip
                else:
                    await connection.execute(
                        "DELETE FROM hsds_records WHERE resource = $1 AND record ->> $2 = ANY($3::text[])"
                        " AND id <> ALL($4::text[])",
                        table, link, parents, list(tables[table]),
                    )  # fmt: skip
        await connection.execute("UPDATE directory_state SET imported_at = now()")
        await changed(connection)
        stored, confirmations = await stored_directory(connection, with_addresses=False)
    return _report(tables, stored, confirmations, stale_after)


def _report(
    imported: hsds.Tables, stored: hsds.Tables, confirmations: hsds.Confirmations, stale_after: timedelta
) -> ImportReport:
    report = ImportReport(
        organizations=len(imported["organization"]), services=len(imported["service"]),
        locations=len(imported["location"]),
    )  # fmt: skip
    oldest = date.today() - stale_after
    for profiled in hsds.providers(stored, confirmations):
        if profiled.service_id not in imported["service"]:
            continue
        if profiled.provider is None:
            report.not_matchable.append((profiled.service_id, profiled.missing))
        elif profiled.provider.last_verified_on and profiled.provider.last_verified_on < oldest:
            report.stale.append(profiled.service_id)
    report.unconfirmed = sorted(
        key for key, organization in stored["organization"].items()
        if key in imported["organization"] and key not in confirmations.public
        and not isinstance(organization.get("public_listing"), bool)
    )  # fmt: skip
    return report


async def stored_directory(
    connection: asyncpg.Connection | asyncpg.Pool, with_addresses: bool
) -> tuple[hsds.Tables, hsds.Confirmations]:
    tables = hsds.merge(hsds.profile_taxonomy())
    for row in await connection.fetch("SELECT resource, id, record FROM hsds_records"):
        tables[row["resource"]][row["id"]] = json_object(row["record"])
    if with_addresses:
        for row in await connection.fetch("SELECT id, record FROM hsds_addresses"):
            tables["address"][row["id"]] = json_object(row["record"])
    public: dict[str, bool] = {}
    address_public: dict[str, bool] = {}
    for row in await connection.fetch("SELECT resource, id, public FROM directory_confirmations"):
        (public if row["resource"] == "organization" else address_public)[row["id"]] = row["public"]
    lapsed = await connection.fetch(
        "SELECT organization_id FROM directory_reconfirmations WHERE lapsed_at IS NOT NULL"
    )
    return tables, hsds.Confirmations(public, address_public, frozenset(row[0] for row in lapsed))


def json_object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else json.loads(value)


async def confirm(connection: asyncpg.Connection, resource: str, key: str, public: bool, by: str) -> bool:
    """A partnership specialist's answer; False when there is no such record."""
    async with connection.transaction():
        exists = await connection.fetchval("SELECT EXISTS (SELECT 1 FROM hsds_records WHERE resource = $1 AND id = $2)", resource, key)  # fmt: skip
        if not exists:
            return False
        await connection.execute(
            "INSERT INTO directory_confirmations (resource, id, public, confirmed_by) VALUES ($1, $2, $3, $4)"
            " ON CONFLICT (resource, id) DO UPDATE SET public = excluded.public,"
            " confirmed_by = excluded.confirmed_by, confirmed_at = now()",
            resource, key, public, by,
        )  # fmt: skip
        await changed(connection)
    return True


async def version(connection: asyncpg.Connection | asyncpg.Pool) -> int:
    value: int = await connection.fetchval("SELECT version FROM directory_state")
    return value


async def changed(connection: asyncpg.Connection) -> None:
    """The directory changed, in the caller's transaction: a new version, published at once.

    The version row is locked first, so concurrent changes publish one after the other.
    """
    await connection.execute("UPDATE directory_state SET version = version + 1")
    await publish(connection)


async def publish(connection: asyncpg.Connection) -> None:
    """Write the public directory (``hsds.public``) to ``public_directory``, replacing what was there."""
    async with connection.transaction():
        current = await connection.fetchval("SELECT version FROM directory_state FOR UPDATE")
        tables, confirmations = await stored_directory(connection, with_addresses=True)
        shown = hsds.public(tables, confirmations)
        await connection.execute("DELETE FROM public_directory")
        await connection.executemany(
            "INSERT INTO public_directory (resource, id, record) VALUES ($1, $2, $3)",
            [(table, key, record) for table, records in shown.items() for key, record in records.items()],
        )
        await connection.execute("UPDATE directory_state SET published_version = $1", current)


async def publish_if_behind(connection: asyncpg.Connection) -> bool:
    """Publish when the published copy is older than the directory (a database just migrated)."""
    behind = await connection.fetchval("SELECT version <> published_version FROM directory_state")
    if behind:
        await publish(connection)
    return bool(behind)


async def published_version(connection: asyncpg.Connection | asyncpg.Pool) -> int:
    value: int = await connection.fetchval("SELECT published_version FROM directory_state")
    return value


async def load(connection: asyncpg.Connection | asyncpg.Pool) -> Directory:
    """Every matchable provider, public or not (an opted-out provider is still matched)."""
    tables, confirmations = await stored_directory(connection, with_addresses=False)
    return Directory.of(p.provider for p in hsds.providers(tables, confirmations) if p.provider is not None)


async def public_tables(connection: asyncpg.Connection | asyncpg.Pool) -> hsds.Tables:
    """The public directory as published: the only way the HSDS API, the public list and the export
    read the store (and all that the public deployment's role may read)."""
    tables = hsds.empty()
    for row in await connection.fetch("SELECT resource, id, record FROM public_directory"):
        tables.setdefault(row["resource"], {})[row["id"]] = json_object(row["record"])
    return tables


async def confidential_address(connection: asyncpg.Connection, service_id: str) -> str | None:
    """The first location's address, for staff in an accepted referral only."""
    row = await connection.fetchrow(
        "SELECT a.record FROM hsds_records sl JOIN hsds_addresses a ON a.location_id = sl.record ->> 'location_id'"
        " WHERE sl.resource = 'service_at_location' AND sl.record ->> 'service_id' = $1"
        " ORDER BY sl.record ->> 'location_id', a.record ->> 'address_type' = 'physical' DESC, a.id LIMIT 1",
        service_id,
    )
    if row is None:
        return None
    record = json_object(row["record"])
    parts = [record.get(key) for key in ("address_1", "address_2", "city", "state_province", "postal_code")]
    return ", ".join(str(part) for part in parts if part)


async def import_file(
    database_url: str, path: Path, stale_after: timedelta, only_if_empty: bool = False
) -> ImportReport:
    """Validate a file and, if every record is valid, import it; with ``only_if_empty``, import
    nothing into a directory that already has services.
    """
    from services.common.db import connect

    tables, problems = parse(path)
    if problems:
        return ImportReport(errors=problems)
    connection = await connect(database_url, "referral")
    try:
        if only_if_empty and await connection.fetchval(
            "SELECT EXISTS (SELECT 1 FROM hsds_records WHERE resource = 'service')"
        ):
            return ImportReport()
        return await import_tables(connection, tables, stale_after)
    finally:
        await connection.close()


async def export(database_url: str, folder: Path) -> list[Path]:
    """The public directory as an HSDS 3.0 tabular datapackage."""
    from services.common.db import connect

    connection = await connect(database_url, "referral")
    try:
        await publish_if_behind(connection)  # a database migrated since referral last ran
        tables = await public_tables(connection)
    finally:
        await connection.close()
    sample = bool(tables["organization"]) and all(
        o.get("sample") is True for o in tables["organization"].values()
    )
    return datapackage.write(tables, folder, sample)


async def confirm_in(database_url: str, resource: str, key: str, public: bool, by: str) -> bool:
    from services.common.db import connect

    connection = await connect(database_url, "referral")
    try:
        return await confirm(connection, resource, key, public, by)
    finally:
        await connection.close()
