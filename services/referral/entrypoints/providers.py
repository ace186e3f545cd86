"""The provider side of the directory over HTTP.

``/providers/register``: the public form where a provider asks to be listed or to change its listing,
server-rendered in English and French, working without JavaScript, with no cookies, a strict
Content-Security-Policy and ``no-store``. What it receives is only a pending request.

``/v1/provider-requests`` and ``/v1/directory/reconfirmations``: the partnership specialist's API. A
request is taken before it is decided, and only the specialist who holds it decides it; every step
is audited (``provider_audit``).
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import parse_qs

from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from pydantic import Field, StrictBool, ValidationError

from schemas.envelope import Contract
from schemas.tip import WHITE_SPACE, Need, Province
from services.common import errors
from services.common.auth import Role, Staff, require_role
from services.common.http import Refused
from services.common.openapi import refusals
from services.common.rate_limit import ClientLimit
from services.common.runtime import runtime_of
from services.referral.adapters import provider_requests as store
from services.referral.domain.provider_requests import (
    OrganizationId,
    ProviderDetails,
    ProviderRequest,
    Reason,
    RequestKind,
    RequestRefused,
    RequestStatus,
)

FORM = "/providers/register"
WEB = Path(__file__).resolve().parents[1] / "web"
LANGUAGES = ("en", "fr")
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}
FIELDS = (
    ("organization_id", "text"), ("organization_name", "text"), ("service_id", "text"), ("service_name", "text"),
    ("description", "textarea"), ("email", "email"), ("phone", "tel"), ("website", "url"),
    ("city", "text"), ("province", "province"), ("address_1", "text"), ("postal_code", "text"),
    ("address_public", "checkbox"), ("hours", "textarea"), ("languages", "text"), ("service_types", "needs"),
    ("serves_all_of_canada", "checkbox"), ("serves_provinces", "provinces"), ("minimum_age", "number"),
    ("maximum_age", "number"), ("eligibility", "textarea"), ("open_24_7", "checkbox"),
    ("capacity_available", "number"), ("capacity_maximum", "number"), ("hide_address", "checkbox"),
    ("leave_public_directory", "checkbox"),
)  # fmt: skip
# Fields that hold several values: repeated in the form (a multiple select), or, for languages, also
# separated by commas in one box.
LISTS = frozenset({"languages", "service_types", "serves_provinces"})
TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "title": "List your organization in the referral directory",
        "other_language": "Français",
        "intro": "Providers that help victims and survivors of human trafficking can ask to be listed, or ask"
        " for a change to their listing. A partnership specialist checks every request with you before"
        " anything changes; nothing is public until you have agreed to it.",
        "fix": "Please correct these fields:",
        "kind": "Your request",
        "registration": "List a new organization",
        "update": "Change our listing (give its listing id)",
        "organization_id": "Listing id (for a change)",
        "organization_name": "Organization name",
        "service_name": "Service name",
        "description": "What you offer, and to whom",
        "email": "Email for the partnership team",
        "phone": "Telephone",
        "website": "Website (https://…)",
        "city": "City",
        "province": "Province or territory",
        "no_address": "A street address is kept confidential: it is given only to hotline staff referring"
        " someone to you, unless you tick the box below and a partnership specialist approves it.",
        "service_id": "Service id (for a change, if your listing has several services)",
        "address_1": "Street address (kept confidential)",
        "postal_code": "Postal code",
        "address_public": "Our street address may be shown in the public directory",
        "hours": "Opening hours",
        "languages": "Languages served (codes, such as en, fr, ar)",
        "service_types": "What you offer",
        "serves_all_of_canada": "We serve all of Canada",
        "serves_provinces": "Provinces and territories served",
        "minimum_age": "Youngest age served",
        "maximum_age": "Oldest age served",
        "eligibility": "Who may use your services",
        "open_24_7": "Open 24 hours a day, 7 days a week",
        "capacity_available": "Places available now",
        "capacity_maximum": "Places in all",
        "hide_address": "Take our address out of the public directory now",
        "leave_public_directory": "Take our listing out of the public directory now",
        "restrictions": "Hiding your address or leaving the public directory takes effect at once; every other"
        " change waits for a partnership specialist.",
        "send": "Send the request",
        "received": "Thank you: your request was received. A partnership specialist will contact you.",
        "update_names_its_listing": "A change names its listing id; a new listing has none.",
        "too_many": "Too many requests were sent from your connection. Please try again later, or write to"
        " the partnership team.",
    },
    "fr": {
        "title": "Inscrire votre organisme au répertoire d'orientation",
        "other_language": "English",
        "intro": "Les organismes qui aident les victimes et survivantes de la traite de personnes peuvent"
        " demander à y figurer, ou demander une modification de leur fiche. Une ou un spécialiste des"
        " partenariats vérifie chaque demande avec vous ; rien n'est public sans votre accord.",
        "fix": "Veuillez corriger ces champs :",
        "kind": "Votre demande",
        "registration": "Inscrire un nouvel organisme",
        "update": "Modifier notre fiche (indiquez son identifiant)",
        "organization_id": "Identifiant de la fiche (pour une modification)",
        "organization_name": "Nom de l'organisme",
        "service_name": "Nom du service",
        "description": "Ce que vous offrez, et à qui",
        "email": "Courriel pour l'équipe des partenariats",
        "phone": "Téléphone",
        "website": "Site Web (https://…)",
        "city": "Ville",
        "province": "Province ou territoire",
        "no_address": "L'adresse civique reste confidentielle : elle n'est donnée qu'au personnel de la Ligne qui"
        " vous oriente une personne, sauf si vous cochez la case ci-dessous et qu'une ou un spécialiste des"
        " partenariats l'approuve.",
        "service_id": "Identifiant du service (pour une modification, si votre fiche en compte plusieurs)",
        "address_1": "Adresse civique (gardée confidentielle)",
        "postal_code": "Code postal",
        "address_public": "Notre adresse civique peut figurer au répertoire public",
        "hours": "Heures d'ouverture",
        "languages": "Langues offertes (codes, par exemple fr, en, ar)",
        "service_types": "Ce que vous offrez",
        "serves_all_of_canada": "Nous servons tout le Canada",
        "serves_provinces": "Provinces et territoires servis",
        "minimum_age": "Âge minimal",
        "maximum_age": "Âge maximal",
        "eligibility": "Qui peut recourir à vos services",
        "open_24_7": "Ouvert 24 heures sur 24, 7 jours sur 7",
        "capacity_available": "Places libres en ce moment",
        "capacity_maximum": "Places en tout",
        "hide_address": "Retirer notre adresse du répertoire public dès maintenant",
        "leave_public_directory": "Retirer notre fiche du répertoire public dès maintenant",
        "restrictions": "Retirer votre adresse ou votre fiche du répertoire public prend effet aussitôt ; toute"
        " autre modification attend une ou un spécialiste des partenariats.",
        "send": "Envoyer la demande",
        "received": "Merci : votre demande a été reçue. Une ou un spécialiste des partenariats vous joindra.",
        "update_names_its_listing": "Une modification indique l'identifiant de sa fiche ; une inscription n'en a pas.",
        "too_many": "Trop de demandes ont été envoyées depuis votre connexion. Veuillez réessayer plus tard, ou"
        " écrire à l'équipe des partenariats.",
    },
}
REFUSALS = {
    "already_decided": "This request was already decided.",
    "held_by_another_person": "Another partnership specialist holds this request.",
    "take_the_request_first": "Take the request before deciding it.",
    "no_such_listing": "The listing this request changes does not exist.",
    "no_such_service": "The listing has no service of that id.",
    "name_the_service": "The listing has several services: the request must name the one it changes.",
    "address_not_consented": "The provider did not agree that its street address be public.",
    "listing_not_consented": "The provider asked to leave the public directory: the listing may not be public.",
    "invalid_listing": "The listing this request would write breaks a rule of the directory (problems).",
    "invalid_details": "The request's details break a rule of the form (problems): it cannot be approved.",
    "already_listed": "A listing already has the id this registration would take: it cannot be approved.",
}
Partnerships = Annotated[Staff, Depends(require_role(Role.PARTNERSHIPS))]


class FormRequest(ProviderDetails):
    """The registration form as sent: a provider's details, which request it is, and the page's language."""

    lang: Literal["en", "fr"] | None = None
    kind: RequestKind = RequestKind.REGISTRATION
    organization_id: OrganizationId | None = Field(
        default=None, description="The listing an update changes; a registration names none."
    )

    def request(self) -> ProviderRequest:
        details = ProviderDetails.model_validate(self.model_dump(exclude={"lang", "kind", "organization_id"}))
        return ProviderRequest(kind=self.kind, organization_id=self.organization_id, details=details)


BLANK = {
    "type": "string",
    "pattern": f"^[{WHITE_SPACE}]*$",
    "description": "Left empty: the field is absent.",
}
# The form trims what the document calls white space (Python's own `str.strip` also takes U+001C-U+001F).
EDGE_SPACE = re.compile(f"^[{WHITE_SPACE}]+|[{WHITE_SPACE}]+$")


def _trimmed(value: str) -> str:
    return EDGE_SPACE.sub("", value)


def _form_document() -> dict[str, Any]:
    schema = FormRequest.model_json_schema()
    definitions = schema.pop("$defs", {})

    # A form field is text or absent: never a JSON null, never a reference to another document's part.
    def inlined(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                return inlined(definitions[node["$ref"].rsplit("/", 1)[1]])
            return {key: inlined(value) for key, value in node.items()}
        return [inlined(item) for item in node] if isinstance(node, list) else node

    for name, field in schema["properties"].items():
        branches = [b for b in field.pop("anyOf", [field]) if b != {"type": "null"}]
        (kept,) = branches
        shown = inlined({**{k: v for k, v in field.items() if k != "$ref"}, **kept})
        # A browser sends every field, empty when left empty: an optional field sent blank is absent.
        optional = name not in schema.get("required", [])
        schema["properties"][name] = {"anyOf": [shown, BLANK]} if optional else shown
    # The one rule a flat form cannot state field by field: an update names its listing, a
    # registration does not.
    # The form reads a value without the spaces around it: a telephone number documented as the
    # validator reads it, so no number the document allows ends, once trimmed, too short.
    phone = schema["properties"]["phone"]["anyOf"][0]
    phone["pattern"] = r"^\+?[0-9().-][0-9 ().-]{1,28}[0-9().-]$"
    named = schema["properties"]["organization_id"]["anyOf"][0]
    schema["then"] = {"required": ["organization_id"], "properties": {"organization_id": named}}
    schema["else"] = {"properties": {"organization_id": BLANK}}
    schema["if"] = {"properties": {"kind": {"const": "update"}}, "required": ["kind"]}
    page = {"text/html": {"schema": {"type": "string"}}}
    return {
        "requestBody": {"required": True, "content": {"application/x-www-form-urlencoded": {"schema": schema}}},
        "responses": {
            "200": {"description": "The request was received (a page).", "content": page},
            "422": {"description": "The form again, each field's problem named on it.", "content": page},
            "429": {
                "description": "Too many requests from this client: wait (Retry-After).", "content": page,
                "headers": {"Retry-After": {"schema": {"type": "string", "pattern": "^[0-9]+$"}}},
            },
        },
    }  # fmt: skip


FORM_DOCUMENT = _form_document()


class Approval(Contract):
    """What the specialist confirmed with the provider, field by field: whether the listing may be
    public (unsaid: it stays as it is, and a new listing stays out of the public directory), and whether
    a street address the request gives may be public (unsaid or false: it is confidential). Neither
    against the provider's answer on the form: 409 ``address_not_consented`` or ``listing_not_consented``."""

    public: StrictBool | None = None
    address_public: StrictBool | None = None


