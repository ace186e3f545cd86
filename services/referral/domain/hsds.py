"""The referral directory as Open Referral HSDS 3.0 tables, and the Lantern Canadian profile read from them.

Records are HSDS records as published: one dict per row, HSDS field names, links by id (a service's
``organization_id``, a phone's ``service_id``...). The profile (docs/hsds-profile.md) adds optional
fields and a taxonomy; a service that lacks what the matcher needs is kept and reported "not matchable
yet" with the field it lacks. What is confidential is decided here, once, for the API and the export.
"""

from __future__ import annotations

import re
import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pydantic import TypeAdapter, ValidationError

from schemas.referral import AreaLevel, Population
from schemas.tip import GenderIdentity, LanguageCode, Need
from services.referral.domain.directory import Area, Provider, folded

HSDS_VERSION = "3.0"
PROFILE = "https://lantern.example/hsds-ca/1.0"
Record = dict[str, Any]
Tables = dict[str, dict[str, Record]]  # table -> id -> record

TABLES = (
    "organization", "program", "service", "attribute", "service_at_location", "location", "phone", "contact",
    "address", "schedule", "funding", "service_area", "required_document", "language", "accessibility",
    "taxonomy_term", "metadata", "meta_table_description", "cost_option", "organization_identifier", "taxonomy",
)  # fmt: skip

# How nested JSON maps onto the tables: parent table -> key -> (child table, the child's link field).
# An object (not a list) is linked the other way: the parent holds the child's id in the link field.
_COMMON = {"attributes": ("attribute", "link_id"), "metadata": ("metadata", "resource_id")}
LISTS: dict[str, dict[str, tuple[str, str]]] = {
    "organization": {
        "funding": ("funding", "organization_id"), "contacts": ("contact", "organization_id"),
        "phones": ("phone", "organization_id"), "locations": ("location", "organization_id"),
        "programs": ("program", "organization_id"), "services": ("service", "organization_id"),
        "organization_identifiers": ("organization_identifier", "organization_id"),
    },
    "service": {
        "phones": ("phone", "service_id"), "schedules": ("schedule", "service_id"),
        "service_areas": ("service_area", "service_id"), "service_at_locations": ("service_at_location", "service_id"),
        "languages": ("language", "service_id"), "funding": ("funding", "service_id"),
        "cost_options": ("cost_option", "service_id"), "required_documents": ("required_document", "service_id"),
        "contacts": ("contact", "service_id"),
    },
    "location": {
        "languages": ("language", "location_id"), "addresses": ("address", "location_id"),
        "contacts": ("contact", "location_id"), "accessibility": ("accessibility", "location_id"),
        "phones": ("phone", "location_id"), "schedules": ("schedule", "location_id"),
    },
    "service_at_location": {
        "contacts": ("contact", "service_at_location_id"), "phones": ("phone", "service_at_location_id"),
        "schedules": ("schedule", "service_at_location_id"),
    },
    "contact": {"phones": ("phone", "contact_id")},
    "phone": {"languages": ("language", "phone_id")},
}  # fmt: skip
OBJECTS: dict[str, dict[str, tuple[str, str]]] = {
    "service": {"organization": ("organization", "organization_id"), "program": ("program", "program_id")},
    "service_at_location": {"location": ("location", "location_id"), "service": ("service", "service_id")},
    "attribute": {"taxonomy_term": ("taxonomy_term", "taxonomy_term_id")},
    "taxonomy_term": {"taxonomy_detail": ("taxonomy", "taxonomy_id")},
}
# Every field of a child table that links it to a parent record.
LINKS: dict[str, tuple[str, ...]] = {
    table: tuple(
        sorted({link for children in LISTS.values() for child, link in children.values() if child == table})
    )
    for table in TABLES
}

# The profile's taxonomy: the matcher's facets as HSDS attributes of a service.
TAXONOMY_ID = str(uuid.uuid5(uuid.NAMESPACE_URL, PROFILE))
FACETS = {
    "need": {need.value for need in Need},
    "gender": {gender.value for gender in GenderIdentity},
    "population-only": {population.value for population in Population},
    "population-focus": {population.value for population in Population},
}
FLAGS = ("trafficking-specialised", "open-24-7")
_LANGUAGE = TypeAdapter(LanguageCode)
_PROVIDER_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,63}$")
# Fields of a confidential location that could lead someone to the door.
LOCATION_SECRETS = ("latitude", "longitude", "description", "transportation", "external_identifier",
                    "external_identifier_type", "url")  # fmt: skip


