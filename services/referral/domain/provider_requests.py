"""The provider side of the directory: requests to be listed or to change a listing, and the periodic
"please confirm your details" cycle. Pure rules; the store and the pages are elsewhere.

What a provider sends is a request, never a change: a partnership specialist approves it. A new
listing is not public until the specialist says it may be (as an imported record without the
profile's answer), and it has no street address: a provider gives its city, and a shelter's address
never comes in through a public form.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

from pydantic import Field, StringConstraints

from schemas.envelope import Contract
from schemas.tip import (
    NOT_BLANK,
    WHITE_SPACE,
    Email,
    LanguageCode,
    Narrative,
    Need,
    Phone,
    Province,
    ShortText,
)
from services.referral.domain import hsds

Website = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=300, pattern=rf"^https?://[^{WHITE_SPACE}]+$")
]
OrganizationId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{1,63}$")]
PostalCode = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, to_upper=True, pattern=r"^[A-Za-z][0-9][A-Za-z] ?[0-9][A-Za-z][0-9]$"
    ),
]
Reason = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500, pattern=NOT_BLANK)
]


class RequestKind(StrEnum):
    REGISTRATION = "registration"
    UPDATE = "update"


class RequestStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class ProviderDetails(Contract):
    """What a provider tells the hotline about itself: details of an organization and its service, never
    a person it serves. A field left out is left as it is; a list given replaces the listing's list.

    A street address is kept confidential unless the partnership specialist approves it public; a
    provider may ask to hide its address or to leave the public directory, which takes effect at
    once, before any approval.
    """

    organization_name: ShortText
    service_id: OrganizationId | None = Field(
        default=None,
        description="Which of the organization's services an update changes (if it has several).",
    )
    service_name: ShortText | None = None
    description: Annotated[Narrative, Field(max_length=2000)] | None = None
    email: Email | None = None
    phone: Phone | None = None
    website: Website | None = None
    city: ShortText | None = None
    province: Province | None = None
    address_1: ShortText | None = Field(
        default=None, description="Street address: confidential unless approved."
    )
    postal_code: PostalCode | None = None
    address_public: bool = Field(default=False, description="The provider agrees that its address be public.")
    hours: Annotated[Narrative, Field(max_length=500)] | None = None
    languages: list[LanguageCode] = Field(default_factory=list, max_length=20)
    service_types: list[Need] = Field(default_factory=list, max_length=len(Need))
    serves_provinces: list[Province] = Field(default_factory=list, max_length=len(Province))
    serves_all_of_canada: bool = False
    minimum_age: Annotated[int, Field(ge=0, le=120)] | None = None
    maximum_age: Annotated[int, Field(ge=0, le=120)] | None = None
    eligibility: Annotated[Narrative, Field(max_length=1000)] | None = None
    open_24_7: bool | None = None
    capacity_available: Annotated[int, Field(ge=0, le=100_000)] | None = None
    capacity_maximum: Annotated[int, Field(ge=0, le=100_000)] | None = None
    hide_address: bool = Field(default=False, description="Take the address out of the public directory now.")
    leave_public_directory: bool = Field(default=False, description="Leave the public directory now.")

    @property
    def restrictions(self) -> bool:
        return self.hide_address or self.leave_public_directory


class ProviderRequest(Contract):
    kind: RequestKind
    details: ProviderDetails
    organization_id: OrganizationId | None = Field(
        default=None, description="The listing an update changes (its organization id)."
    )


class RequestRefused(Exception):
    """A partnership specialist may not do this to this request; ``problems`` name table, record and
    field (never a value) when the listing it would write breaks HSDS's or the profile's rules."""

    def __init__(self, rule: str, problems: tuple[str, ...] = ()) -> None:
        super().__init__(rule)
        self.rule = rule
        self.problems = problems


def check_request(request: ProviderRequest) -> None:
    if (request.kind is RequestKind.UPDATE) != (request.organization_id is not None):
        raise RequestRefused("update_names_its_listing")


def check_decision(status: RequestStatus, held_by: uuid.UUID | None, person: uuid.UUID) -> None:
    """Only a pending request, and only by the partnership specialist who took it."""
    if status is not RequestStatus.PENDING:
        raise RequestRefused("already_decided")
    if held_by != person:
        raise RequestRefused("take_the_request_first")


def check_consent(details: ProviderDetails, public: bool | None, address_public: bool | None) -> None:
    """The specialist makes public only what the provider agreed to: a shelter's address published
    against its wish can put the people it shelters in danger."""
    if address_public and (not details.address_public or details.hide_address):
        raise RequestRefused("address_not_consented")
    if public and details.leave_public_directory:
        raise RequestRefused("listing_not_consented")


def check_take(status: RequestStatus, held_by: uuid.UUID | None, person: uuid.UUID) -> None:
    if status is not RequestStatus.PENDING:
        raise RequestRefused("already_decided")
    if held_by is not None and held_by != person:
        raise RequestRefused("held_by_another_person")


def organization_id_for(request_id: uuid.UUID) -> str:
    """A new listing's id: stable for its request, and a valid provider id."""
    return f"provider-{request_id.hex[:12]}"


