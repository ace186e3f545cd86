"""The web form's fields, read into the same models the JSON API validates, and the models' errors
turned back into messages on the form's own fields.

A form field left empty is a field not given, so the models' defaults and rules are the API's.
Values are never echoed in a message: only the rule and the field.
"""

from __future__ import annotations

import gettext
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any, TypeVar
from urllib.parse import parse_qs

import pycountry
from pydantic import BaseModel, ValidationError

from schemas.tip import TipSubmission
from services.common import errors
from services.intake.domain.submissions import SupplementSubmission
from services.intake.web.texts import texts

Fields = Mapping[str, Sequence[str]]
M = TypeVar("M", bound=BaseModel)
CHECKED = "yes"
# Where each model location lands on the form (the first match wins; longer paths first).
TIP_FIELDS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("location", "country"), "country"),
    (("location", "province"), "province"),
    (("location", "city"), "city"),
    (("location",), "province"),
    (("assessment", "minor_involved"), "minor_involved"),
    (("assessment", "imminent_danger"), "imminent_danger"),
    (("assessment", "trafficking_types"), "trafficking_types"),
    (("contact", "name"), "contact_name"),
    (("contact", "phone"), "contact_phone"),
    (("contact", "email"), "contact_email"),
    (("consent", "law_enforcement"), "law_enforcement"),
    (("consent", "service_referral"), "service_referral"),
    (("consent", "share_identity"), "share_identity"),
    (("consent", "statistics"), "statistics"),
    (("reporter_role",), "reporter_role"),
    (("narrative",), "narrative"),
    (("language",), "lang"),
)
SUPPLEMENT_FIELDS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("code",), "code"),
    (("narrative",), "narrative"),
    (("assessment", "minor_involved"), "minor_involved"),
    (("assessment", "imminent_danger"), "imminent_danger"),
)
CHOICE_RULES = frozenset({"enum", "literal_error", "bool_parsing", "bool_type"})


@dataclass(frozen=True, slots=True)
class FormErrors:
    """Each form field's message, in the order the form shows the fields."""

    by_field: dict[str, str] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.by_field)


def parse(body: bytes) -> dict[str, list[str]]:
    """An ``application/x-www-form-urlencoded`` body as lists of values; blank values dropped."""
    parsed = parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=False, max_num_fields=100)
    return {name: [value for value in values if value.strip()] for name, values in parsed.items()}


def tip_submission(form: Fields, language: str) -> tuple[TipSubmission | None, FormErrors]:
    """The tip the form describes, validated as ``POST /v1/tips`` validates it, or its errors."""
    data: dict[str, Any] = {"channel": "web", "language": language}
    _put(data, ("reporter_role",), first(form, "reporter_role"))
    _put(data, ("narrative",), first(form, "narrative"))
    data["location"] = {"country": first(form, "country") or "CA"}
    _put(data, ("location", "province"), first(form, "province"))
    _put(data, ("location", "city"), first(form, "city"))
    _put(data, ("assessment", "minor_involved"), first(form, "minor_involved"))
    _put(data, ("assessment", "imminent_danger"), first(form, "imminent_danger"))
    if types := list(form.get("trafficking_types", ())):
        data.setdefault("assessment", {})["trafficking_types"] = types
    for part in ("name", "phone", "email"):
        _put(data, ("contact", part), first(form, f"contact_{part}"))
    data["anonymous"] = "contact" not in data
    consent: dict[str, Any] = {
        scope: first(form, scope) == CHECKED
        for scope in ("law_enforcement", "service_referral", "share_identity")
    }
    answer = first(form, "statistics")
    if answer is not None:
        consent["statistics"] = {"yes": True, "no": False}.get(answer, answer)
    data["consent"] = consent
    return _validated(TipSubmission, data, TIP_FIELDS, language)


def supplement(form: Fields, language: str) -> tuple[SupplementSubmission | None, FormErrors]:
    """The follow-up the form describes, validated as the JSON follow-up is, or its errors."""
    data: dict[str, Any] = {}
    _put(data, ("code",), first(form, "code"))
    _put(data, ("narrative",), first(form, "narrative"))
    _put(data, ("assessment", "minor_involved"), first(form, "minor_involved"))
    _put(data, ("assessment", "imminent_danger"), first(form, "imminent_danger"))
    model, found = _validated(SupplementSubmission, data, SUPPLEMENT_FIELDS, language)
    if model is not None and model.narrative is None and model.assessment is None:
        return None, FormErrors({"narrative": texts(language)["nothing_to_add"]})
    return model, found


def countries(language: str) -> list[tuple[str, str]]:
    """Every ISO 3166 country as (code, name in ``language``), Canada first, then by name."""
    names = _country_names(language)
    others = sorted(((code, name) for code, name in names.items() if code != "CA"), key=lambda item: item[1])
    return [("CA", names["CA"]), *others]


@cache
def _country_names(language: str) -> dict[str, str]:
    translate = (
        gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[language]).gettext
        if language != "en"
        else str
    )
    return {country.alpha_2: translate(country.name) for country in pycountry.countries}


def first(form: Fields, name: str) -> str | None:
    """The first value given for ``name``, if any."""
    values = form.get(name, ())
    return values[0] if values else None


def _put(data: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    if value is None:
        return
    for part in path[:-1]:
        data = data.setdefault(part, {})
    data[path[-1]] = value


def _validated(
    model: type[M], data: dict[str, Any], places: tuple[tuple[tuple[str, ...], str], ...], language: str
) -> tuple[M | None, FormErrors]:
    try:
        return model.model_validate(data), FormErrors()
    except ValidationError as error:
        return None, FormErrors(_messages(error, model, places, language))


def _messages(
    error: ValidationError,
    model: type[BaseModel],
    places: tuple[tuple[tuple[str, ...], str], ...],
    language: str,
) -> dict[str, str]:
    words = texts(language)
    details = error.errors(include_input=False, include_url=False)
    described = errors.describe_details(details, model, language)
    found: dict[str, str] = {}
    for detail, safe in zip(details, described, strict=True):
        location = tuple(str(part) for part in detail["loc"])
        name = next((place for path, place in places if location[: len(path)] == path), "narrative")
        if name == "province" and location == ("location",):
            message = words["province_outside_canada"]
        elif safe.rule in CHOICE_RULES:
            message = words["choose_listed"]
        else:
            message = safe.message
        found.setdefault(name, message)
    return {name: found[name] for _, name in places if name in found} | found
