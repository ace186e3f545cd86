"""The directory in PostgreSQL: import (JSON datapackage or CSV), the matcher's view, the public list."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import asyncpg
from pydantic import ValidationError

from schemas.referral import AreaLevel, Population
from schemas.tip import GenderIdentity, Need
from services.common import errors
from services.referral.adapters import datapackage
from services.referral.domain.directory import Area, Directory, Provider, folded
from services.referral.domain.records import DirectoryPackage, Organization

CSV_LISTS = ("service_types", "languages", "genders", "populations_only", "population_focus", "areas")


@dataclass
class ImportReport:
    organizations: int = 0
    services: int = 0
    locations: int = 0
    errors: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)


def parse(path: Path) -> tuple[list[Organization], list[str]]:
    """Read and validate every record of an HSDS datapackage (its ``datapackage.json`` or folder), a JSON
    package or a CSV file; errors name the record and the field.
    """
    if path.name == "datapackage.json" or path.is_dir():
        raw, sample, unreadable = datapackage.read(path / "datapackage.json" if path.is_dir() else path)
        if unreadable:
            return [], unreadable
        return _validated(raw, sample)
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() == ".csv":
        raw, sample = _organizations_from_csv(text), False
    else:
        try:
            document = json.loads(text)
        except json.JSONDecodeError as error:
            return [], [f"{path.name}: not JSON (line {error.lineno}, column {error.colno})"]
        raw, sample = list(document.get("organizations", [])), bool(document.get("sample", False))
        try:
            DirectoryPackage.model_validate({**document, "organizations": []})
        except ValidationError as error:
            return [], [_describe("package", error, DirectoryPackage)]
    return _validated(raw, sample)


def _validated(raw: list[dict[str, Any]], sample: bool) -> tuple[list[Organization], list[str]]:
    organizations, problems = [], []
    for number, record in enumerate(raw, 1):
        try:
            organization = Organization.model_validate({"sample": sample, **record})
        except ValidationError as error:
            label = f"organization {number}" + (
                f" ({record.get('id')})" if isinstance(record.get("id"), str) else ""
            )
            problems.append(_describe(label, error, Organization, record))
            continue
        organizations.append(organization)
    return organizations, problems


def _describe(label: str, error: ValidationError, model: Any, record: dict[str, Any] | None = None) -> str:
    """Each problem as `record › field: rule (message)`, naming nested services by id, never echoing values."""
    parts = []
    for field_error, detail in zip(errors.describe(error, model), error.errors(), strict=True):
        where = field_error.field
        location = detail["loc"]
        if record and len(location) >= 2 and location[0] == "services" and isinstance(location[1], int):
            services = record.get("services") or []
            if location[1] < len(services) and isinstance(services[location[1]], dict):
                where = f"service {services[location[1]].get('id', location[1])}: {where}"
        parts.append(f"{where}: {field_error.rule} ({field_error.message})")
    return f"{label}: " + "; ".join(parts)


def _organizations_from_csv(text: str) -> list[dict[str, Any]]:
    """One row per service; the organization's columns repeat on each of its rows."""
    organizations: dict[str, dict[str, Any]] = {}
    for row in csv.DictReader(io.StringIO(text)):
        cells = {key.strip(): (value or "").strip() for key, value in row.items() if key}
        organization = organizations.setdefault(
            cells.get("organization_id", ""),
            {
                "id": cells.get("organization_id"), "name": cells.get("organization_name"),
                "website": cells.get("website") or None, "public_listing": datapackage.flag(cells.get("public_listing", "true")),
                "sample": datapackage.flag(cells.get("sample", "false")), "locations": [], "services": [],
            },
        )  # fmt: skip
        location_id = f"{cells.get('service_id')}-site"
        organization["locations"].append(
            {
                "id": location_id, "name": cells.get("location_name") or cells.get("city"), "city": cells.get("city"),
                "province": cells.get("province"), "latitude": datapackage.number(cells.get("latitude")),
                "longitude": datapackage.number(cells.get("longitude")), "public_address": cells.get("public_address") or None,
                "confidential_address": cells.get("confidential_address") or None,
            }
        )  # fmt: skip
        lists = {name: [item for item in cells.get(name, "").split("|") if item] for name in CSV_LISTS}
        service: dict[str, Any] = {
            "id": cells.get("service_id"), "name": cells.get("service_name"), "location_ids": [location_id],
            "service_areas": [_area(text) for text in lists["areas"]], "service_types": lists["service_types"],
            "languages": lists["languages"], "interpretation": datapackage.flag(cells.get("interpretation", "false")),
            "minimum_age": datapackage.number(cells.get("minimum_age"), int), "maximum_age": datapackage.number(cells.get("maximum_age"), int),
            "genders": lists["genders"], "populations_only": lists["populations_only"],
            "population_focus": lists["population_focus"],
            "trafficking_specialised": datapackage.flag(cells.get("trafficking_specialised", "false")),
            "open_24_7": datapackage.flag(cells.get("open_24_7", "false")), "phone": cells.get("phone") or None,
            "last_verified_on": cells.get("last_verified_on"),
        }  # fmt: skip
        if cells.get("capacity_available"):
            service["capacity"] = {"available": datapackage.number(cells["capacity_available"], int)}
        organization["services"].append(service)
    return list(organizations.values())


