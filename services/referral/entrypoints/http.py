"""Referral's HTTP edge: the public directory (no credentials) and the staff referral desk.

The public directory lists only publicly listed providers and never a confidential address; staff
see a provider's real address only in the answer that accepts a referral to it.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from enum import StrEnum
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError

from schemas.envelope import Contract
from schemas.referral import ReferralStatus
from schemas.tip import LanguageCode, Need, Province
from services.common import errors
from services.common.auth import Role, Staff, require_role
from services.common.http import field_errors_handler
from services.common.openapi import refusals
from services.common.runtime import runtime_of
from services.referral import handlers
from services.referral.adapters import directory, repository
from services.referral.domain.lifecycle import TransitionRefused

Staffer = Annotated[Staff, Depends(require_role(Role.SPECIALIST, Role.SUPERVISOR))]
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
    warm_transfer: bool = False


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


def routes(app: FastAPI) -> None:
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
        rows = await directory.public_services(
            runtime_of(request).pool, province.value if province else None, city,
            service_type.value if service_type else None, language, limit,
        )  # fmt: skip
        stale_before = date.today() - STALE_AFTER
        return {
            "language": "fr" if french else "en",
            "providers": [
                {
                    "id": row["id"],
                    "name": row["name"],
                    "organization": row["organization"],
                    "service_types": [
                        {"code": kind, "label": SERVICE_TYPES[Need(kind)][1 if french else 0]}
                        for kind in row["service_types"]
                    ],
                    "languages": row["languages"],
                    "interpretation": row["interpretation"],
                    "minimum_age": row["minimum_age"],
                    "maximum_age": row["maximum_age"],
                    "open_24_7": bool(row["open_24_7"]),
                    "areas": row["areas"],
                    "contact": {
                        "phone": row["phone"],
                        "website": row["website"],
                        "city": row["city"],
                        "province": row["province"],
                        "public_address": row["public_address"],
                    },
                    "last_verified_on": row["last_verified_on"].isoformat(),
                    "stale": row["last_verified_on"] < stale_before,
                    "sample": row["sample"],
                }
                for row in rows
            ],
        }

    @app.get("/v1/tips/{tip_id}/referrals", tags=["referrals"])
    async def referrals_of_tip(request: Request, tip_id: uuid.UUID, _staff: Staffer) -> dict[str, Any]:
        rows = await repository.referrals_of_tip(runtime_of(request).pool, tip_id)
        return {
            "tip_id": str(tip_id),
            "referrals": [
                {
                    **dict(row),
                    "referral_id": str(row["referral_id"]),
                    "updated_at": row["updated_at"].isoformat(),
                }
                for row in rows
            ],
        }

    async def move(
        request: Request,
        referral_id: uuid.UUID,
        to: ReferralStatus,
        staff: Staff,
        reason: str | None,
        warm: bool,
    ) -> dict[str, Any]:
        try:
            moved = await handlers.act(referral_id, to, staff, runtime_of(request).transactions, reason, warm)
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
            answer["confidential_address"] = moved.confidential_address
        return answer

    @app.post("/v1/referrals/{referral_id}/accept", tags=["referrals"], responses=refusals(404, 409))
    async def accept(
        request: Request, referral_id: uuid.UUID, acceptance: Acceptance, staff: Staffer
    ) -> dict[str, Any]:
        """The provider accepted; the answer gives staff the provider's real address if it has one.
        A warm transfer needs the caller's consent to be referred.
        """
        return await move(
            request, referral_id, ReferralStatus.ACCEPTED, staff, None, acceptance.warm_transfer
        )

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
