"""The referral directory as the matcher sees it: one provider per HSDS service, indexed by area."""

from __future__ import annotations

import math
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from schemas.referral import AreaLevel, Population
from schemas.tip import GenderIdentity, Need


def folded(text: str) -> str:
    """Names compare without case or accents: "Montreal" is "Montréal"."""
    decomposed = unicodedata.normalize("NFKD", text.strip().casefold())
    return "".join(character for character in decomposed if not unicodedata.combining(character))


@dataclass(frozen=True, slots=True)
class Area:
    level: AreaLevel
    province: str | None = None
    city: str | None = None  # folded


@dataclass(frozen=True, slots=True)
class Provider:
    provider_id: str
    name: str
    organization: str
    areas: tuple[Area, ...]
    service_types: frozenset[Need]
    languages: frozenset[str]
    interpretation: bool = False
    minimum_age: int | None = None
    maximum_age: int | None = None
    genders: frozenset[GenderIdentity] = frozenset()  # empty: everyone
    populations_only: frozenset[Population] = frozenset()  # non-empty: only these people
    population_focus: frozenset[Population] = frozenset()
    trafficking_specialised: bool = False
    open_24_7: bool = False
    capacity_available: int | None = None
    city: str | None = None
    province: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    public_listing: bool = True
    active: bool = True
    last_verified_on: date | None = None
    sample: bool = False


@dataclass
class Directory:
    """Providers indexed by the areas they serve, so a match looks at a few hundred, not all."""

    providers: tuple[Provider, ...]
    by_city: dict[tuple[str, str], list[Provider]] = field(default_factory=dict)
    by_province: dict[str, list[Provider]] = field(default_factory=dict)
    national: list[Provider] = field(default_factory=list)

    @classmethod
    def of(cls, providers: Iterable[Provider]) -> Directory:
        active = tuple(provider for provider in providers if provider.active)
        by_city: dict[tuple[str, str], list[Provider]] = defaultdict(list)
        by_province: dict[str, list[Provider]] = defaultdict(list)
        national: list[Provider] = []
        for provider in active:
            for area in provider.areas:
                if area.level is AreaLevel.NATIONAL:
                    national.append(provider)
                elif area.level is AreaLevel.PROVINCE and area.province:
                    by_province[area.province].append(provider)
                elif area.province and area.city:
                    by_city[(area.province, area.city)].append(provider)
        return cls(active, dict(by_city), dict(by_province), national)

    def serving(self, level: AreaLevel, province: str | None, city: str | None) -> list[Provider]:
        """Providers whose own area is exactly this level: the city's, the province's, or national."""
        if level is AreaLevel.CITY:
            return self.by_city.get((province, folded(city)), []) if province and city else []
        if level is AreaLevel.PROVINCE:
            return self.by_province.get(province, []) if province else []
        return self.national


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance between two (latitude, longitude) points."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 6371.0 * 2 * math.asin(math.sqrt(h))
