"""Where Canadian cities are, for distances between a caller and a provider."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from schemas.places import CITIES_FILE
from services.referral.domain.directory import folded


@cache
def city_coordinates(path: Path = CITIES_FILE) -> dict[tuple[str, str], tuple[float, float]]:
    data = json.loads(path.read_text(encoding="utf-8"))["cities"]
    return {
        (province, folded(city)): (float(lat), float(lon))
        for province, cities in data.items()
        for city, (lat, lon) in cities.items()
    }


def locate(province: str | None, city: str | None) -> tuple[float, float] | None:
    if not province or not city:
        return None
    return city_coordinates().get((province, folded(city)))
