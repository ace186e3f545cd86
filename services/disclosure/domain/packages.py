"""What a package carries: exactly the fields the gate permits, nothing else.

Identifying data stays sealed in each ``Source`` until a package may carry it; ``opened`` unseals, in
memory, only what the permitted fields call for.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from schemas.disclosure import PackageContent, PackageField, PackagePerson
from schemas.intake import TipReceivedV1, TipSupplementedV1
from schemas.sealed import PersonRelation, SealedIdentifiers
from schemas.tip import Answer, Channel, Contact, Location, TipFacts
from schemas.triage import IndicatorFinding, Strength
from services.common.sealing import DataKey

MAX_PACKAGE_BYTES = 900_000
"""The most bytes a package may take on the broker, which refuses a record over 1 MiB; the rest is
headroom for the record's key, headers and framing."""
IDENTIFYING = {
    PackageField.NARRATIVE: "narrative",
    PackageField.SUSPECT_NAMES: "named_persons",
    PackageField.VICTIM_NAMES: "named_persons",
    PackageField.CALLER_CONTACT: "contact",
    # A city the gazetteer does not list travels sealed (it may be an address): the place is what a
    # recipient needs to act, so a package that may carry the location carries it opened.
    PackageField.LOCATION: "location.city",
}
NAMES = {PackageField.SUSPECT_NAMES: PersonRelation.SUSPECT, PackageField.VICTIM_NAMES: PersonRelation.VICTIM}


class SourceKind(StrEnum):
    TIP = "tip"
    SUPPLEMENT = "supplement"


@dataclass(frozen=True, slots=True)
class Source:
    """The sealed identifiers of the tip itself or of one follow-up."""

    source_id: uuid.UUID
    tip_id: uuid.UUID
    kind: SourceKind
    channel: Channel | None
    identifiers: SealedIdentifiers
    received_at: datetime
    recorded_by: uuid.UUID | None = None
    """The staff person who recorded the tip (a call, a chat, an email); None for the public."""
    facts: TipFacts | None = None
    """The tip's own facts as intake received them, before any follow-up: what a call recorded."""
    recorded_by_role: str | None = None
    """The role under which ``recorded_by`` recorded the tip: a call-taker's, or an administrator's."""

    @classmethod
    def of_tip(cls, event: TipReceivedV1) -> Source:
        """The tip's own identifiers; its source id is the tip id."""
        return cls(
            event.tip_id,
            event.tip_id,
            SourceKind.TIP,
            event.facts.channel,
            event.identifiers,
            event.received_at,
            event.recorded_by,
            event.facts,
            event.recorded_by_role,
        )

    @classmethod
    def of_supplement(cls, event: TipSupplementedV1) -> Source:
        """A follow-up's identifiers, sealed under the tip's key with the supplement's prefix."""
        return cls(
            event.supplement_id,
            event.tip_id,
            SourceKind.SUPPLEMENT,
            None,
            event.identifiers,
            event.received_at,
        )

    @property
    def prefix(self) -> str:
        """Where its fields sit under the tip's key (the associated data they were sealed with)."""
        return "" if self.kind is SourceKind.TIP else f"supplements.{self.source_id}."


@dataclass(frozen=True, slots=True)
class Opened:
    """Identifying data opened for this package; only what the permitted fields asked for."""

    narratives: list[str] = field(default_factory=list)
    named_persons: list[PackagePerson] = field(default_factory=list)
    contact: Contact | None = None
    city: str | None = None
    """The city as the reporter wrote it, when the gazetteer does not list it (sealed at intake)."""
    city_in: tuple[str, str | None] | None = None
    """The country and province that city was given with, when its source says (the tip's own)."""


def identifying_fields_needed(fields: frozenset[PackageField], sources: Iterable[Source] = ()) -> list[str]:
    """Which sealed fields to open (for the unseal audit) for a package with ``fields``: a sealed city
    only when one of the tip's sources holds one."""
    needed = {name for permitted, name in IDENTIFYING.items() if permitted in fields}
    if not any(source.identifiers.city for source in sources):
        needed.discard(IDENTIFYING[PackageField.LOCATION])
    return sorted(needed)


