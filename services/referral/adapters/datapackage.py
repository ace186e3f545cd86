"""Reading an Open Referral HSDS 3 datapackage: a Frictionless ``datapackage.json`` that names one CSV
per HSDS table, with this project's Canadian profile columns. The tables are joined into the same
organization records the JSON package holds, so both go through one validation.

Tables read (HSDS field names, profile columns in brackets):
- organization: id, name, description, website, email, [public_listing, sample]
- service: id, organization_id, name, description, status, minimum_age, maximum_age,
  [interpretation, trafficking_specialised, phone, last_verified_on]
- location: id, organization_id, name, latitude, longitude, [city, province, public_address,
  confidential_address]
- service_at_location: service_id, location_id
- service_area: service_id, [scope, province, city]
- language: service_id, code
- schedule: service_id, [open_24_7]
- service_capacity: service_id, available, maximum
- attribute: link_id (a service id), [taxonomy: service_type, gender, population_only,
  population_focus], value
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

TABLES = (
    "organization", "service", "location", "service_at_location", "service_area", "language", "schedule",
    "service_capacity", "attribute",
)  # fmt: skip
ATTRIBUTE_LISTS = {"service_type": "service_types", "gender": "genders", "population_only": "populations_only",
                   "population_focus": "population_focus"}  # fmt: skip


def read(descriptor: Path) -> tuple[list[dict[str, Any]], bool, list[str]]:
    """Organization records from a datapackage, whether it is sample data, and what could not be read."""
    package = json.loads(descriptor.read_text(encoding="utf-8"))
    resources = {resource.get("name"): resource.get("path") for resource in package.get("resources", [])}
    missing = [name for name in ("organization", "service") if name not in resources]
    if missing:
        return [], False, [f"{descriptor.name}: resources {', '.join(missing)} are required"]
    paths = {name: _inside(descriptor.parent, resources[name]) for name in TABLES if name in resources}
    outside = [name for name, path in paths.items() if path is None]
    if outside:
        return [], False, [f"{descriptor.name}: resources {', '.join(outside)} point outside the package"]
    rows = {name: _rows(path) if (path := paths.get(name)) else [] for name in TABLES}
    by_service: dict[str, dict[str, list[dict[str, str]]]] = defaultdict(lambda: defaultdict(list))
    for table in ("service_at_location", "service_area", "language", "schedule", "service_capacity"):
        for row in rows[table]:
            by_service[row.get("service_id", "")][table].append(row)
    for row in rows["attribute"]:
        by_service[row.get("link_id", "")]["attribute"].append(row)
    locations: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows["location"]:
        locations[row.get("organization_id", "")].append(_location(row))
    services: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows["service"]:
        services[row.get("organization_id", "")].append(_service(row, by_service[row.get("id", "")]))
    organizations = [
        {
            "id": row.get("id"),
            "name": row.get("name"),
            "description": row.get("description") or None,
            "website": row.get("website") or None,
            "email": row.get("email") or None,
            "public_listing": flag(row.get("public_listing", "true")),
            "sample": flag(row.get("sample", "false")),
            "locations": locations[row.get("id", "")],
            "services": services[row.get("id", "")],
        }
        for row in rows["organization"]
    ]
    return organizations, bool(package.get("sample", False)), []


def _inside(package: Path, path: object) -> Path | None:
    """A resource's file, when it is a relative path to a file within the package's folder.

    A descriptor is data from outside: "../../etc/passwd", an absolute path, a symbolic link out of
    the folder or a URL would make the import read, and report on, a file it has no business with.
    """
    if not isinstance(path, str) or not path or "://" in path or Path(path).is_absolute():
        return None
    root = package.resolve()
    resolved = (root / path).resolve()
    return resolved if resolved.is_relative_to(root) and resolved != root else None


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as file:
        return [
            {key.strip(): (value or "").strip() for key, value in row.items() if key}
            for row in csv.DictReader(file)
        ]


def _location(row: dict[str, str]) -> dict[str, Any]:
    return {
        "id": row.get("id"), "name": row.get("name") or row.get("city"), "city": row.get("city"),
        "province": row.get("province"), "latitude": number(row.get("latitude")),
        "longitude": number(row.get("longitude")), "public_address": row.get("public_address") or None,
        "confidential_address": row.get("confidential_address") or None,
    }  # fmt: skip


def _service(row: dict[str, str], linked: dict[str, list[dict[str, str]]]) -> dict[str, Any]:
    lists: dict[str, list[str]] = {field: [] for field in ATTRIBUTE_LISTS.values()}
    for attribute in linked["attribute"]:
        field = ATTRIBUTE_LISTS.get(attribute.get("taxonomy", ""))
        if field is None:
            lists.setdefault("unknown_taxonomy", []).append(attribute.get("taxonomy", ""))
        else:
            lists[field].append(attribute.get("value", ""))
    capacity = linked["service_capacity"][0] if linked["service_capacity"] else None
    schedule = linked["schedule"][0] if linked["schedule"] else {}
    return {
        "id": row.get("id"), "name": row.get("name"), "description": row.get("description") or None,
        "status": row.get("status") or "active",
        "location_ids": [link.get("location_id") for link in linked["service_at_location"]],
        "service_areas": [
            {"scope": area.get("scope"), "province": area.get("province") or None, "city": area.get("city") or None}
            for area in linked["service_area"]
        ],
        "languages": [language.get("code") for language in linked["language"]],
        "interpretation": flag(row.get("interpretation", "false")),
        "minimum_age": number(row.get("minimum_age"), int), "maximum_age": number(row.get("maximum_age"), int),
        "trafficking_specialised": flag(row.get("trafficking_specialised", "false")),
        "open_24_7": flag(schedule.get("open_24_7", "false")), "phone": row.get("phone") or None,
        "capacity": {"available": number(capacity.get("available"), int), "maximum": number(capacity.get("maximum"), int)}
        if capacity else None,
        "last_verified_on": row.get("last_verified_on"), **lists,
    }  # fmt: skip


def flag(text: str | None) -> bool | str:
    lowered = (text or "").lower()
    return {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False, "": False}.get(
        lowered, lowered
    )


def number(text: str | None, kind: type = float) -> Any:
    if not text:
        return None
    try:
        return kind(text)
    except ValueError:
        return text  # validation names the field and the rule