class Rejection(Contract):
    reason: Reason


def registration_form_routes(app: FastAPI, limit: ClientLimit) -> None:
    """The public form alone: what the public referral deployment serves besides the HSDS API."""
    pages = Environment(
        loader=FileSystemLoader(WEB / "templates"), autoescape=select_autoescape(default=True),
        trim_blocks=True, lstrip_blocks=True,
    )  # fmt: skip

    def page(
        language: str, status: int = 200, headers: dict[str, str] | None = None, **context: Any
    ) -> HTMLResponse:
        other = "fr" if language == "en" else "en"
        html = pages.get_template("register.html").render(
            t=TEXTS[language], lang=language, other_lang=other, base=FORM, fields=FIELDS,
            provinces=[province.value for province in Province], needs=[need.value for need in Need],
            **{"errors": {}, "values": {}, **context},
        )  # fmt: skip
        return HTMLResponse(
            html, status_code=status,
            headers={**SECURITY_HEADERS, "Content-Language": language, **(headers or {})},
        )  # fmt: skip

    def language_of(request: Request, asked: str | None) -> str:
        return (
            asked if asked in LANGUAGES else errors.preferred_language(request.headers.get("accept-language"))
        )

    @app.get(FORM, response_class=HTMLResponse, include_in_schema=False)
    async def registration_form(request: Request) -> HTMLResponse:
        return page(language_of(request, request.query_params.get("lang")))

    @app.post(
        FORM, response_class=HTMLResponse, tags=["providers"], openapi_extra=FORM_DOCUMENT,
    )  # fmt: skip
    async def register(request: Request) -> HTMLResponse:
        """A provider asks to be listed or to change its listing (the form, ``application/x-www-form-urlencoded``).

        Each client may send ``LANTERN_REGISTRATION_RATE_LIMIT`` requests a window; past that the page
        answers 429 with ``Retry-After``. A request that breaks a rule is shown again with each field's
        problem (422) and is not counted.
        """
        # As a byte that is not UTF-8, a NUL (which PostgreSQL's text and jsonb cannot hold) is read as
        # U+FFFD: a provider's text never carries one on purpose.
        text = (await request.body()).decode("utf-8", "replace")
        parsed = parse_qs(text, keep_blank_values=True)
        parsed = {
            name: [value.replace("\x00", "\ufffd") for value in values] for name, values in parsed.items()
        }
        fields: dict[str, Any] = {}
        for name, values in parsed.items():
            kept = [trimmed for value in values if (trimmed := _trimmed(value))]
            if name in LISTS:
                split = [part for value in kept for piece in value.split(",") if (part := _trimmed(piece))]
                if split:
                    fields[name] = split
            elif kept:
                fields[name] = kept[0]
        language = language_of(request, fields.get("lang"))
        shown = {name: value for name, value in fields.items() if name != "lang"}
        try:
            form = FormRequest.model_validate(fields)
        except ValidationError as error:
            found = errors.describe(error, FormRequest, language)
            named = {_form_field(problem.field): problem.message for problem in found}
            return page(language, 422, errors=named, values=shown)
        if (form.organization_id is None) == (form.kind is RequestKind.UPDATE):
            message = TEXTS[language]["update_names_its_listing"]
            return page(language, 422, errors={"organization_id": message}, values=shown)
        submitted = form.request()
        # Counted once valid: a provider correcting its own mistakes is not locked out, and what is
        # refused above costs no more than reading the capped body.
        if (wait := limit.wait_for(request)) is not None:
            return page(
                language, 429, headers={"Retry-After": str(int(wait))}, refused=TEXTS[language]["too_many"]
            )
        async with runtime_of(request).pool.acquire() as connection:
            await store.submit(connection, submitted, language)
        return page(language, received=True)


