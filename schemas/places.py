"""The gazetteer: the Canadian cities Lantern knows by name, in one spelling each.

A place's city travels in clear only when the gazetteer lists it; free text typed into ``city``
could be an address or a name, so anything else is sealed with the tip's identifying data.
"""

from __future__ import annotations

import json
import unicodedata
from functools import cache
from pathlib import Path

CITIES_FILE = Path(__file__).parent / "cities.v1.json"


def folded(text: str) -> str:
    """Names compare without case, accents or surrounding spaces: "montreal" is "Montréal"."""
    decomposed = unicodedata.normalize("NFKD", " ".join(text.split()).casefold())
    return "".join(character for character in decomposed if not unicodedata.combining(character))


@cache
def _cities() -> dict[tuple[str, str], str]:
    listed = json.loads(CITIES_FILE.read_text(encoding="utf-8"))["cities"]
    return {(province, folded(city)): city for province, cities in listed.items() for city in cities}


def listed_city(country: str, province: str | None, city: str) -> str | None:
    """The gazetteer's spelling of ``city``, or None when it does not list it.

    Without a province, a name that only one province has is still found.
    """
    if country != "CA":
        return None
    key = folded(city)
    if province is not None:
        return _cities().get((province, key))
    names = {name for (_, listed), name in _cities().items() if listed == key}
    return names.pop() if len(names) == 1 else None


def listed_city_names() -> frozenset[str]:
    """Every city the gazetteer lists, folded, in any province."""
    return frozenset(city for _, city in _cities())
