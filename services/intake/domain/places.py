"""Which part of a place may travel in clear: a city only as the gazetteer spells it.

``city`` is free text: a reporter may type a street address or a name into it. Refusing a city the
gazetteer does not know would turn away a tip from a small town, so such a city is sealed instead,
like the narrative; the clear facts keep the country and province, which routing and matching use.
"""

from __future__ import annotations

from schemas.places import listed_city
from schemas.tip import Location


def in_clear(location: Location) -> tuple[Location, str | None]:
    """The location as it travels in clear, and the city text to seal (None when there is none)."""
    if location.city is None:
        return location, None
    listed = listed_city(location.country, location.province, location.city)
    if listed is None:
        return location.model_copy(update={"city": None}), location.city
    return location.model_copy(update={"city": listed}), None