@dataclass
class ListingChange:
    """What approving a request writes: records to insert or replace (addresses apart), records to
    remove, and the locations whose street address it sets (confidential unless approved public)."""

    records: hsds.Tables = field(default_factory=hsds.empty)
    removed: dict[str, set[str]] = field(default_factory=dict)
    new_addresses: set[str] = field(default_factory=set)  # location ids

    def remove(self, table: str, key: str) -> None:
        self.removed.setdefault(table, set()).add(key)
        self.records[table].pop(key, None)


def listing_change(
    current: hsds.Tables,
    organization: str,
    details: ProviderDetails,
    today: date,
    new_service: str | None = None,
) -> ListingChange:
    """The HSDS records that give ``organization`` (as ``current`` holds it) the ``details``: every field
    a provider may change, each under its HSDS 3.0 name, the profile's where HSDS has none.

    Raises ``RequestRefused`` when the request cannot say which service it changes.
    """
    change = ListingChange()
    put = change.records
    before = current["organization"].get(organization, {"id": organization, "description": ""})
    put["organization"][organization] = _with(before, {
        "name": details.organization_name, "description": details.description, "email": details.email,
        "website": details.website,
    })  # fmt: skip
    service_id = _service_of(current, organization, details, new_service)
    service = current["service"].get(
        service_id, {"id": service_id, "organization_id": organization, "status": "active"}
    )
    put["service"][service_id] = _with(service, {
        "name": details.service_name or service.get("name") or details.organization_name,
        "description": details.description, "eligibility_description": details.eligibility,
        "minimum_age": details.minimum_age, "maximum_age": details.maximum_age,
        "capacity_available": details.capacity_available, "capacity_maximum": details.capacity_maximum,
        "assured_date": today.isoformat(),
    })  # fmt: skip
    own = {table: {k: r for k, r in current[table].items() if r.get(link) == service_id}
           for table, link in (("phone", "service_id"), ("language", "service_id"), ("service_area", "service_id"),
                               ("schedule", "service_id"), ("attribute", "link_id"),
                               ("service_at_location", "service_id"))}  # fmt: skip
    if details.phone:
        key = min(own["phone"], default=f"{service_id}-phone")
        put["phone"][key] = _with(own["phone"].get(key, {"id": key, "service_id": service_id, "type": "voice"}),
                                  {"number": details.phone})  # fmt: skip
    if details.languages:
        _replace(change, "language", own["language"], {
            f"{service_id}-language-{code}": {"id": f"{service_id}-language-{code}", "code": code, "service_id": service_id}
            for code in dict.fromkeys(details.languages)
        })  # fmt: skip
    areas = _areas(service_id, details)
    if areas:
        _replace(change, "service_area", own["service_area"], areas)
    if details.hours:
        key = min(own["schedule"], default=f"{service_id}-hours")
        put["schedule"][key] = _with(own["schedule"].get(key, {"id": key, "service_id": service_id}),
                                     {"description": details.hours})  # fmt: skip
    _attributes(change, own["attribute"], current, service_id, details)
    _site(change, current, organization, service_id, own["service_at_location"], details)
    return change