def _area(text: str) -> dict[str, Any]:
    """`national`, `province:ON` or `city:ON:Ottawa`."""
    scope, _, rest = text.partition(":")
    province, _, city = rest.partition(":")
    return {"scope": scope, "province": province or None, "city": city or None}


async def import_organizations(
    connection: asyncpg.Connection, organizations: list[Organization], stale_after: timedelta
) -> ImportReport:
    """Insert or update every record in one transaction; re-importing a file updates it in place."""
    report = ImportReport()
    async with connection.transaction():
        for organization in organizations:
            await _upsert(connection, organization)
            report.organizations += 1
            report.locations += len(organization.locations)
            report.services += len(organization.services)
            report.stale += [
                service.id
                for service in organization.services
                if service.last_verified_on < date.today() - stale_after
            ]
        await connection.execute("UPDATE directory_state SET version = version + 1, imported_at = now()")
    return report


async def _upsert(connection: asyncpg.Connection, organization: Organization) -> None:
    await connection.execute(
        "INSERT INTO organizations (id, name, description, website, email, public_listing, sample)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO UPDATE SET name = excluded.name,"
        " description = excluded.description, website = excluded.website, email = excluded.email,"
        " public_listing = excluded.public_listing, sample = excluded.sample, updated_at = now()",
        organization.id, organization.name, organization.description, organization.website, organization.email,
        organization.public_listing, organization.sample,
    )  # fmt: skip
    await connection.executemany(
        "INSERT INTO locations (id, organization_id, name, city, province, latitude, longitude, public_address)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO UPDATE SET organization_id = excluded.organization_id,"
        " name = excluded.name, city = excluded.city, province = excluded.province, latitude = excluded.latitude,"
        " longitude = excluded.longitude, public_address = excluded.public_address",
        [
            (
                loc.id,
                organization.id,
                loc.name,
                loc.city,
                loc.province.value,
                loc.latitude,
                loc.longitude,
                loc.public_address,
            )
            for loc in organization.locations
        ],
    )
    for location in organization.locations:
        if location.confidential_address:
            await connection.execute(
                "INSERT INTO confidential_addresses (location_id, address) VALUES ($1, $2)"
                " ON CONFLICT (location_id) DO UPDATE SET address = excluded.address",
                location.id, location.confidential_address,
            )  # fmt: skip
        else:
            await connection.execute("DELETE FROM confidential_addresses WHERE location_id = $1", location.id)
    for service in organization.services:
        await connection.execute(
            "INSERT INTO services (id, organization_id, name, description, status, service_types, languages,"
            " interpretation, minimum_age, maximum_age, genders, populations_only, population_focus,"
            " trafficking_specialised, phone, last_verified_on) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10,"
            " $11, $12, $13, $14, $15, $16) ON CONFLICT (id) DO UPDATE SET organization_id = excluded.organization_id,"
            " name = excluded.name, description = excluded.description, status = excluded.status,"
            " service_types = excluded.service_types, languages = excluded.languages,"
            " interpretation = excluded.interpretation, minimum_age = excluded.minimum_age,"
            " maximum_age = excluded.maximum_age, genders = excluded.genders,"
            " populations_only = excluded.populations_only, population_focus = excluded.population_focus,"
            " trafficking_specialised = excluded.trafficking_specialised, phone = excluded.phone,"
            " last_verified_on = excluded.last_verified_on, updated_at = now()",
            service.id, organization.id, service.name, service.description, service.status,
            [kind.value for kind in service.service_types], list(service.languages), service.interpretation,
            service.minimum_age, service.maximum_age, [gender.value for gender in service.genders],
            [group.value for group in service.populations_only], [group.value for group in service.population_focus],
            service.trafficking_specialised, service.phone, service.last_verified_on,
        )  # fmt: skip
        await connection.execute("DELETE FROM service_at_location WHERE service_id = $1", service.id)
        await connection.execute("DELETE FROM service_areas WHERE service_id = $1", service.id)
        await connection.executemany(
            "INSERT INTO service_at_location (service_id, location_id) VALUES ($1, $2)",
            [(service.id, location_id) for location_id in service.location_ids],
        )
        await connection.executemany(
            "INSERT INTO service_areas (service_id, scope, province, city) VALUES ($1, $2, $3, $4)",
            [
                (service.id, area.scope.value, area.province.value if area.province else None, area.city)
                for area in service.service_areas
            ],
        )
        await connection.execute(
            "INSERT INTO schedules (service_id, open_24_7) VALUES ($1, $2)"
            " ON CONFLICT (service_id) DO UPDATE SET open_24_7 = excluded.open_24_7",
            service.id, service.open_24_7,
        )  # fmt: skip
        if service.capacity is not None:
            await connection.execute(
                "INSERT INTO service_capacity (service_id, available, maximum) VALUES ($1, $2, $3)"
                " ON CONFLICT (service_id) DO UPDATE SET available = excluded.available,"
                " maximum = excluded.maximum, updated_at = now()",
                service.id, service.capacity.available, service.capacity.maximum,
            )  # fmt: skip
        else:
            await connection.execute("DELETE FROM service_capacity WHERE service_id = $1", service.id)


