"""Intake's HTTP edge: the public web channel, staff channels, follow-up, consent and shredding.

For the public channel nothing about the device or network is stored or logged: the client address
only feeds the in-memory rate limiter as a keyed hash.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Body, Depends, FastAPI, Header, HTTPException, Path, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from opentelemetry import trace
from pydantic import StringConstraints

from schemas.envelope import Contract
from schemas.tip import TipSubmission
from services.common import errors, metrics
from services.common.auth import Role, Staff, optional_staff, require_role
from services.common.http import Refused, field_errors_handler
from services.common.openapi import refusals
from services.common.rate_limit import ClientLimit
from services.common.runtime import runtime_of
from services.common.sealing import Shredding, ShredReason
from services.intake import handlers
from services.intake.domain import idempotency
from services.intake.domain.idempotency import Fingerprints
from services.intake.domain.submissions import ConsentUpdate, SupplementSubmission
from services.intake.entrypoints.casework import model_for as casework_model

IdempotencyKey = Annotated[str, StringConstraints(min_length=8, max_length=200, pattern=r"^[\x21-\x7e]+$")]
Reference = Annotated[str, Path(min_length=3, max_length=40, pattern=r"^[A-Za-z0-9-]+$")]
REFUSED = {
    "en": "The reference or the follow-up code is not valid, or follow-up is paused for this reference.",
    "fr": "La référence ou le code de suivi n'est pas valide, ou le suivi est suspendu pour cette référence.",
}
# Refusals of the public channel give the hotline's number: a reporter turned away must still be heard.
TOO_MANY_SUBMISSIONS = {
    "en": "Too many submissions from this connection. Try again later, or call the hotline at {phone}, "
    "24 hours a day.",
    "fr": "Trop d'envois depuis cette connexion. Réessayez plus tard, ou appelez la Ligne d'urgence au "
    "{phone}, 24 heures sur 24.",
}
TIP_FULL = {
    "en": "This tip cannot take more information online. To add to it, call the hotline at {phone}, "
    "24 hours a day, and give your reference.",
    "fr": "Ce signalement ne peut plus recevoir d'information en ligne. Pour le compléter, appelez la "
    "Ligne d'urgence au {phone}, 24 heures sur 24, en donnant votre référence.",
}
TOO_LARGE_ADVICE = {
    "en": "To tell us more, call the hotline at {phone}, 24 hours a day.",
    "fr": "Pour nous en dire plus, appelez la Ligne d'urgence au {phone}, 24 heures sur 24.",
}
ANY_STAFF = (Role.SPECIALIST, Role.SUPERVISOR, Role.ADMIN)
INVALID_TIP = {
    "en": "The tip was not accepted: correct the fields listed and send it again.",
    "fr": "Le signalement n'a pas été accepté : corrigez les champs indiqués et envoyez-le de nouveau.",
}

TIP_EXAMPLES: dict[str, Any] = {
    "web_fr": {
        "summary": "Signalement anonyme en ligne (français)",
        "value": {
            "language": "fr",
            "reporter_role": "community",
            "narrative": "Une voisine ne sort jamais seule et son employeur garde ses papiers.",
            "location": {"country": "CA", "province": "QC", "city": "Laval"},
            "assessment": {"trafficking_types": ["domestic_servitude"]},
            "consent": {"law_enforcement": False, "service_referral": True, "statistics": True},
        },
    },
    "phone_en": {
        "summary": "Phone call recorded by a specialist (English, staff token)",
        "value": {
            "channel": "phone",
            "language": "en",
            "reporter_role": "victim",
            "anonymous": False,
            "narrative": "I was promised a restaurant job; now I work every night and he keeps my passport.",
            "location": {"country": "CA", "province": "ON", "city": "Toronto"},
            "assessment": {"minor_involved": "no", "imminent_danger": "no", "trafficking_types": ["labour"]},
            "consent": {"law_enforcement": True, "share_identity": False, "service_referral": True},
            "contact": {"phone": "+1 416 555 0100"},
            "interpreter_used": False,
            "needs": ["legal", "immigration"],
        },
    },
}
SUPPLEMENT_EXAMPLES: dict[str, Any] = {
    "fr": {
        "summary": "Nouvelle information (français)",
        "value": {"code": "K7QM-3XD9-PA2C-W8RT", "narrative": "Elle a été déplacée à Montréal hier soir."},
    },
    "en": {
        "summary": "New information (English)",
        "value": {"code": "K7QM-3XD9-PA2C-W8RT", "assessment": {"imminent_danger": "yes"}},
    },
}


@dataclass(frozen=True, slots=True)
class PublicLimits:
    """What bounds the public channel: the rate per client, the proxies believed about who the
    client is, each tip's follow-up caps, and the number refused reporters are given.
    """

    clients: ClientLimit
    caps: handlers.SupplementCaps
    hotline_phone: str

    def wait_for(self, request: Request) -> float | None:
        """Admit one public submission from the request's client; how long to wait when refused."""
        return self.clients.wait_for(request)