def opened(data_key: DataKey, sources: Iterable[Source], fields: frozenset[PackageField]) -> Opened:
    """Open, in memory, the sealed values the permitted fields call for."""
    narratives: list[str] = []
    persons: list[PackagePerson] = []
    contact: Contact | None = None
    city: str | None = None
    city_in: tuple[str, str | None] | None = None
    for source in sources:
        prefix, identifiers = source.prefix, source.identifiers
        if PackageField.LOCATION in fields and identifiers.city:
            city = data_key.unseal(f"{prefix}location.city", identifiers.city)  # the latest source's
            where = source.facts.location if source.facts else None
            city_in = (where.country, where.province) if where else None
        if PackageField.NARRATIVE in fields and identifiers.narrative:
            narratives.append(data_key.unseal(f"{prefix}narrative", identifiers.narrative))
        relations = {relation for permitted, relation in NAMES.items() if permitted in fields}
        persons += [
            PackagePerson(name=data_key.unseal(f"{prefix}named_persons.{number}.name", person.name),
                          relation=person.relation)
            for number, person in enumerate(identifiers.named_persons)
            if person.relation in relations
        ]  # fmt: skip
        if PackageField.CALLER_CONTACT in fields and identifiers.contact and contact is None:
            sealed = identifiers.contact

            def unsealed(name: str, value: str | None, prefix: str = prefix) -> str | None:
                return data_key.unseal(f"{prefix}contact.{name}", value) if value else None

            contact = Contact(
                name=unsealed("name", sealed.name),
                phone=unsealed("phone", sealed.phone),
                email=unsealed("email", sealed.email),
            )
    return Opened(narratives, persons, contact, city, city_in)


def content(
    fields: frozenset[PackageField],
    facts: TipFacts,
    indicators: list[IndicatorFinding],
    minor_involved: bool,
    imminent_danger: bool,
    received_at: datetime,
    opened: Opened,
) -> PackageContent:
    """The package's content: every field not permitted stays absent."""
    situation, minor = PackageField.SITUATION in fields, PackageField.MINOR_GROUND in fields
    # Context indicators name who the victim is (status in Canada, Indigenous identity): like the
    # profile, they exist to find services.
    profile = PackageField.VICTIM_PROFILE in fields
    return PackageContent(
        trafficking_types=facts.assessment.trafficking_types if situation else None,
        indicators=[i for i in indicators if i.strength is not Strength.CONTEXT or profile]
        if situation
        else None,
        minor_involved=_answer(minor_involved) if minor else None,
        victim_age=facts.assessment.victim_age if minor else None,
        imminent_danger=_answer(imminent_danger) if PackageField.DANGER in fields else None,
        victim_profile=facts.victim_profile if PackageField.VICTIM_PROFILE in fields else None,
        needs=facts.needs if PackageField.NEEDS in fields else None,
        location=_location(facts, opened) if PackageField.LOCATION in fields else None,
        received_at=received_at if PackageField.WHEN in fields else None,
        narrative=opened.narratives if PackageField.NARRATIVE in fields else None,
        suspects=_named(opened, PersonRelation.SUSPECT) if PackageField.SUSPECT_NAMES in fields else None,
        victims=_named(opened, PersonRelation.VICTIM) if PackageField.VICTIM_NAMES in fields else None,
        reporter_role=facts.reporter_role if PackageField.REPORTER_ROLE in fields else None,
        caller_contact=opened.contact if PackageField.CALLER_CONTACT in fields else None,
    )


def _named(opened: Opened, relation: PersonRelation) -> list[PackagePerson]:
    return [person for person in opened.named_persons if person.relation is relation]


def _answer(found: bool) -> Answer:
    return Answer.YES if found else Answer.UNKNOWN


def _location(facts: TipFacts, opened: Opened) -> Location:
    """The incident's place; an unlisted city, sealed at intake, comes back opened, unless a later
    follow-up moved the place to another province (that city would then name the wrong place)."""
    place = facts.location
    moved = opened.city_in is not None and opened.city_in != (place.country, place.province)
    if place.city is None and opened.city and not moved:
        return place.model_copy(update={"city": opened.city})
    return place


WITHHELD_ON_REPLAY = "package_withheld_on_replay"
"""The audit action of a package a new broker was not sent again: a supervisor decides it."""


@dataclass(frozen=True)
class WithheldPackage:
    """A package a new broker was not sent again (``app.WITHHELD_ON_REPLAY``): ids and a code only."""

    package_id: uuid.UUID
    tip_id: uuid.UUID
    agency_id: str
    reason: str
