"""Validation errors that name the field and the rule, never the value that broke it."""

from __future__ import annotations

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


def describe(error: ValidationError, model: type[BaseModel]) -> list[FieldError]:
    """Turn a pydantic error into field errors that are safe to show, log and put in headers."""
    return describe_details(error.errors(include_input=False, include_url=False), model)


def describe_details(details: Sequence[Any], model: type[BaseModel]) -> list[FieldError]:
    """Describe pydantic-style error details (``loc``, ``type``, ``msg``, ``ctx``) safely."""
    known = known_field_names(model)
    described = []
    for detail in details:
        location = [_safe_part(part, known) for part in detail["loc"]]
        described.append(
            FieldError(
                field=".".join(location) or "(body)",
                rule=detail["type"],
                message=_safe_message(detail),
            )
        )
    return described


def _safe_part(part: int | str, known: frozenset[str]) -> str:
    if isinstance(part, int):
        return str(part)
    return part if part in known else UNKNOWN_FIELD


def _safe_message(detail: Any) -> str:
    context = detail.get("ctx") or {}
    if set(context) <= SCHEMA_CONTEXT_KEYS:
        return str(detail["msg"])
    if detail["type"] == "value_error":
        return str(detail["msg"])
    return f"Value does not satisfy the rule '{detail['type']}'"
