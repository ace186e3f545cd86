"""Intake's HTTP edge: the public web channel, staff channels, follow-up, consent and shredding.

For the public channel nothing about the device or network is stored or logged: the client address
only feeds the in-memory rate limiter as a keyed hash.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import Body, Depends, FastAPI, Header, HTTPException, Path, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from opentelemetry import trace
from pydantic import StringConstraints
from starlette.types import ASGIApp, Receive, Scope, Send

from schemas.tip import TipSubmission
from services.common import errors, metrics
from services.common.auth import Role, Staff, optional_staff, require_role
from services.common.http import field_errors_handler
from services.common.runtime import runtime_of
from services.intake import handlers
from services.intake.adapters.rate_limit import WindowRateLimiter
from services.intake.domain.submissions import ConsentUpdate, SupplementSubmission

MAX_BODY_BYTES = 256 * 1024
IdempotencyKey = Annotated[str, StringConstraints(min_length=8, max_length=200, pattern=r"^[\x21-\x7e]+$")]
Reference = Annotated[str, Path(min_length=3, max_length=40, pattern=r"^[A-Za-z0-9-]+$")]
REFUSED = "The reference or the follow-up code is not valid, or follow-up is paused for this reference."
REFUSED_FR = (
    "La référence ou le code de suivi n'est pas valide, ou le suivi est suspendu pour cette référence."
)
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


def routes(app: FastAPI, limiter: WindowRateLimiter) -> None:
    app.add_middleware(BodySizeLimit, limit=MAX_BODY_BYTES)
    app.add_exception_handler(
        RequestValidationError,
        field_errors_handler(INVALID_TIP, _model_for),  # type: ignore[arg-type]
    )

    def rate_limited(request: Request) -> None:
        client = request.client.host if request.client else "unknown"
        wait = limiter.admit(client)
        if wait is not None:
            raise HTTPException(
                status_code=429,
                detail="Too many submissions from this connection; try again later.",
                headers={"Retry-After": str(int(wait))},
            )

    @app.post("/v1/tips", status_code=202, tags=["tips"])
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
        if staff is None:
            rate_limited(request)
        runtime = runtime_of(request)
        submitter = (
            handlers.Submitter(staff.role.value, staff.token_id, staff.person_id)
            if staff
            else handlers.PUBLIC
        )
        try:
            accepted = await handlers.accept_tip(
                submission, runtime.transactions, runtime.keystore, submitter, idempotency_key
            )
        except handlers.IdempotencyConflict:
            raise HTTPException(
                status_code=422, detail="This Idempotency-Key was used for a different submission."
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

    @app.post("/v1/tips/{reference}/supplements", status_code=202, tags=["tips"])
    async def supplement_tip(
        request: Request,
        reference: Reference,
        supplement: Annotated[SupplementSubmission, Body(openapi_examples=SUPPLEMENT_EXAMPLES)],
    ) -> dict[str, str]:
        """Add information to a tip with its reference and follow-up code; a new code is returned."""
        rate_limited(request)
        runtime = runtime_of(request)
        next_code = await handlers.supplement_tip(
            reference, supplement, runtime.transactions, runtime.keystore
        )
        if next_code is None:
            french = errors.preferred_language(request.headers.get("accept-language")) == "fr"
            raise HTTPException(status_code=403, detail=REFUSED_FR if french else REFUSED)
        return {"reference": reference.strip().upper(), "follow_up_code": next_code}

    @app.put("/v1/tips/{tip_id}/consent", tags=["staff"])
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

    @app.post("/v1/admin/tips/{tip_id}/shred", tags=["admin"])
    async def shred_tip(
        request: Request, tip_id: uuid.UUID, _admin: Annotated[Staff, Depends(require_role(Role.ADMIN))]
    ) -> dict[str, Any]:
        """Delete the tip's data key: its identifying data can never be read again, anywhere."""
        if not await handlers.shred_tip(tip_id, runtime_of(request).transactions):
            raise HTTPException(status_code=404, detail="No such tip, or it is already shredded.")
        return {"tip_id": str(tip_id), "shredded": True}


def _model_for(request: Request) -> type[Any]:
    path = request.url.path
    if path.endswith("/supplements"):
        return SupplementSubmission
    if path.endswith("/consent"):
        return ConsentUpdate
    return TipSubmission


class BodySizeLimit:
    """Refuse request bodies over ``limit`` bytes before reading them into memory."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            await _too_large(scope, receive, send)
            return
        received = 0

        async def limited_receive():  # type: ignore[no-untyped-def]
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.limit:
                raise BodyTooLarge
            return message

        try:
            await self.app(scope, limited_receive, send)
        except BodyTooLarge:
            await _too_large(scope, receive, send)


class BodyTooLarge(Exception):
    pass


async def _too_large(scope: Scope, receive: Receive, send: Send) -> None:
    response = JSONResponse(
        status_code=413, content={"detail": f"The request body is over {MAX_BODY_BYTES} bytes."}
    )
    await response(scope, receive, send)
