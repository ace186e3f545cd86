"""Referral's HTTP edge: the public directory (no credentials) and the staff referral desk.

The public directory lists only publicly listed providers and never a confidential address; staff
see a provider's real address only in the answer that accepts a referral to it.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from enum import StrEnum
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import StrictBool

from schemas.envelope import Contract
from schemas.referral import AreaLevel, ReferralStatus
from schemas.tip import LanguageCode, Need, Province
from services.common import errors
from services.common.auth import Role, Staff, require_role
from services.common.http import field_errors_handler
from services.common.openapi import refusals
from services.common.rate_limit import ClientLimit
from services.common.runtime import runtime_of
from services.referral import handlers
from services.referral.adapters import directory, holders, repository
from services.referral.domain import hsds
from services.referral.domain.directory import Provider, folded
from services.referral.domain.lifecycle import TransitionRefused
from services.referral.entrypoints import hsds_api, providers
from services.referral.settings import ReferralSettings

Staffer = Annotated[Staff, Depends(require_role(Role.SPECIALIST, Role.SUPERVISOR))]
SupervisorOnly = Annotated[Staff, Depends(require_role(Role.SUPERVISOR))]
STALE_AFTER = timedelta(days=365)
INVALID = {
    "en": "The request was not accepted: correct the fields listed and send it again.",
    "fr": "La demande n'a pas été acceptée : corrigez les champs indiqués et envoyez-la de nouveau.",
}
SERVICE_TYPES = {
    Need.EMERGENCY_SHELTER: ("Emergency shelter", "Hébergement d'urgence"),
    Need.TRANSITIONAL_HOUSING: ("Transitional housing", "Logement de transition"),
    Need.LONG_TERM_HOUSING: ("Long-term housing", "Logement à long terme"),
    Need.LEGAL: ("Legal help", "Aide juridique"),
    Need.MEDICAL: ("Medical care", "Soins médicaux"),
    Need.MENTAL_HEALTH: ("Mental health", "Santé mentale"),
    Need.ADDICTIONS: ("Addictions", "Dépendances"),
    Need.IMMIGRATION: ("Immigration", "Immigration"),
    Need.EMPLOYMENT: ("Employment", "Emploi"),
    Need.VICTIM_SERVICES: ("Victim services", "Services aux victimes"),
    Need.CRISIS_SUPPORT: ("Crisis line", "Ligne de crise"),
    Need.CULTURALLY_SPECIFIC: ("Culturally specific services", "Services adaptés à la culture"),
}


class Language(StrEnum):
    EN = "en"
    FR = "fr"


class DeclineReason(StrEnum):
    NO_CAPACITY = "no_capacity"
    NOT_ELIGIBLE = "not_eligible"
    OUT_OF_AREA = "out_of_area"
    CALLER_DECLINED = "caller_declined"
    OTHER = "other"


class Acceptance(Contract):
    """The provider accepted. ``confirmed_by`` says who confirmed it, the provider (on the line, in a
    warm transfer) or the supervisor accepting it: only a confirmed acceptance shows the provider's
    confidential address.
    """

    warm_transfer: StrictBool = False
    confirmed_by: Literal["provider", "supervisor"] | None = None


class WithReason(Contract):
    reason: DeclineReason


class DirectoryQuery(Contract):
    """The public directory's query parameters, so that a refusal can name them."""

    province: Province | None = None
    city: str | None = None
    service_type: Need | None = None
    language: LanguageCode | None = None
    lang: Language | None = None
    limit: int = 100


def _model_for(request: Request) -> type[Contract]:
    path = request.url.path
    if path.startswith("/v1/directory"):
        return DirectoryQuery
    return Acceptance if path.endswith("/accept") else WithReason


def _serves(provider: Provider, province: Province | None, city: str | None) -> bool:
    in_province = province is None or any(
        area.level is AreaLevel.NATIONAL or area.province == province.value for area in provider.areas
    )
    in_city = city is None or any(
        area.level is not AreaLevel.CITY or area.city == folded(city) for area in provider.areas
    )
    return in_province and in_city