def specialist_routes(app: FastAPI) -> None:
    @app.get("/v1/provider-requests", tags=["providers"])
    async def provider_requests(
        request: Request,
        _staff: Partnerships,
        status: Annotated[RequestStatus, Query()] = RequestStatus.PENDING,
    ) -> dict[str, Any]:
        """Providers' registration and update requests, the oldest first (pending unless asked)."""
        return {"requests": await store.listed(runtime_of(request).pool, status)}

    @app.get("/v1/provider-requests/{request_id}", tags=["providers"], responses=refusals(404))
    async def provider_request(
        request: Request, request_id: uuid.UUID, _staff: Partnerships
    ) -> dict[str, Any]:
        found = await store.one(runtime_of(request).pool, request_id)
        if found is None:
            raise HTTPException(status_code=404, detail="No such request.")
        return found

    @app.post("/v1/provider-requests/{request_id}/take", tags=["providers"], responses=refusals(404, 409))
    async def take_request(request: Request, request_id: uuid.UUID, staff: Partnerships) -> dict[str, Any]:
        """Hold a request: only the partnership specialist who holds it approves or rejects it."""
        async with runtime_of(request).pool.acquire() as connection:
            with _refusals():
                taken = await store.take(connection, request_id, staff)
        if not taken:
            raise HTTPException(status_code=404, detail="No such request.")
        return {"request_id": str(request_id), "held_by": str(staff.person_id)}

    @app.post("/v1/provider-requests/{request_id}/approve", tags=["providers"], responses=refusals(404, 409))
    async def approve_request(
        request: Request, request_id: uuid.UUID, approval: Approval, staff: Partnerships
    ) -> dict[str, Any]:
        """Approve: a registration becomes a listing (public only if ``public`` says so), an update is
        applied and counts as the provider's confirmation of its details."""
        async with runtime_of(request).pool.acquire() as connection:
            with _refusals():
                decided = await store.decide(
                    connection, request_id, staff, approve=True, public=approval.public,
                    address_public=approval.address_public,
                )  # fmt: skip
        if decided is None:
            raise HTTPException(status_code=404, detail="No such request.")
        return decided

    @app.post("/v1/provider-requests/{request_id}/reject", tags=["providers"], responses=refusals(404, 409))
    async def reject_request(
        request: Request, request_id: uuid.UUID, rejection: Rejection, staff: Partnerships
    ) -> dict[str, Any]:
        """Decline with a reason; ``restrictions_applied``: the address it hid or the listing it took out
        of the public directory stays so (no automatic undo), for the specialist to restore if need be."""
        async with runtime_of(request).pool.acquire() as connection:
            with _refusals():
                decided = await store.decide(
                    connection, request_id, staff, approve=False, reason=rejection.reason
                )
        if decided is None:
            raise HTTPException(status_code=404, detail="No such request.")
        return decided

    @app.get("/v1/directory/reconfirmations", tags=["providers"])
    async def open_reconfirmations(request: Request, _staff: Partnerships) -> dict[str, Any]:
        """Providers asked to confirm their details, the soonest due first; ``lapsed``: out of the public
        directory and of matching until confirmed."""
        return {"reconfirmations": await store.reconfirmations(runtime_of(request).pool)}

    @app.post(
        "/v1/directory/reconfirmations/{organization_id}/confirm", tags=["providers"], responses=refusals(404)
    )
    async def confirm_details(
        request: Request, organization_id: OrganizationId, staff: Partnerships
    ) -> dict[str, Any]:
        """The provider confirmed its details with a partnership specialist: listed and matchable again."""
        async with runtime_of(request).pool.acquire() as connection:
            confirmed = await store.confirm_details(connection, organization_id, staff)
        if not confirmed:
            raise HTTPException(status_code=404, detail="No confirmation was asked of this organization.")
        return {"organization_id": organization_id, "confirmed": True}


def _form_field(path: str) -> str:
    return path.removeprefix("details.")


class _refusals:
    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, _trace: object) -> None:
        if isinstance(error, RequestRefused):
            status = (
                403
                if error.rule == "held_by_another_person" or error.rule == "take_the_request_first"
                else 409
            )
            body: dict[str, Any] = {"detail": REFUSALS.get(error.rule, error.rule), "rule": error.rule}
            if error.problems:
                body["problems"] = list(error.problems)
            raise Refused(status, body) from None