def term_id(code: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{PROFILE}#{code}"))


def profile_taxonomy() -> Tables:
    """The profile's taxonomy and its terms, with fixed ids so that any publisher can use them."""
    terms = [f"{facet}:{value}" for facet, values in FACETS.items() for value in sorted(values)] + list(FLAGS)
    return {
        "taxonomy": {
            TAXONOMY_ID: {
                "id": TAXONOMY_ID, "name": "Lantern Canadian profile", "uri": PROFILE, "version": "1.0",
                "description": "Needs served, eligibility and focus of services in the Lantern Canadian profile.",
            }
        },
        "taxonomy_term": {
            term_id(code): {
                "id": term_id(code), "code": code, "name": code, "taxonomy_id": TAXONOMY_ID,
                "taxonomy": "Lantern Canadian profile", "description": f"Lantern Canadian profile: {code}.",
            }
            for code in terms
        },
    }  # fmt: skip


def empty() -> Tables:
    return {table: {} for table in TABLES}


def merge(*parts: Tables) -> Tables:
    merged = empty()
    for part in parts:
        for table, records in part.items():
            merged.setdefault(table, {}).update(records)
    return merged


class Unlinkable(ValueError):
    """A nested record without an id: it could not be linked to anything."""


def flatten(objects: Iterable[Any], table: str, where: str) -> Tables:
    """Nested HSDS JSON (an organization with its services, a service with its locations...) as tables."""
    tables = empty()
    for number, item in enumerate(objects, 1):
        _flatten(tables, table, item, {}, f"{where} {table} {number}")
    return tables


def _flatten(tables: Tables, table: str, item: Any, links: Record, where: str) -> str:
    if not isinstance(item, dict) or not isinstance(item.get("id"), str) or not item["id"]:
        raise Unlinkable(f"{where}: id: required (a string)")
    record = {key: value for key, value in item.items() if not _nested(table, key)}
    record.update({key: value for key, value in links.items() if value is not None and key not in record})
    for key, (child, link) in OBJECTS.get(table, {}).items():
        if item.get(key) is not None:
            record.setdefault(link, _flatten(tables, child, item[key], {}, f"{where} › {key}"))
    tables[table][record["id"]] = record
    for key, (child, link) in {**LISTS.get(table, {}), **_COMMON}.items():
        for number, nested in enumerate(item.get(key) or [], 1):
            extra = {link: record["id"]}
            if child == "attribute":
                extra["link_entity"] = table
            elif child == "metadata":
                extra["resource_type"] = table
            _flatten(tables, child, nested, extra, f"{where} › {key} {number}")
    return str(record["id"])


def _nested(table: str, key: str) -> bool:
    return key in LISTS.get(table, {}) or key in OBJECTS.get(table, {}) or key in _COMMON


# --- confidentiality -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Confirmations:
    """A partnership specialist's answers, which take precedence over a file's."""

    public: Mapping[str, bool] = field(default_factory=dict)  # organization id -> may be listed
    address_public: Mapping[str, bool] = field(default_factory=dict)  # location id -> address may be public
    # Organizations that did not confirm their details in time: out of the public directory and not
    # matchable until a partnership specialist confirms them; never deleted.
    lapsed: frozenset[str] = frozenset()


def listed(organization: Record, confirmations: Confirmations) -> bool:
    if organization["id"] in confirmations.lapsed:
        return False
    answer = confirmations.public.get(organization["id"], organization.get("public_listing"))
    return answer is True


def address_public(location: Record, confirmations: Confirmations) -> bool:
    confirmed = confirmations.address_public.get(location["id"])
    if confirmed is not None:
        return confirmed
    return location.get("address_confidential") is False


def public(tables: Tables, confirmations: Confirmations) -> Tables:
    """Only what the public may see: listed organizations and what hangs from them, with each confidential
    location stripped of its addresses and of every field that could lead to it; the profile's answers
    are written in, so that a re-import of an export reads the same.
    """
    out = empty()
    organizations = {key: {**org, "public_listing": True} for key, org in tables["organization"].items()
                     if listed(org, confirmations)}  # fmt: skip
    services = {key: s for key, s in tables["service"].items() if s.get("organization_id") in organizations}
    at_locations = {
        key: s for key, s in tables["service_at_location"].items() if s.get("service_id") in services
    }
    wanted = {s.get("location_id") for s in at_locations.values()}
    locations: dict[str, Record] = {}
    for key, location in tables["location"].items():
        if location.get("organization_id") in organizations or key in wanted:
            if address_public(location, confirmations):
                locations[key] = {**location, "address_confidential": False}
            else:
                kept = {k: v for k, v in location.items() if k not in LOCATION_SECRETS}
                locations[key] = {**kept, "address_confidential": True}
    out.update(
        organization=organizations, service=services, service_at_location=at_locations, location=locations,
        taxonomy=dict(tables["taxonomy"]), taxonomy_term=dict(tables["taxonomy_term"]),
        meta_table_description=dict(tables["meta_table_description"]),
    )  # fmt: skip
    programs = {key: p for key, p in tables["program"].items() if p.get("organization_id") in organizations}
    out["program"] = programs
    parents = {"organization_id": organizations, "service_id": services, "location_id": locations,
               "service_at_location_id": at_locations}  # fmt: skip
    # Children of children (a contact's phones, a phone's languages) come after their parents.
    for table in ("contact", "phone", "language", "schedule", "funding", "service_area", "required_document",
                  "accessibility", "cost_option", "organization_identifier", "address"):  # fmt: skip
        links = {**parents, "contact_id": out["contact"], "phone_id": out["phone"]}
        for key, record in tables[table].items():
            if table == "address" and not (
                record.get("location_id") in locations
                and address_public(locations[record["location_id"]], confirmations)
            ):
                continue
            known = [name for name in links if record.get(name) in _source(tables, name)]
            if known and all(record[name] in links[name] for name in known):
                out[table][key] = record
    kept_ids = {key for table in TABLES if table not in ("attribute", "metadata") for key in out[table]}
    out["attribute"] = {k: a for k, a in tables["attribute"].items() if a.get("link_id") in kept_ids}
    out["metadata"] = {k: m for k, m in tables["metadata"].items() if m.get("resource_id") in kept_ids}
    return out


def _source(tables: Tables, link: str) -> dict[str, Record]:
    return tables[link.removesuffix("_id")]


# --- the matcher's view --------------------------------------------------------------------------


@dataclass(frozen=True)
class Profiled:
    service_id: str
    provider: Provider | None
    missing: tuple[str, ...] = ()  # why not matchable yet, by field


def providers(tables: Tables, confirmations: Confirmations) -> list[Profiled]:
    """Every service read through the profile: a provider the matcher can use, or the fields it lacks."""
    index = _Index(tables)
    return [_profiled(service, index, confirmations) for service in tables["service"].values()]


class _Index:
    def __init__(self, tables: Tables) -> None:
        self.tables = tables
        self.by: dict[tuple[str, str], dict[str, list[Record]]] = defaultdict(lambda: defaultdict(list))
        for table, link in (("service_area", "service_id"), ("language", "service_id"), ("attribute", "link_id"),
                            ("service_at_location", "service_id")):  # fmt: skip
            for record in tables[table].values():
                if isinstance(record.get(link), str):
                    self.by[(table, link)][record[link]].append(record)

    def of(self, table: str, link: str, key: str) -> list[Record]:
        return self.by[(table, link)].get(key, [])

    def codes(self, service_id: str) -> set[str]:
        terms = self.tables["taxonomy_term"]
        codes = set()
        for attribute in self.of("attribute", "link_id", service_id):
            term = terms.get(str(attribute.get("taxonomy_term_id"))) or profile_taxonomy()[
                "taxonomy_term"
            ].get(str(attribute.get("taxonomy_term_id")))
            if term and term.get("taxonomy_id") == TAXONOMY_ID and isinstance(term.get("code"), str):
                codes.add(term["code"])
        return codes


def _profiled(service: Record, index: _Index, confirmations: Confirmations) -> Profiled:
    missing: list[str] = []
    service_id = str(service["id"])
    if not _PROVIDER_ID.match(service_id):
        missing.append("id (lower-case letters, digits and hyphens, 2 to 64)")
    organization = index.tables["organization"].get(str(service.get("organization_id")))
    if organization is None:
        missing.append("organization_id")
    areas, named = _areas(index.of("service_area", "service_id", service_id))
    if not areas:
        missing.append("service_area.scope")
    codes = index.codes(service_id)
    facets = {facet: {code.split(":", 1)[1] for code in codes if code.startswith(f"{facet}:")} & values
              for facet, values in FACETS.items()}  # fmt: skip
    if not facets["need"]:
        missing.append("attribute (taxonomy term need:…)")
    languages = {code for language in index.of("language", "service_id", service_id)
                 if (code := _language(language.get("code")))}  # fmt: skip
    if not languages:
        missing.append("language.code")
    verified = _date(service.get("assured_date"))
    if verified is None:
        missing.append("assured_date")
    if organization is not None and organization.get("id") in confirmations.lapsed:
        missing.append("confirmation of details (lapsed)")
    if missing or organization is None or verified is None:
        return Profiled(service_id, None, tuple(missing))
    site = _first_site(index, service_id)
    city, province = named
    return Profiled(
        service_id,
        Provider(
            provider_id=service_id, name=str(service.get("name")), organization=str(organization.get("name")),
            areas=areas, service_types=frozenset(Need(v) for v in facets["need"]), languages=frozenset(languages),
            interpretation=bool(service.get("interpretation_services")),
            minimum_age=_age(service.get("minimum_age")), maximum_age=_age(service.get("maximum_age")),
            genders=frozenset(GenderIdentity(v) for v in facets["gender"]),
            populations_only=frozenset(Population(v) for v in facets["population-only"]),
            population_focus=frozenset(Population(v) for v in facets["population-focus"]),
            trafficking_specialised="trafficking-specialised" in codes, open_24_7="open-24-7" in codes,
            capacity_available=_age(service.get("capacity_available"), 100_000), city=city, province=province,
            latitude=_number(site.get("latitude")), longitude=_number(site.get("longitude")),
            public_listing=listed(organization, confirmations), active=service.get("status") == "active",
            last_verified_on=verified, sample=organization.get("sample") is True,
        ),
    )  # fmt: skip


def _areas(records: list[Record]) -> tuple[tuple[Area, ...], tuple[str | None, str | None]]:
    areas, city, province = [], None, None
    for record in records:
        scope, where, town = record.get("scope"), record.get("province"), record.get("city")
        if scope == "national":
            areas.append(Area(AreaLevel.NATIONAL))
        elif scope == "province" and isinstance(where, str):
            areas.append(Area(AreaLevel.PROVINCE, where))
        elif scope == "city" and isinstance(where, str) and isinstance(town, str) and town.strip():
            areas.append(Area(AreaLevel.CITY, where, folded(town)))
            city = city or town.strip()
        else:
            continue
        province = province or where
    return tuple(areas), (city, province)


def _first_site(index: _Index, service_id: str) -> Record:
    links = sorted(
        str(link.get("location_id")) for link in index.of("service_at_location", "service_id", service_id)
    )
    for location_id in links:
        if location_id in index.tables["location"]:
            return index.tables["location"][location_id]
    return {}


def _language(code: object) -> str | None:
    if not isinstance(code, str):
        return None
    try:
        return str(_LANGUAGE.validate_python(code.strip().lower()))
    except ValidationError:
        return None


def _date(value: object) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _age(value: object, most: int = 120) -> int | None:
    number = _number(value)
    return int(number) if number is not None and 0 <= number <= most else None


# --- nesting, for the HSDS API ------------------------------------------------------------------


class Nesting:
    """Builds HSDS API answers (compiled objects) from tables: each record with its children nested."""

    def __init__(self, tables: Tables) -> None:
        self.tables = tables
        pairs = {pair for keys in LISTS.values() for pair in keys.values()} | set(_COMMON.values())
        self.children: dict[tuple[str, str], dict[str, list[Record]]] = {}
        for child, link in pairs:
            found: dict[str, list[Record]] = defaultdict(list)
            for record in tables[child].values():
                if isinstance(record.get(link), str):
                    found[record[link]].append(record)
            self.children[(child, link)] = found

    def full(self, table: str, record: Record, without: frozenset[str] = frozenset()) -> Record:
        """The record with every child nested; a table already on the way down is not nested again."""
        out = dict(record)
        path = without | {table}
        for key, (child, link) in {**LISTS.get(table, {}), **_COMMON}.items():
            if child not in path:
                out[key] = [
                    self.full(child, found, path)
                    for found in self.children[(child, link)].get(record["id"], [])
                ]
        for key, (child, link) in OBJECTS.get(table, {}).items():
            found = self.tables[child].get(str(record.get(link)))
            if found is not None and child not in path:
                out[key] = (
                    self.full(child, found, path)
                    if table in ("attribute", "taxonomy_term", "service_at_location")
                    else dict(found)
                )
        return out
