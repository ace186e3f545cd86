"""Which parts of a tip identify someone, and their sealing field names."""

from __future__ import annotations

from schemas.sealed import SealedContact, SealedIdentifiers, SealedPerson
from schemas.tip import Contact, NamedPerson
from services.common.sealing import DataKey


def seal_identifiers(
    key: DataKey,
    narrative: str | None,
    contact: Contact | None,
    named_persons: list[NamedPerson],
    prefix: str = "",
    unlisted_city: str | None = None,
) -> SealedIdentifiers:
    def seal(field: str, value: str | None) -> str | None:
        return None if value is None else key.seal(prefix + field, value)

    return SealedIdentifiers(
        narrative=seal("narrative", narrative),
        contact=SealedContact(
            name=seal("contact.name", contact.name),
            phone=seal("contact.phone", contact.phone),
            email=seal("contact.email", contact.email),
        )
        if contact
        else None,
        named_persons=[
            SealedPerson(
                name=key.seal(f"{prefix}named_persons.{number}.name", person.name), relation=person.relation
            )
            for number, person in enumerate(named_persons)
        ],
        city=seal("location.city", unlisted_city),
    )
