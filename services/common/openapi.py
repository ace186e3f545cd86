"""Each service's OpenAPI document as the service really answers: its refusals, their bodies, its auth.

FastAPI documents a 422 with its own ``HTTPValidationError``, which our bodies are not, and knows
nothing of the statuses that middleware and dependencies answer. ``document_refusals`` rewrites the
generated document once: our error bodies, the bearer scheme on every route that reads a token (with
an anonymous alternative where a token is optional), 401 and 403 where a token is checked, 400 and
413 from the body limit (``limits.py``), 422 wherever something is validated, and the ISO code lists
that the validators enforce. Statuses a route's own logic answers (404, 409, 429, 503) are declared
on the route with ``refusals``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from itertools import product
from string import ascii_lowercase, ascii_uppercase
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field
from pydantic_core import PydanticCustomError

from schemas.tip import COUNTRY_CODE_FORMAT, LANGUAGE_CODE_FORMAT, iso_639, iso_3166
from services.common.auth import optional_staff

BEARER = "bearer"
DESCRIPTIONS = {
    400: "The request is malformed (a Content-Length that is not a number of bytes).",
    401: "A staff bearer token is missing, unknown, expired or revoked.",
    403: "The token's role does not allow this, or the reference and follow-up code do not match.",
    404: "Nothing of that id.",
    409: "The resource is not in a state that allows this.",
    413: "The body is larger than the service accepts.",
    422: "A field breaks a rule: each one is listed with its rule, never with the value sent.",
    429: "Too many requests: wait (Retry-After) or call the hotline.",
    503: "A dependency is not ready (such as an agency's key): nothing was done.",
}


class FieldErrorItem(BaseModel):
    field: str = Field(description="Dotted path of the field; `<unknown field>` for a name the form lacks.")
    rule: str = Field(description="The rule broken, such as `missing`, `string_too_long`, `iso_3166`.")
    message: str = Field(description="What to do, in the caller's language (Accept-Language: en or fr).")
    allowed: list[str] | None = Field(
        default=None, description="The values allowed, when they depend on state."
    )


class FieldErrors(BaseModel):
    """A 422: the request named fields that break rules."""

    detail: str
    errors: list[FieldErrorItem]


class Refusal(BaseModel):
    """Any other refusal: what happened, in the caller's language where it is a public route."""

    detail: str
    rule: str | None = Field(
        default=None, description="Which cap was reached, on a follow-up refused with 429."
    )
    reasons: list[dict[str, Any]] | None = Field(
        default=None, description="The disclosure policy's reasons, when it finds no basis (409)."
    )
    problems: list[str] | None = Field(
        default=None,
        description="What breaks a rule, by table, record and field (never a value), when an approved"
        " provider request would write an invalid listing (409).",
    )