DIRECTORY = """
SELECT s.*, o.name AS organization, o.public_listing, o.sample, sc.open_24_7, cap.available,
       l.city, l.province, l.latitude, l.longitude,
       coalesce((SELECT jsonb_agg(jsonb_build_object('scope', a.scope, 'province', a.province, 'city', a.city))
                 FROM service_areas a WHERE a.service_id = s.id), '[]') AS areas
FROM services s
JOIN organizations o ON o.id = s.organization_id
LEFT JOIN schedules sc ON sc.service_id = s.id
LEFT JOIN service_capacity cap ON cap.service_id = s.id
LEFT JOIN LATERAL (
    SELECT l.* FROM service_at_location sl JOIN locations l ON l.id = sl.location_id
    WHERE sl.service_id = s.id ORDER BY l.id LIMIT 1
) l ON true
"""


async def version(connection: asyncpg.Connection | asyncpg.Pool) -> int:
    value: int = await connection.fetchval("SELECT version FROM directory_state")
    return value


async def load(connection: asyncpg.Connection | asyncpg.Pool) -> Directory:
    """Every provider, public or not (an opted-out provider is still matched), as the matcher needs it."""
    return Directory.of(_provider(row) for row in await connection.fetch(DIRECTORY))


def _provider(row: asyncpg.Record) -> Provider:
    areas = row["areas"] if isinstance(row["areas"], list) else json.loads(row["areas"])
    return Provider(
        provider_id=row["id"], name=row["name"], organization=row["organization"],
        areas=tuple(
            Area(AreaLevel(a["scope"]), a["province"], folded(a["city"]) if a["city"] else None) for a in areas
        ),
        service_types=frozenset(Need(kind) for kind in row["service_types"]), languages=frozenset(row["languages"]),
        interpretation=row["interpretation"], minimum_age=row["minimum_age"], maximum_age=row["maximum_age"],
        genders=frozenset(GenderIdentity(g) for g in row["genders"]),
        populations_only=frozenset(Population(p) for p in row["populations_only"]),
        population_focus=frozenset(Population(p) for p in row["population_focus"]),
        trafficking_specialised=row["trafficking_specialised"], open_24_7=bool(row["open_24_7"]),
        capacity_available=row["available"], city=row["city"], province=row["province"], latitude=row["latitude"],
        longitude=row["longitude"], public_listing=row["public_listing"], active=row["status"] == "active",
        last_verified_on=row["last_verified_on"], sample=row["sample"],
    )  # fmt: skip