def _service_of(
    current: hsds.Tables, organization: str, details: ProviderDetails, new_service: str | None
) -> str:
    services = sorted(k for k, s in current["service"].items() if s.get("organization_id") == organization)
    if details.service_id is not None:
        if details.service_id not in services:
            raise RequestRefused("no_such_service")
        return details.service_id
    if len(services) > 1:
        raise RequestRefused("name_the_service")
    return services[0] if services else new_service or f"{organization}-service"


def _areas(service_id: str, details: ProviderDetails) -> dict[str, hsds.Record]:
    areas: dict[str, hsds.Record] = {}
    if details.serves_all_of_canada:
        areas[f"{service_id}-area-ca"] = {
            "id": f"{service_id}-area-ca",
            "name": "Canada",
            "scope": "national",
        }
    for province in dict.fromkeys(details.serves_provinces):
        key = f"{service_id}-area-{province.value.lower()}"
        areas[key] = {"id": key, "name": province.value, "scope": "province", "province": province.value}
    if details.city and details.province:
        key = f"{service_id}-area-city"
        areas[key] = {"id": key, "name": details.city, "scope": "city", "province": details.province.value,
                      "city": details.city}  # fmt: skip
    return {key: {**area, "service_id": service_id} for key, area in areas.items()}


def _attributes(
    change: ListingChange,
    own: dict[str, hsds.Record],
    current: hsds.Tables,
    service_id: str,
    details: ProviderDetails,
) -> None:
    """The profile's taxonomy terms on the service: the needs it serves, and whether it is open day and night."""
    terms = hsds.merge(hsds.profile_taxonomy(), current)["taxonomy_term"]
    codes = {
        key: str(terms.get(str(a.get("taxonomy_term_id")), {}).get("code", "")) for key, a in own.items()
    }
    wanted: set[str] = set()
    replaced: set[str] = set()
    if details.service_types:
        replaced |= {key for key, code in codes.items() if code.startswith("need:")}
        wanted |= {f"need:{need.value}" for need in details.service_types}
    if details.open_24_7 is not None:
        replaced |= {key for key, code in codes.items() if code == "open-24-7"}
        wanted |= {"open-24-7"} if details.open_24_7 else set()
    for key in replaced:
        change.remove("attribute", key)
    for code in sorted(wanted):
        key = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{hsds.PROFILE}#{service_id}#{code}"))
        change.removed.get("attribute", set()).discard(key)
        change.records["attribute"][key] = {
            "id": key, "taxonomy_term_id": hsds.term_id(code), "link_id": service_id, "link_entity": "service",
            "link_type": "lantern-ca", "value": "true",
        }  # fmt: skip


def _site(
    change: ListingChange, current: hsds.Tables, organization: str, service_id: str,
    links: dict[str, hsds.Record], details: ProviderDetails,
) -> None:  # fmt: skip
    """The service's first location: its name (the city) and, when given whole, its street address."""
    street = details.address_1 and details.postal_code and details.city and details.province
    if not (details.city or street):
        return
    sites = sorted(
        str(link.get("location_id"))
        for link in links.values()
        if link.get("location_id") in current["location"]
    )
    location_id = sites[0] if sites else f"{organization}-site"
    location = current["location"].get(location_id, {
        "id": location_id, "organization_id": organization, "location_type": "physical", "address_confidential": True,
    })  # fmt: skip
    change.records["location"][location_id] = _with(location, {"name": details.city})
    if not sites:
        link = f"{service_id}-at-{location_id}"
        change.records["service_at_location"][link] = {
            "id": link,
            "service_id": service_id,
            "location_id": location_id,
        }
    if street:
        assert details.province is not None
        # A new address is new information: whatever was public about the old one, this one is
        # confidential until the specialist approves it public.
        change.records["location"][location_id]["address_confidential"] = True
        for key, address in current["address"].items():
            if address.get("location_id") == location_id:
                change.remove("address", key)
        key = f"{location_id}-address"
        change.removed.get("address", set()).discard(key)
        change.records["address"][key] = {
            "id": key, "location_id": location_id, "address_1": details.address_1, "city": details.city,
            "state_province": details.province.value, "postal_code": details.postal_code, "country": "CA",
            "address_type": "physical",
        }  # fmt: skip
        change.new_addresses.add(location_id)