def routes(app: FastAPI, limits: PublicLimits, idempotency_secret: bytes | None = None) -> None:
    app.add_exception_handler(
        RequestValidationError,
        field_errors_handler(INVALID_TIP, _model_for),  # type: ignore[arg-type]
    )

    def refusal(
        request: Request,
        status: int,
        texts: dict[str, str],
        rule: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> JSONResponse:
        language = errors.preferred_language(request.headers.get("accept-language"))
        body = {"detail": texts[language].format(phone=limits.hotline_phone)}
        if rule is not None:
            body["rule"] = rule
        return JSONResponse(
            body, status_code=status, headers={"Content-Language": language, **(headers or {})}
        )

    def rate_limited(request: Request) -> JSONResponse | None:
        wait = limits.wait_for(request)
        if wait is None:
            return None
        return refusal(request, 429, TOO_MANY_SUBMISSIONS, headers={"Retry-After": str(int(wait))})

    def fingerprints(request: Request) -> Fingerprints:
        secret = idempotency_secret or idempotency.derived_secret(runtime_of(request).keystore.kek.key)
        return Fingerprints(secret)

    @app.post("/v1/tips", status_code=202, tags=["tips"], responses=refusals(429))
    async def submit_tip(
        request: Request,
        submission: Annotated[TipSubmission, Body(openapi_examples=TIP_EXAMPLES)],
        staff: Annotated[Staff | None, Depends(optional_staff)],
        idempotency_key: Annotated[IdempotencyKey | None, Header()] = None,
    ) -> JSONResponse:
        """Accept a tip. Without a staff token the channel is `web` and the client is rate-limited.

        The answer carries the reference and, for web and phone, a one-time follow-up code that the
        reporter keeps to add information later. The same `Idempotency-Key` returns the same tip.
        """
        if staff is None and (refused := rate_limited(request)) is not None:
            return refused
        runtime = runtime_of(request)
        submitter = (
            handlers.Submitter(staff.role.value, staff.token_id, staff.person_id)
            if staff
            else handlers.PUBLIC
        )
        try:
            accepted = await handlers.accept_tip(
                submission, runtime.transactions, runtime.keystore, submitter, idempotency_key,
                fingerprints(request),
            )  # fmt: skip
        except handlers.IdempotencyConflict:
            raise Refused(
                422,
                {
                    "detail": "This Idempotency-Key was used for a different submission.",
                    "errors": [
                        {
                            "field": "Idempotency-Key",
                            "rule": "idempotency_key_reused",
                            "message": "Send this submission with a new key.",
                        }
                    ],
                },
            ) from None
        trace.get_current_span().set_attributes(
            {"lantern.tip_id": str(accepted.tip_id), "lantern.service": "intake"}
        )
        if not accepted.replayed:
            metrics.tips_received.add(1, {"channel": submission.channel.value if staff else "web"})
        body = {"tip_id": str(accepted.tip_id), "reference": accepted.reference}
        if accepted.follow_up_code:
            body["follow_up_code"] = accepted.follow_up_code
        headers = {"Idempotent-Replayed": "true"} if accepted.replayed else None
        return JSONResponse(body, status_code=202, headers=headers)

    @app.post(
        "/v1/tips/{reference}/supplements", status_code=202, tags=["tips"], responses=refusals(403, 429)
    )
    async def supplement_tip(
        request: Request,
        reference: Reference,
        supplement: Annotated[SupplementSubmission, Body(openapi_examples=SUPPLEMENT_EXAMPLES)],
    ) -> JSONResponse:
        """Add information to a tip with its reference and follow-up code; a new code is returned.

        A tip takes at most `LANTERN_MAX_SUPPLEMENTS_PER_TIP` follow-ups, adding up to at most
        `LANTERN_MAX_SUPPLEMENT_BYTES_PER_TIP`: past that the answer is 429 with the hotline's number.
        """
        if (refused := rate_limited(request)) is not None:
            return refused
        runtime = runtime_of(request)
        outcome = await handlers.supplement_tip(
            reference, supplement, runtime.transactions, runtime.keystore, limits.caps
        )
        if outcome.over_cap is not None:
            return refusal(request, 429, TIP_FULL, rule=outcome.over_cap)
        if outcome.next_code is None:
            return refusal(request, 403, REFUSED)
        return JSONResponse(
            {"reference": reference.strip().upper(), "follow_up_code": outcome.next_code}, status_code=202
        )

    @app.put("/v1/tips/{tip_id}/consent", tags=["staff"], responses=refusals(404))
    async def record_consent(
        request: Request,
        tip_id: uuid.UUID,
        update: ConsentUpdate,
        staff: Annotated[Staff, Depends(require_role(*ANY_STAFF))],
    ) -> dict[str, Any]:
        """Record the caller's consent anew (a withdrawal is a scope set back to false)."""
        submitter = handlers.Submitter(staff.role.value, staff.token_id, staff.person_id)
        version = await handlers.update_consent(tip_id, update, submitter, runtime_of(request).transactions)
        if version is None:
            raise HTTPException(status_code=404, detail="No such tip.")
        return {"tip_id": str(tip_id), "version": version}

    @app.post("/v1/admin/tips/{tip_id}/shred", tags=["admin"], responses=refusals(404))
    async def shred_tip(
        request: Request,
        tip_id: uuid.UUID,
        order: ShredOrder,
        admin: Annotated[Staff, Depends(require_role(Role.ADMIN))],
    ) -> dict[str, Any]:
        """Delete the tip's data key: its identifying data can never be read again, anywhere.

        The key's row keeps who shredded it (the admin's token, and so their person) and the reason.
        """
        shredding = Shredding(order.reason, admin.token_id, admin.person_id)
        if not await handlers.shred_tip(tip_id, shredding, runtime_of(request).transactions):
            raise HTTPException(status_code=404, detail="No such tip, or it is already shredded.")
        return {"tip_id": str(tip_id), "shredded": True}


class ShredOrder(Contract):
    """Why a tip is shredded: a code, never free text (a reason could name someone)."""

    reason: ShredReason


def _model_for(request: Request) -> type[Any]:
    path = request.url.path
    if path.startswith("/v1/casework/"):
        return casework_model(path)
    if path.endswith("/supplements"):
        return SupplementSubmission
    if path.endswith("/consent"):
        return ConsentUpdate
    if path.endswith("/shred"):
        return ShredOrder
    return TipSubmission