PUBLIC = """
SELECT s.id, s.name, o.name AS organization, o.website, s.phone, s.service_types, s.languages, s.interpretation,
       s.minimum_age, s.maximum_age, sc.open_24_7, s.last_verified_on, o.sample,
       l.city, l.province, l.public_address,
       coalesce((SELECT jsonb_agg(jsonb_build_object('scope', a.scope, 'province', a.province, 'city', a.city))
                 FROM service_areas a WHERE a.service_id = s.id), '[]') AS areas
FROM services s
JOIN organizations o ON o.id = s.organization_id
LEFT JOIN schedules sc ON sc.service_id = s.id
LEFT JOIN LATERAL (
    SELECT l.city, l.province, l.public_address FROM service_at_location sl JOIN locations l ON l.id = sl.location_id
    WHERE sl.service_id = s.id ORDER BY l.id LIMIT 1
) l ON true
WHERE o.public_listing AND s.status = 'active'
  AND ($1::text IS NULL OR EXISTS (SELECT 1 FROM service_areas a WHERE a.service_id = s.id
        AND (a.scope = 'national' OR a.province = $1)))
  AND ($2::text IS NULL OR EXISTS (SELECT 1 FROM service_areas a WHERE a.service_id = s.id
        AND (a.scope <> 'city' OR lower(a.city) = lower($2))))
  AND ($3::text IS NULL OR $3 = ANY (s.service_types))
  AND ($4::text IS NULL OR $4 = ANY (s.languages) OR s.interpretation)
ORDER BY o.name, s.name
LIMIT $5
"""


async def public_services(
    pool: asyncpg.Pool,
    province: str | None,
    city: str | None,
    service_type: str | None,
    language: str | None,
    limit: int,
) -> list[asyncpg.Record]:
    """Publicly listed, active services only; the query never touches confidential addresses."""
    return list(await pool.fetch(PUBLIC, province, city, service_type, language, limit))


async def confidential_address(connection: asyncpg.Connection, service_id: str) -> str | None:
    address: str | None = await connection.fetchval(
        "SELECT c.address FROM service_at_location sl JOIN confidential_addresses c USING (location_id)"
        " WHERE sl.service_id = $1 ORDER BY sl.location_id LIMIT 1",
        service_id,
    )
    return address


async def import_file(
    database_url: str, path: Path, stale_after: timedelta, only_if_empty: bool = False
) -> ImportReport:
    """Validate a file and, if every record is valid, import it; with ``only_if_empty``, import
    nothing into a directory that already has providers.
    """
    from services.common.db import connect

    organizations, problems = parse(path)
    if problems:
        return ImportReport(errors=problems)
    connection = await connect(database_url, "referral")
    try:
        if only_if_empty and await connection.fetchval("SELECT EXISTS (SELECT 1 FROM services)"):
            return ImportReport()
        return await import_organizations(connection, organizations, stale_after)
    finally:
        await connection.close()
