"""Validation errors that name the field and the rule, never the value that broke it."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from pydantic import BaseModel, ValidationError

# Context keys whose values come from the schema, not from the input; a pydantic message built from
# any other key (such as "error" for UUID or date parsing) may quote the submitted text.
SCHEMA_CONTEXT_KEYS = frozenset(
    {
        "expected",
        "pattern",
        "min_length",
        "max_length",
        "ge",
        "le",
        "gt",
        "lt",
        "multiple_of",
        "max_digits",
        "decimal_places",
        "field_type",
        "class_name",
        "actual_length",
    }
)
UNKNOWN_FIELD = "<unknown field>"


@dataclass(frozen=True, slots=True)
class FieldError:
    field: str
    rule: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "rule": self.rule, "message": self.message}


@cache
def known_field_names(model: type[BaseModel]) -> frozenset[str]:
    """Every property name that appears anywhere in the model's schema."""
    names: set[str] = set()

    def collect(schema: Any) -> None:
        if isinstance(schema, dict):
            properties = schema.get("properties")
            if isinstance(properties, dict):
                names.update(properties)
            for value in schema.values():
                collect(value)
        elif isinstance(schema, list):
            for value in schema:
                collect(value)

    collect(model.model_json_schema())
    return frozenset(names)


# Messages a caller can act on, in both official languages, built only from the rule and the
# schema-side context, never from the input.
MESSAGES: dict[str, tuple[str, str]] = {
    "missing": ("This field is required.", "Ce champ est obligatoire."),
    "extra_forbidden": ("This field is not part of the form.", "Ce champ ne fait pas partie du formulaire."),
    "enum": ("Use one of: {expected}.", "Utilisez l'une des valeurs suivantes : {expected}."),
    "literal_error": ("Use one of: {expected}.", "Utilisez l'une des valeurs suivantes : {expected}."),
    "string_too_long": ("Use at most {max_length} characters.", "Utilisez au plus {max_length} caractères."),
    "string_too_short": (
        "Use at least {min_length} characters.",
        "Utilisez au moins {min_length} caractères.",
    ),
    "string_pattern_mismatch": ("The format is not valid.", "Le format n'est pas valide."),
    "string_type": ("Give text.", "Indiquez du texte."),
    "int_type": ("Give a whole number.", "Indiquez un nombre entier."),
    "int_parsing": ("Give a whole number.", "Indiquez un nombre entier."),
    "int_from_float": ("Give a whole number.", "Indiquez un nombre entier."),
    "bool_type": ("Give true or false.", "Indiquez true ou false."),
    "bool_parsing": ("Give true or false.", "Indiquez true ou false."),
    "less_than_equal": ("Give a number no greater than {le}.", "Indiquez un nombre d'au plus {le}."),
    "greater_than_equal": ("Give a number no less than {ge}.", "Indiquez un nombre d'au moins {ge}."),
    "too_long": ("Give at most {max_length} items.", "Indiquez au plus {max_length} éléments."),
    "list_type": ("Give a list.", "Indiquez une liste."),
    "model_type": ("Give an object.", "Indiquez un objet."),
    "dict_type": ("Give an object.", "Indiquez un objet."),
    "model_attributes_type": ("Give an object.", "Indiquez un objet."),
    "json_invalid": ("The body is not valid JSON.", "Le corps de la requête n'est pas du JSON valide."),
    "uuid_parsing": ("Give a UUID.", "Indiquez un UUID."),
    "iso_639": (
        "Use an ISO 639-1 or ISO 639-3 language code.",
        "Utilisez un code de langue ISO 639-1 ou ISO 639-3.",
    ),
    "iso_3166": ("Use an ISO 3166-1 alpha-2 country code.", "Utilisez un code de pays ISO 3166-1 alpha-2."),
    "uuid_type": ("Give a UUID.", "Indiquez un UUID."),
}
GENERIC = ("The value does not satisfy the rule '{rule}'.", "La valeur ne respecte pas la règle « {rule} ».")


def describe(error: ValidationError, model: type[BaseModel], language: str = "en") -> list[FieldError]:
    """Turn a pydantic error into field errors that are safe to show, log and put in headers."""
    return describe_details(error.errors(include_input=False, include_url=False), model, language)


def describe_details(
    details: Sequence[Any], model: type[BaseModel], language: str = "en"
) -> list[FieldError]:
    """Describe pydantic-style error details (``loc``, ``type``, ``msg``, ``ctx``) safely."""
    known = known_field_names(model)
    described = []
    for detail in details:
        location = [_safe_part(part, known) for part in detail["loc"]]
        described.append(
            FieldError(
                field=".".join(location) or "(body)",
                rule=detail["type"],
                message=_safe_message(detail, language),
            )
        )
    return described


def preferred_language(accept_language: str | None) -> str:
    """French when the caller prefers it over English, English otherwise."""
    best, best_quality = "en", -1.0
    for part in (accept_language or "").split(","):
        tag, _, parameters = part.strip().partition(";")
        quality = 1.0
        if parameters.strip().startswith("q="):
            try:
                quality = float(parameters.strip()[2:])
            except ValueError:
                continue
        primary = tag.strip().lower().split("-")[0]
        if primary in ("en", "fr") and quality > best_quality:
            best, best_quality = primary, quality
    return best


def _safe_part(part: int | str, known: frozenset[str]) -> str:
    if isinstance(part, int):
        return str(part)
    return part if part in known else UNKNOWN_FIELD


def _safe_message(detail: Any, language: str = "en") -> str:
    rule = detail["type"]
    context = {key: value for key, value in (detail.get("ctx") or {}).items() if key in SCHEMA_CONTEXT_KEYS}
    french = language == "fr"
    if rule in MESSAGES:
        with contextlib.suppress(KeyError, IndexError):
            return MESSAGES[rule][french].format(**context)
    if rule == "value_error" and not french:
        return str(detail["msg"])
    return GENERIC[french].format(rule=rule)