def _listed(tables: hsds.Tables, provider: Provider, french: bool, stale_before: date) -> dict[str, Any]:
    service = tables["service"][provider.provider_id]
    organization = tables["organization"].get(str(service.get("organization_id")), {})
    phones = [p for p in tables["phone"].values() if p.get("service_id") == provider.provider_id]
    sites = sorted(
        str(link.get("location_id")) for link in tables["service_at_location"].values()
        if link.get("service_id") == provider.provider_id
    )  # fmt: skip
    address = next(
        (a for site in sites[:1] for a in tables["address"].values() if a.get("location_id") == site), None
    )
    return {
        "id": provider.provider_id,
        "name": provider.name,
        "organization": provider.organization,
        "service_types": [
            {"code": kind.value, "label": SERVICE_TYPES[kind][1 if french else 0]}
            for kind in sorted(provider.service_types)
        ],
        "languages": sorted(provider.languages),
        "interpretation": provider.interpretation,
        "minimum_age": provider.minimum_age,
        "maximum_age": provider.maximum_age,
        "open_24_7": provider.open_24_7,
        "areas": [
            {"scope": area.level.value, "province": area.province, "city": area.city}
            for area in provider.areas
        ],
        "contact": {
            "phone": phones[0].get("number") if phones else None,
            "website": organization.get("website"),
            "city": provider.city,
            "province": provider.province,
            "public_address": address.get("address_1") if address else None,
        },
        "last_verified_on": provider.last_verified_on.isoformat() if provider.last_verified_on else None,
        "stale": bool(provider.last_verified_on and provider.last_verified_on < stale_before),
        "sample": provider.sample,
    }


def routes(app: FastAPI, registrations: ClientLimit) -> None:
    """Everything referral answers: the public routes, then the staff's."""
    public_routes(app, registrations)
    providers.specialist_routes(app)
    staff_routes(app)


def public_routes(app: FastAPI, registrations: ClientLimit) -> None:
    """What needs no credentials (the HSDS API, the public list, the registration form): all the public
    deployment serves, reading only the published public directory."""
    hsds_api.routes(app)
    providers.registration_form_routes(app, registrations)
    app.add_exception_handler(
        RequestValidationError,
        field_errors_handler(INVALID, _model_for),  # type: ignore[arg-type]
    )

    @app.get("/v1/directory", tags=["public directory"])
    async def public_directory(
        request: Request,
        province: Province | None = None,
        city: Annotated[str | None, Query(max_length=100)] = None,
        service_type: Need | None = None,
        language: LanguageCode | None = None,
        lang: Language | None = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
    ) -> dict[str, Any]:
        """Publicly listed providers, with their public contact only; in English or French (`lang`,
        else `Accept-Language`). No credentials needed.
        """
        french = (lang or errors.preferred_language(request.headers.get("accept-language"))) == "fr"
        tables = await directory.public_tables(runtime_of(request).pool)
        stale_before = date.today() - STALE_AFTER
        found = []
        for profiled in hsds.providers(tables, hsds.Confirmations()):
            provider = profiled.provider
            if provider is None or not provider.active or not _serves(provider, province, city):
                continue
            if service_type is not None and service_type not in provider.service_types:
                continue
            if language is not None and language not in provider.languages and not provider.interpretation:
                continue
            found.append(_listed(tables, provider, french, stale_before))
        found.sort(key=lambda item: (item["organization"], item["name"]))
        return {"language": "fr" if french else "en", "providers": found[:limit]}


