"""The provider side of the directory: requests to be listed or to change a listing, and the periodic
"please confirm your details" cycle. Pure rules; the store and the pages are elsewhere.

What a provider sends is a request, never a change: a partnership specialist approves it. A new
listing is not public until the specialist says it may be (as an imported record without the
profile's answer), and it has no street address: a provider gives its city, and a shelter's address
never comes in through a public form.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date, timedelta
from enum import StrEnum
from typing import Annotated, Any

from pydantic import Field, StringConstraints

from schemas.envelope import Contract
from schemas.tip import NOT_BLANK, Email, Narrative, Phone, Province, ShortText

Website = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=300, pattern=r"^https?://[^\s]+$")
]
OrganizationId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{1,63}$")]
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
    """What a provider tells the hotline about itself: public details of an organization, never a
    person it serves."""

    organization_name: ShortText
    service_name: ShortText | None = None
    description: Annotated[Narrative, Field(max_length=2000)] | None = None
    email: Email | None = None
    phone: Phone | None = None
    website: Website | None = None
    city: ShortText | None = None
    province: Province | None = None


class ProviderRequest(Contract):
    kind: RequestKind
    details: ProviderDetails
    organization_id: OrganizationId | None = Field(
        default=None, description="The listing an update changes (its organization id)."
    )


class RequestRefused(Exception):
    """A partnership specialist may not do this to this request."""

    def __init__(self, rule: str) -> None:
        super().__init__(rule)
        self.rule = rule


def check_request(request: ProviderRequest) -> None:
    if (request.kind is RequestKind.UPDATE) != (request.organization_id is not None):
        raise RequestRefused("update_names_its_listing")


def check_decision(status: RequestStatus, held_by: uuid.UUID | None, person: uuid.UUID) -> None:
    """Only a pending request, and only by the partnership specialist who took it."""
    if status is not RequestStatus.PENDING:
        raise RequestRefused("already_decided")
    if held_by != person:
        raise RequestRefused("take_the_request_first")


def check_take(status: RequestStatus, held_by: uuid.UUID | None, person: uuid.UUID) -> None:
    if status is not RequestStatus.PENDING:
        raise RequestRefused("already_decided")
    if held_by is not None and held_by != person:
        raise RequestRefused("held_by_another_person")


def organization_id_for(request_id: uuid.UUID) -> str:
    """A new listing's id: stable for its request, and a valid provider id."""
    return f"provider-{request_id.hex[:12]}"


def registration_records(
    request_id: uuid.UUID, details: ProviderDetails, today: date
) -> dict[str, dict[str, Any]]:
    """The HSDS records of an approved registration, keyed by table then id (no address, ever)."""
    organization = organization_id_for(request_id)
    service = f"{organization}-service"
    records: dict[str, dict[str, Any]] = {
        "organization": {organization: _without_none({
            "id": organization, "name": details.organization_name, "description": details.description,
            "email": details.email, "website": details.website,
        })},
        "service": {service: _without_none({
            "id": service, "organization_id": organization, "name": details.service_name or details.organization_name,
            "description": details.description, "status": "active", "assured_date": today.isoformat(),
        })},
    }  # fmt: skip
    if details.city or details.province:
        location = f"{organization}-site"
        records["location"] = {location: _without_none({
            "id": location, "organization_id": organization, "location_type": "physical",
            "name": details.city, "address_confidential": True,
        })}  # fmt: skip
        records["service_at_location"] = {
            f"{service}-at-site": {"id": f"{service}-at-site", "service_id": service, "location_id": location}
        }
    if details.phone:
        records["phone"] = {
            f"{organization}-phone": {
                "id": f"{organization}-phone", "organization_id": organization, "number": details.phone,
            }
        }  # fmt: skip
    return records


def organization_patch(details: ProviderDetails) -> dict[str, Any]:
    """The fields an approved update sets on the organization's record."""
    return _without_none({
        "name": details.organization_name, "description": details.description, "email": details.email,
        "website": details.website,
    })  # fmt: skip


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


def _without_none(record: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in record.items() if value is not None}