def _replace(
    change: ListingChange, table: str, old: dict[str, hsds.Record], new: dict[str, hsds.Record]
) -> None:
    for key in old.keys() - new.keys():
        change.remove(table, key)
    change.records[table].update(new)


def locations_of(tables: hsds.Tables, organization: str) -> set[str]:
    """Every location of the organization's: its own, and where its services are offered."""
    services = {key for key, s in tables["service"].items() if s.get("organization_id") == organization}
    own = {
        key for key, location in tables["location"].items() if location.get("organization_id") == organization
    }
    return own | {
        str(link["location_id"]) for link in tables["service_at_location"].values()
        if link.get("service_id") in services and link.get("location_id")
    }  # fmt: skip


def proposed_changes(current: hsds.Tables, change: ListingChange) -> list[dict[str, Any]]:
    """What approving would change, field by field: ``{table, id, field, before, after}``."""
    changes = []
    for table, records in change.records.items():
        for key, record in records.items():
            old = current[table].get(key, {})
            for name in sorted(set(record) | set(old)):
                if name == "id" or old.get(name) == record.get(name):
                    continue
                changes.append(
                    {
                        "table": table,
                        "id": key,
                        "field": name,
                        "before": old.get(name),
                        "after": record.get(name),
                    }
                )
    for table, keys in change.removed.items():
        for key in sorted(keys):
            if key in current[table]:
                changes.append(
                    {"table": table, "id": key, "field": None, "before": current[table][key], "after": None}
                )
    return changes


def _with(record: hsds.Record, changes: dict[str, Any]) -> hsds.Record:
    return {**record, **{key: value for key, value in changes.items() if value is not None}}


def stale_organizations(
    organizations: Mapping[str, Mapping[str, Any]], services: Mapping[str, Mapping[str, Any]],
    today: date, max_age: timedelta,
) -> set[str]:  # fmt: skip
    """Organizations with a service whose details were last confirmed (``assured_date``) before
    ``max_age`` ago, or never."""
    oldest = today - max_age
    stale = set()
    for service in services.values():
        owner = service.get("organization_id")
        if owner not in organizations:
            continue
        confirmed = _date(service.get("assured_date"))
        if confirmed is None or confirmed < oldest:
            stale.add(str(owner))
    return stale


def _date(value: object) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class RecentRestrictions:
    """Providers' requests to hide an address or leave the public directory within the window: many at
    once is a burst (the form abused to empty the directory, or a wave to look into). Counts only:
    the pending requests themselves are in the workbench."""

    requests: int
    organizations: int
    """How many organizations they name: one spammed, or many at once."""
    threshold: int

    @property
    def burst(self) -> bool:
        return self.requests >= self.threshold


def recent_restrictions(
    received: Iterable[tuple[datetime, str | None]], now: datetime, window: timedelta, threshold: int
) -> RecentRestrictions:
    """The hide or leave requests (when received, for which organization) that came in within
    ``window`` before ``now``; a burst from ``threshold`` of them."""
    since = now - window
    recent = [organization for at, organization in received if since < at <= now]
    return RecentRestrictions(len(recent), len({o for o in recent if o is not None}), threshold)