def staff_routes(app: FastAPI) -> None:
    """Referrals, for specialists and supervisors."""

    async def may_act(request: Request, staff: Staff, tip_id: uuid.UUID | None) -> None:
        """A supervisor acts on any tip's referrals; a specialist only on those of a tip they hold,
        as intake says. Refused with 403 otherwise, 503 when intake cannot say.
        """
        if staff.role is Role.SUPERVISOR or tip_id is None:
            return
        intake_url = ReferralSettings.of(runtime_of(request).settings).intake_url
        token = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        try:
            held = intake_url is not None and await holders.holds(intake_url, token, tip_id)
        except holders.HolderUnknown:
            raise HTTPException(status_code=503, detail="Intake did not say who holds this tip.") from None
        if not held:
            raise HTTPException(
                status_code=403,
                detail={"detail": "Only the person holding the tip, or a supervisor, acts on its referrals.",
                        "rule": "held_by_another_person"},
            )  # fmt: skip

    @app.get("/v1/tips/{tip_id}/referrals", tags=["referrals"], responses=refusals(403))
    async def referrals_of_tip(request: Request, tip_id: uuid.UUID, staff: Staffer) -> JSONResponse:
        """The tip's match (how the search went, with each widening step) and its referrals, each with
        its reasons. A specialist reads them only for a tip they hold.
        """
        await may_act(request, staff, tip_id)
        pool = runtime_of(request).pool
        rows = await repository.referrals_of_tip(pool, tip_id)
        found = await repository.match_of_tip(pool, tip_id)
        match = (
            {"status": found["status"], "reasons": found["reasons"], "triage_revision": found["triage_revision"],
             "matched_at": found["matched_at"].isoformat()}
            if found else None
        )  # fmt: skip
        return JSONResponse(
            {
                "tip_id": str(tip_id),
                "match": match,
                "referrals": [
                    {
                        **dict(row),
                        "referral_id": str(row["referral_id"]),
                        "reasons": row["reasons"],
                        "updated_at": row["updated_at"].isoformat(),
                    }
                    for row in rows
                ],
            },
            headers={"Cache-Control": "no-store"},
        )

    async def move(
        request: Request,
        referral_id: uuid.UUID,
        to: ReferralStatus,
        staff: Staff,
        reason: str | None,
        warm: bool,
        confirmed_by: str | None = None,
    ) -> dict[str, Any]:
        await may_act(request, staff, await repository.tip_of_referral(runtime_of(request).pool, referral_id))
        try:
            moved = await handlers.act(
                referral_id, to, staff, runtime_of(request).transactions, reason, warm, confirmed_by
            )
        except handlers.ReferralNotFound:
            raise HTTPException(status_code=404, detail="No such referral.") from None
        except TransitionRefused as refused:
            raise HTTPException(status_code=409, detail=refused.why) from None
        answer: dict[str, Any] = {
            "referral_id": str(referral_id),
            "provider_id": moved.provider_id,
            "status": to.value,
        }
        if to is ReferralStatus.ACCEPTED:
            answer["confirmed"] = confirmed_by is not None
            answer["confidential_address"] = moved.confidential_address
        return answer

    @app.post("/v1/referrals/{referral_id}/accept", tags=["referrals"], responses=refusals(403, 404, 409))
    async def accept(
        request: Request, referral_id: uuid.UUID, acceptance: Acceptance, staff: Staffer
    ) -> JSONResponse:
        """The provider accepted. Confirmed by the provider or by the supervisor accepting it, the
        answer gives staff the provider's real address if it has one; unconfirmed, it waits for a
        supervisor's confirmation. A warm transfer needs the caller's consent to be referred; a
        provider confirms only in one (on the line).
        """
        if acceptance.confirmed_by == "supervisor" and staff.role is not Role.SUPERVISOR:
            raise HTTPException(status_code=403, detail="Only a supervisor confirms as a supervisor.")
        if acceptance.confirmed_by == "provider" and not acceptance.warm_transfer:
            # The provider confirms on the line, in a warm transfer; otherwise only a specialist's word
            # would stand between anyone on shift and a shelter's address.
            raise HTTPException(
                status_code=403, detail="A provider confirms only on the line: record the warm transfer."
            )
        answer = await move(
            request, referral_id, ReferralStatus.ACCEPTED, staff, None, acceptance.warm_transfer,
            acceptance.confirmed_by,
        )  # fmt: skip
        return JSONResponse(answer, headers={"Cache-Control": "no-store"})

    @app.post("/v1/referrals/{referral_id}/confirm", tags=["referrals"], responses=refusals(404, 409))
    async def confirm(request: Request, referral_id: uuid.UUID, _staff: SupervisorOnly) -> JSONResponse:
        """A supervisor confirms an accepted referral; the answer gives the provider's real address."""
        try:
            moved = await handlers.confirm(referral_id, runtime_of(request).transactions)
        except handlers.ReferralNotFound:
            raise HTTPException(status_code=404, detail="No such referral.") from None
        except TransitionRefused as refused:
            raise HTTPException(status_code=409, detail=refused.why) from None
        return JSONResponse(
            {"referral_id": str(referral_id), "provider_id": moved.provider_id, "status": moved.status.value,
             "confirmed": True, "confidential_address": moved.confidential_address},
            headers={"Cache-Control": "no-store"},
        )  # fmt: skip

    @app.post("/v1/referrals/{referral_id}/decline", tags=["referrals"], responses=refusals(404, 409))
    async def decline(
        request: Request, referral_id: uuid.UUID, body: WithReason, staff: Staffer
    ) -> dict[str, Any]:
        return await move(request, referral_id, ReferralStatus.DECLINED, staff, body.reason.value, False)

    @app.post("/v1/referrals/{referral_id}/complete", tags=["referrals"], responses=refusals(404, 409))
    async def complete(request: Request, referral_id: uuid.UUID, staff: Staffer) -> dict[str, Any]:
        return await move(request, referral_id, ReferralStatus.COMPLETED, staff, None, False)

    @app.post("/v1/referrals/{referral_id}/revoke", tags=["referrals"], responses=refusals(404, 409))
    async def revoke(
        request: Request, referral_id: uuid.UUID, body: WithReason, staff: Staffer
    ) -> dict[str, Any]:
        return await move(request, referral_id, ReferralStatus.REVOKED, staff, body.reason.value, False)
