"""Who receives a forwarded tip: a jurisdiction table kept as data, (province, city) -> agency."""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from schemas.disclosure import Recipient, RecipientKind
from schemas.tip import Location

ROUTING_FILE = Path(__file__).parent / "jurisdictions.v1.json"


@dataclass(frozen=True, slots=True)
class Agency:
    agency_id: str
    name: str
    kind: RecipientKind


@dataclass(frozen=True, slots=True)
class Routing:
    version: str
    national: Agency
    police: dict[str, Agency]
    police_by_city: dict[tuple[str, str], Agency]
    child_protection: dict[str, Agency]
    child_protection_by_city: dict[tuple[str, str], Agency]

    @property
    def agencies(self) -> tuple[Agency, ...]:
        every = [
            self.national, *self.police.values(), *self.police_by_city.values(),
            *self.child_protection.values(), *self.child_protection_by_city.values(),
        ]  # fmt: skip
        return tuple(sorted(set(every), key=lambda agency: agency.agency_id))

    def recipients(
        self, location: Location, outside_canada: bool, minor_involved: bool
    ) -> tuple[Recipient, ...]:
        """The police service of the place (its city's unit if it has one), the child-protection
        agency too when a minor is involved, and the national unit when the place is outside
        Canada or no province is known.
        """
        province = location.province
        if outside_canada or province is None:
            return (_recipient(self.national),)
        city = (province, _folded(location.city)) if location.city else None
        police = self.police_by_city.get(city) if city else None
        chosen = [police or self.police[province]]
        if minor_involved:
            protection = self.child_protection_by_city.get(city) if city else None
            chosen.append(protection or self.child_protection[province])
        return tuple(_recipient(agency) for agency in chosen)


def _recipient(agency: Agency) -> Recipient:
    return Recipient(agency_id=agency.agency_id, kind=agency.kind)


def _folded(city: str) -> str:
    """Cities compare without case or accents: "Montreal" is "Montréal"."""
    decomposed = unicodedata.normalize("NFKD", city.strip().casefold())
    return "".join(character for character in decomposed if not unicodedata.combining(character))


@cache
def load_routing(path: Path = ROUTING_FILE) -> Routing:
    data = json.loads(path.read_text(encoding="utf-8"))

    def agency(entry: dict[str, str], kind: RecipientKind) -> Agency:
        return Agency(entry["agency_id"], entry["name"], kind)

    def by_city(section: dict, kind: RecipientKind) -> dict[tuple[str, str], Agency]:  # type: ignore[type-arg]
        return {
            (entry["province"], _folded(entry["city"])): agency(entry, kind) for entry in section["cities"]
        }

    police, protection = data["police"], data["child_protection"]
    return Routing(
        version=data["version"],
        national=agency(data["national"], RecipientKind.NATIONAL),
        police={p: agency(entry, RecipientKind.POLICE) for p, entry in police["provinces"].items()},
        police_by_city=by_city(police, RecipientKind.POLICE),
        child_protection={
            p: agency(entry, RecipientKind.CHILD_PROTECTION) for p, entry in protection["provinces"].items()
        },
        child_protection_by_city=by_city(protection, RecipientKind.CHILD_PROTECTION),
    )
