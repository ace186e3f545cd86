"""Directory records as they are imported: Open Referral HSDS 3 (organization, service, location,
service_at_location, service_area, language, schedule, attribute, service_capacity, minimum_age and
maximum_age) with a Canadian profile. Every record is validated; errors name the record and field.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal, Self

from pydantic import Field, StringConstraints, model_validator

from schemas.envelope import Contract
from schemas.referral import AreaLevel, Population, ProviderId
from schemas.tip import GenderIdentity, LanguageCode, Need, Province
from services.referral.domain.directory import Area, Provider, folded

PROFILE: Literal["https://lantern.example/hsds-ca/1.0"] = "https://lantern.example/hsds-ca/1.0"
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]
Age = Annotated[int, Field(ge=0, le=120)]


class ServiceArea(Contract):
    scope: AreaLevel
    province: Province | None = None
    city: Name | None = None

    @model_validator(mode="after")
    def _complete(self) -> Self:
        if self.scope is not AreaLevel.NATIONAL and self.province is None:
            raise ValueError("a city or province area names its province")
        if self.scope is AreaLevel.CITY and self.city is None:
            raise ValueError("a city area names its city")
        return self


class Location(Contract):
    id: ProviderId
    name: Name
    city: Name
    province: Province
    latitude: Annotated[float, Field(ge=41.0, le=84.0)] | None = None
    longitude: Annotated[float, Field(ge=-142.0, le=-52.0)] | None = None
    public_address: Text | None = Field(default=None, description="The front door the public may know.")
    confidential_address: Text | None = Field(
        default=None, description="The physical address, given only in an accepted referral to staff."
    )


class Capacity(Contract):
    available: Age
    maximum: Age | None = None


class Service(Contract):
    id: ProviderId
    name: Name
    description: Text | None = None
    status: Literal["active", "inactive"] = "active"
    location_ids: list[ProviderId] = Field(default_factory=list)
    service_areas: Annotated[list[ServiceArea], Field(min_length=1)]
    service_types: Annotated[list[Need], Field(min_length=1)]
    languages: Annotated[list[LanguageCode], Field(min_length=1)]
    interpretation: bool = False
    minimum_age: Age | None = None
    maximum_age: Age | None = None
    genders: list[GenderIdentity] = Field(default_factory=list, description="Empty: everyone.")
    populations_only: list[Population] = Field(default_factory=list)
    population_focus: list[Population] = Field(default_factory=list)
    trafficking_specialised: bool = False
    open_24_7: bool = False
    capacity: Capacity | None = None
    phone: Annotated[str, StringConstraints(pattern=r"^\+?[0-9 ().-]{3,30}$")] | None = None
    last_verified_on: date

    @model_validator(mode="after")
    def _ages_in_order(self) -> Self:
        if (
            self.minimum_age is not None
            and self.maximum_age is not None
            and self.minimum_age > self.maximum_age
        ):
            raise ValueError("minimum_age is above maximum_age")
        return self


class Organization(Contract):
    id: ProviderId
    name: Name
    description: Text | None = None
    website: Annotated[str, StringConstraints(pattern=r"^https://\S+$")] | None = None
    email: Annotated[str, StringConstraints(pattern=r"^[^@\s]+@[^@\s]+$")] | None = None
    public_listing: bool = Field(
        default=True, description="False: used for referrals, never listed in public."
    )
    sample: bool = False
    locations: list[Location] = Field(default_factory=list)
    services: Annotated[list[Service], Field(min_length=1)]

    @model_validator(mode="after")
    def _locations_exist(self) -> Self:
        known = {location.id for location in self.locations}
        for service in self.services:
            missing = set(service.location_ids) - known
            if missing:
                raise ValueError(f"service {service.id} names a location this organization does not have")
        return self


class DirectoryPackage(Contract):
    profile: Literal["https://lantern.example/hsds-ca/1.0"] = PROFILE
    sample: bool = False
    note: Text | None = None
    organizations: list[Organization]


def providers(organizations: list[Organization]) -> list[Provider]:
    """The matcher's view of imported records: one provider per service, at its first location."""
    found = []
    for organization in organizations:
        locations = {location.id: location for location in organization.locations}
        for service in organization.services:
            site = locations.get(service.location_ids[0]) if service.location_ids else None
            found.append(
                Provider(
                    provider_id=service.id,
                    name=service.name,
                    organization=organization.name,
                    areas=tuple(
                        Area(
                            area.scope,
                            area.province.value if area.province else None,
                            folded(area.city) if area.city else None,
                        )
                        for area in service.service_areas
                    ),
                    service_types=frozenset(service.service_types),
                    languages=frozenset(service.languages),
                    interpretation=service.interpretation,
                    minimum_age=service.minimum_age,
                    maximum_age=service.maximum_age,
                    genders=frozenset(service.genders),
                    populations_only=frozenset(service.populations_only),
                    population_focus=frozenset(service.population_focus),
                    trafficking_specialised=service.trafficking_specialised,
                    open_24_7=service.open_24_7,
                    capacity_available=service.capacity.available if service.capacity else None,
                    city=site.city if site else None,
                    province=site.province.value if site else None,
                    latitude=site.latitude if site else None,
                    longitude=site.longitude if site else None,
                    public_listing=organization.public_listing,
                    active=service.status == "active",
                    last_verified_on=service.last_verified_on,
                    sample=organization.sample,
                )
            )
    return found