def refusals(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` of a route that answers ``statuses`` from its own logic."""
    return {status: _response(status) for status in statuses}


def _response(status: int) -> dict[str, Any]:
    model = FieldErrors if status == 422 else Refusal
    answer: dict[str, Any] = {"description": DESCRIPTIONS[status], "model": model}
    if status == 401:
        answer["headers"] = {"WWW-Authenticate": {"schema": {"type": "string", "const": "Bearer"}}}
    if status == 429:
        answer["headers"] = {"Retry-After": {"schema": {"type": "string", "pattern": "^[0-9]+$"}}}
    return answer


def document_refusals(app: FastAPI, body_limited: bool = True) -> None:
    """Make ``app.openapi()`` describe the refusals as they are answered."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title, version=app.version, description=app.description, routes=app.routes,
                tags=app.openapi_tags, servers=app.servers,
            )  # fmt: skip
            app.openapi_schema = _rewritten(document, app, body_limited)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _rewritten(document: dict[str, Any], app: FastAPI, body_limited: bool) -> dict[str, Any]:
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for model in (FieldErrors, Refusal):
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    components["securitySchemes"] = {
        BEARER: {
            "type": "http",
            "scheme": "bearer",
            "description": "A staff token (`lantern staff token`); it carries one role.",
        }
    }
    for route in app.routes:
        if not isinstance(route, APIRoute) or not route.include_in_schema:
            continue
        auth = _auth_of(route.dependant)
        for method in route.methods or ():
            operation = document["paths"].get(route.path_format, {}).get(method.lower())
            if operation is None:
                continue
            _rewrite_operation(operation, auth, body_limited)
    rewritten: dict[str, Any] = _with_code_lists(document)
    text = repr(rewritten)
    if "#/components/schemas/CountryCode" in text:
        rewritten["components"]["schemas"]["CountryCode"] = {
            "type": "string", "enum": list(country_codes()), "description": "ISO 3166-1 alpha-2, upper case.",
        }  # fmt: skip
    if "#/components/schemas/LanguageCode" in text:
        rewritten["components"]["schemas"]["LanguageCode"] = {
            "type": "string", "enum": list(language_codes()),
            "description": "ISO 639-1 (two letters) or ISO 639-3 (three letters), lower case.",
        }  # fmt: skip
    return rewritten


def _rewrite_operation(operation: dict[str, Any], auth: str | None, body_limited: bool) -> None:
    for parameter in operation.get("parameters", ()):
        parameter["schema"] = _without_null(parameter.get("schema", {}))
    responses: dict[str, Any] = operation.setdefault("responses", {})
    wanted: set[int] = set()
    if body_limited:
        wanted.add(400)
        if "requestBody" in operation:
            wanted.add(413)
    if "requestBody" in operation or operation.get("parameters"):
        wanted.add(422)
    if auth is not None:
        wanted.add(401)
        operation["security"] = [{BEARER: []}] if auth == "required" else [{}, {BEARER: []}]
    if auth == "required":
        wanted.add(403)
    for status in sorted(wanted):
        if "text/html" in responses.get(str(status), {}).get("content", {}):
            continue  # a page answers its own refusals as a page (the registration form's 422)
        responses[str(status)] = _openapi_response(status)
    for answer in responses.values():
        for media in answer.get("content", {}).values():
            if media.get("schema", {}).get("$ref", "").endswith("/HTTPValidationError"):
                media["schema"] = {"$ref": "#/components/schemas/FieldErrors"}


def _without_null(schema: dict[str, Any]) -> dict[str, Any]:
    """A parameter is optional by ``required: false``; a header or a query string cannot carry a JSON
    null, and FastAPI's ``anyOf [..., null]`` would have a client send the text "null" instead.
    """
    branches = schema.get("anyOf")
    if not isinstance(branches, list) or {"type": "null"} not in branches:
        return schema
    kept = [branch for branch in branches if branch != {"type": "null"}]
    rest = {key: value for key, value in schema.items() if key != "anyOf"}
    if rest.get("default", ...) is None:
        del rest["default"]
    return {**kept[0], **rest} if len(kept) == 1 else {**rest, "anyOf": kept}


def _openapi_response(status: int) -> dict[str, Any]:
    answer = _response(status)
    model: type[BaseModel] = answer.pop("model")
    return {
        **answer,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{model.__name__}"}}},
    }


def _auth_of(dependant: Dependant) -> str | None:
    """``required`` when a dependency checks a role, ``optional`` when it only reads a token."""
    found: set[str] = set()

    def walk(node: Dependant) -> None:
        call: Callable[..., Any] | None = node.call
        if call is optional_staff:
            found.add("optional")
        if getattr(call, "roles", None):
            found.add("required")
        for child in node.dependencies:
            walk(child)

    walk(dependant)
    if "required" in found:
        return "required"
    return "optional" if found else None


def _with_code_lists(node: Any) -> Any:
    """Point every schema that carries an ISO code format to the list of codes its validator accepts."""
    if isinstance(node, list):
        return [_with_code_lists(item) for item in node]
    if not isinstance(node, dict):
        return node
    kind = node.get("format")
    if kind in (COUNTRY_CODE_FORMAT, LANGUAGE_CODE_FORMAT):
        target = "CountryCode" if kind == COUNTRY_CODE_FORMAT else "LanguageCode"
        kept = {key: value for key, value in node.items() if key in ("default", "description", "title")}
        return {"$ref": f"#/components/schemas/{target}", **kept}
    return {key: _with_code_lists(value) for key, value in node.items()}


def _accepted(codes: Any, check: Callable[[str], str]) -> tuple[str, ...]:
    accepted = []
    for code in codes:
        try:
            accepted.append(check(code))
        except PydanticCustomError:
            continue
    return tuple(sorted(accepted))


@cache
def country_codes() -> tuple[str, ...]:
    """Every code the country validator accepts, found by asking it (so the list cannot drift from it)."""
    return _accepted(("".join(pair) for pair in product(ascii_uppercase, repeat=2)), iso_3166)


@cache
def language_codes() -> tuple[str, ...]:
    """Every code the language validator accepts: all two- and three-letter lower-case strings asked."""
    candidates = (
        "".join(letters) for length in (2, 3) for letters in product(ascii_lowercase, repeat=length)
    )
    return _accepted(candidates, iso_639)
