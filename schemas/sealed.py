"""Sealed identifying data as it travels: ciphertext only, opened by ``services.common.sealing``."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field, StringConstraints

from schemas.envelope import Contract

Sealed = Annotated[
    str,
    StringConstraints(pattern=r"^sealed\.v1\.[A-Za-z0-9_-]{38,}$", max_length=120_000),
    Field(description="AES-256-GCM ciphertext under the tip's data key, bound to the tip and the field."),
]


class PersonRelation(StrEnum):
    VICTIM = "victim"
    SUSPECT = "suspect"
    WITNESS = "witness"
    OTHER = "other"


class SealedContact(Contract):
    name: Sealed | None = None
    phone: Sealed | None = None
    email: Sealed | None = None


class SealedPerson(Contract):
    name: Sealed
    relation: PersonRelation


class SealedIdentifiers(Contract):
    """The identifying part of a tip or a supplement, sealed field by field."""

    narrative: Sealed | None
    contact: SealedContact | None = None
    named_persons: Annotated[list[SealedPerson], Field(max_length=20)] = Field(default_factory=list)
    city: Sealed | None = Field(
        default=None,
        description="The city as the reporter wrote it, when the gazetteer does not list it "
        "(the clear facts then carry no city).",
    )
