"""Disclosure's staff API: the supervisors' review queue, approvals, declines and a case's trail.

Nothing here returns identifying data: packages are listed by agency, basis and fields, never
their content.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, HTTPException, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from schemas.disclosure import Basis, LegalReference
from schemas.envelope import Contract, utc_now
from services.common.auth import Role, Staff, require_role
from services.common.http import Refused, field_errors_handler
from services.common.openapi import refusals
from services.common.runtime import runtime_of
from services.disclosure import handlers
from services.disclosure.domain.case import (
    AT_ONCE_REVIEW,
    CaseNotPending,
    NotAwaitingConfirmation,
    NotWithheld,
    SameSupervisor,
    Supervisor,
    Verdict,
)
from services.disclosure.domain.routing import load_routing
from services.disclosure.settings import DisclosureSettings

SupervisorStaff = Annotated[Staff, Depends(require_role(Role.SUPERVISOR))]
INVALID = {
    "en": "The request was not accepted: correct the fields listed and send it again.",
    "fr": "La demande n'a pas été acceptée : corrigez les champs indiqués et envoyez-la de nouveau.",
}


class DeclineReason(StrEnum):
    INSUFFICIENT_INFORMATION = "insufficient_information"
    NO_BASIS_ESTABLISHED = "no_basis_established"
    CALLER_SAFETY = "caller_safety"
    REFERRED_TO_SERVICES = "referred_to_services"
    DUPLICATE = "duplicate"
    OTHER = "other"


class ApprovalReason(StrEnum):
    CONSENT_CONFIRMED = "consent_confirmed"
    MANDATORY_GROUND_CONFIRMED = "mandatory_ground_confirmed"
    LEGAL_OBLIGATION = "legal_obligation"
    REVIEWED_AFTER_FORWARD = "reviewed_after_forward"
    CHANGES_SENT_ON = "changes_sent_on"


class ReopenReason(StrEnum):
    NEW_INFORMATION = "new_information"
    DECISION_ERROR = "decision_error"
    CALLER_REQUEST = "caller_request"
    OTHER = "other"


class KeepReason(StrEnum):
    NOTHING_TO_SEND = "nothing_to_send"
    NO_BASIS_FOR_CHANGES = "no_basis_for_changes"
    CALLER_SAFETY = "caller_safety"
    DUPLICATE = "duplicate"
    OTHER = "other"


class ReissueReason(StrEnum):
    BASIS_STILL_STANDS = "basis_still_stands"
    AGENCY_STILL_NEEDS_IT = "agency_still_needs_it"
    OTHER = "other"


class SetAsideReason(StrEnum):
    REACHED_ANOTHER_WAY = "reached_another_way"
    AGENCY_HAS_IT = "agency_has_it"
    NO_BASIS_NOW = "no_basis_now"
    CALLER_SAFETY = "caller_safety"
    OTHER = "other"


Ground = Literal["child_protection", "imminent_danger"]


class Approval(Contract):
    """An approval with its reason. ``ground`` is the mandatory ground the supervisor confirms (needed
    when triage found only a possible one); a structured legal reference makes it a legal-obligation
    forward, which a second, different person must approve on the same reference.
    """

    reason: ApprovalReason
    ground: Ground | None = None
    legal_reference: LegalReference | None = None


class PreviewRequest(Contract):
    """What the supervisor is about to approve with: the reason, and the ground or legal reference
    they would confirm; the preview shows the packages that approval would send.
    """

    reason: ApprovalReason = ApprovalReason.CONSENT_CONFIRMED
    ground: Ground | None = None
    legal_reference: LegalReference | None = None


class Refusal(Contract):
    reason: DeclineReason


class Reopening(Contract):
    reason: ReopenReason


class Keeping(Contract):
    reason: KeepReason


class Reissuing(Contract):
    reason: ReissueReason


class SettingAside(Contract):
    reason: SetAsideReason


BODIES: dict[str, type[Contract]] = {
    "approve": Approval, "preview": PreviewRequest, "decline": Refusal, "reopen": Reopening, "keep": Keeping,
    "reissue": Reissuing, "set-aside": SettingAside,
}  # fmt: skip


def _body_of(request: Request) -> type[Contract]:
    return BODIES.get(request.url.path.rsplit("/", 1)[-1], Approval)


def routes(app: FastAPI) -> None:
    app.add_exception_handler(
        RequestValidationError,
        field_errors_handler(INVALID, _body_of),  # type: ignore[arg-type]
    )

    @app.get("/v1/reviews", tags=["review"])
    async def review_queue(
        request: Request, _staff: SupervisorStaff, limit: Annotated[int, Query(ge=1, le=500)] = 100
    ) -> dict[str, Any]:
        """Cases waiting for a supervisor, the one due soonest first: before a forward, or after an
        urgent one that went out at once.
        """
        now = utc_now()
        rows = await handlers.review_queue(runtime_of(request).transactions, limit)
        return {"reviews": [_review_view(row, now) for row in rows]}

    @app.get("/v1/cases/{tip_id}", tags=["review"], responses=refusals(404))
    async def show_case(request: Request, tip_id: uuid.UUID, _staff: SupervisorStaff) -> dict[str, Any]:
        """A case: its decision, basis, recipients, permitted fields, packages and audit trail."""
        record = await handlers.case_record(runtime_of(request).transactions, tip_id)
        if record is None:
            raise HTTPException(status_code=404, detail="No disclosure case for this tip.")
        return {
            **{key: _plain(value) for key, value in record.items() if key not in ("packages", "audit")},
            "packages": [
                {key: _plain(value) for key, value in package.items()} for package in record["packages"]
            ],
            "audit": record["audit"],
        }

    @app.post("/v1/cases/{tip_id}/approve", tags=["review"], responses=refusals(404, 409, 503))
    async def approve(
        request: Request, tip_id: uuid.UUID, approval: Approval, staff: SupervisorStaff
    ) -> dict[str, Any]:
        """Approve the forward (confirming its ground), record the review of one that went out at once,
        or send a forwarded case's changes on.

        409 when the policy finds no basis (with its reasons), when the case is not waiting for it, or
        when the same person already approved.
        """
        runtime = runtime_of(request)
        with _refusals():
            verdict = await handlers.approve(
                tip_id, _supervisor(staff), approval.reason.value, runtime.transactions, runtime.keystore,
                load_routing(), approval.legal_reference, Basis(approval.ground) if approval.ground else None,
                DisclosureSettings.of(runtime.settings).package_max_bytes,
            )  # fmt: skip
        if verdict.refused:
            raise Refused(
                409,
                {
                    "detail": "The policy finds no basis to forward this case.",
                    "reasons": [reason.model_dump() for reason in verdict.refused],
                },
            )
        return _verdict(tip_id, verdict)

    @app.post("/v1/cases/{tip_id}/preview", tags=["review"], responses=refusals(404, 409))
    async def preview(
        request: Request, tip_id: uuid.UUID, asked: PreviewRequest, staff: SupervisorStaff
    ) -> JSONResponse:
        """The packages an approval would send now, each field with its value, as each agency would
        read them. The values may identify people: opening them is audited (the unseal audit and the
        case's chain name the supervisor), and the answer is never cached. Nothing is decided or sent.

        409 when the case waits for no approval, or when the policy finds no basis (with its reasons).
        """
        runtime = runtime_of(request)
        with _refusals():
            shown = await handlers.preview(
                tip_id, _supervisor(staff), asked.reason.value, runtime.transactions, runtime.keystore,
                load_routing(), asked.legal_reference, Basis(asked.ground) if asked.ground else None,
            )  # fmt: skip
        if shown.refused:
            raise Refused(
                409,
                {
                    "detail": "The policy finds no basis to forward this case.",
                    "reasons": [reason.model_dump() for reason in shown.refused],
                },
            )
        return JSONResponse(
            {"tip_id": str(tip_id), "approvals_needed": shown.approvals_needed, "packages": shown.packages},
            headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
        )

    @app.post("/v1/cases/{tip_id}/decline", tags=["review"], responses=refusals(404, 409))
    async def decline(
        request: Request, tip_id: uuid.UUID, refusal: Refusal, staff: SupervisorStaff
    ) -> dict[str, Any]:
        """Decline a pending forward, with a reason."""
        with _refusals():
            verdict = await handlers.decline(
                tip_id, _supervisor(staff), refusal.reason.value, runtime_of(request).transactions
            )
        return _verdict(tip_id, verdict)

    @app.post("/v1/cases/{tip_id}/reopen", tags=["review"], responses=refusals(404, 409))
    async def reopen(
        request: Request, tip_id: uuid.UUID, reopening: Reopening, staff: SupervisorStaff
    ) -> dict[str, Any]:
        """Reopen a declined, cancelled or unforwarded case: it waits for review again."""
        with _refusals():
            verdict = await handlers.reopen(
                tip_id,
                _supervisor(staff),
                reopening.reason.value,
                runtime_of(request).transactions,
                load_routing(),
            )
        return _verdict(tip_id, verdict)

    @app.post("/v1/cases/{tip_id}/keep", tags=["review"], responses=refusals(404, 409))
    async def keep(
        request: Request, tip_id: uuid.UUID, keeping: Keeping, staff: SupervisorStaff
    ) -> dict[str, Any]:
        """Keep a decided case's decision after looking at what changed: nothing is sent."""
        with _refusals():
            verdict = await handlers.keep(
                tip_id, _supervisor(staff), keeping.reason.value, runtime_of(request).transactions
            )
        return _verdict(tip_id, verdict)

    @app.post(
        "/v1/cases/{tip_id}/consents/{version}/confirm", tags=["review"], responses=refusals(404, 409, 503)
    )
    async def confirm_consent(
        request: Request, tip_id: uuid.UUID, version: Annotated[int, Path(ge=1)], staff: SupervisorStaff
    ) -> dict[str, Any]:
        """Confirm a widening of consent (police, share identity) that staff recorded after the tip."""
        runtime = runtime_of(request)
        with _refusals():
            verdict = await handlers.confirm_consent(
                tip_id, _supervisor(staff), version, runtime.transactions, runtime.keystore, load_routing(),
                DisclosureSettings.of(runtime.settings).package_max_bytes,
            )  # fmt: skip
        return _verdict(tip_id, verdict)

    @app.post(
        "/v1/cases/{tip_id}/packages/{package_id}/reissue", tags=["review"], responses=refusals(404, 409, 503)
    )
    async def reissue(
        request: Request,
        tip_id: uuid.UUID,
        package_id: uuid.UUID,
        reissuing: Reissuing,
        staff: SupervisorStaff,
    ) -> dict[str, Any]:
        """Issue again a package withheld on replay after a broker wipe, as a new package, on what holds
        now: the consents as they stand (a withdrawn consent without a mandatory-reporting ground
        sends nothing), an agency that would still receive the case, the fields the policy permits
        now, and none of the tip's sealed fields once it was shredded (``fields_erased`` names them).
        It takes as many approvals, each another person's, as the policy asks of a package.

        409 when the policy finds no basis (with its reasons), when the package waits for no decision,
        or when the same person already approved it.
        """
        runtime = runtime_of(request)
        with _refusals():
            verdict = await handlers.reissue(
                tip_id, package_id, _supervisor(staff), reissuing.reason.value, runtime.transactions,
                runtime.keystore, load_routing(), DisclosureSettings.of(runtime.settings).package_max_bytes,
            )  # fmt: skip
        if verdict.refused:
            raise Refused(
                409,
                {
                    "detail": "This package cannot be issued again on what holds now.",
                    "reasons": [reason.model_dump() for reason in verdict.refused],
                },
            )
        return {**_verdict(tip_id, verdict), "package_id": str(package_id),
                "reissued": verdict.approvals >= verdict.approvals_needed,
                "fields_erased": sorted(field.value for field in verdict.fields_erased)}  # fmt: skip

    @app.post(
        "/v1/cases/{tip_id}/packages/{package_id}/set-aside", tags=["review"], responses=refusals(404, 409)
    )
    async def set_aside(
        request: Request,
        tip_id: uuid.UUID,
        package_id: uuid.UUID,
        setting: SettingAside,
        staff: SupervisorStaff,
    ) -> dict[str, Any]:
        """Set a package withheld on replay aside: it stays unsent (the agency is reached another way,
        or not at all). 409 when the package waits for no decision."""
        with _refusals():
            verdict = await handlers.set_aside(
                tip_id, package_id, _supervisor(staff), setting.reason.value, runtime_of(request).transactions
            )
        return {**_verdict(tip_id, verdict), "package_id": str(package_id)}


def _supervisor(staff: Staff) -> Supervisor:
    return Supervisor(person_id=staff.person_id, token_id=staff.token_id)


def _verdict(tip_id: uuid.UUID, verdict: Verdict) -> dict[str, Any]:
    return {
        "tip_id": str(tip_id),
        "state": verdict.state.value,
        "approvals": verdict.approvals,
        "approvals_needed": verdict.approvals_needed,
    }


@contextmanager
def _refusals() -> Iterator[None]:
    try:
        yield
    except handlers.CaseNotFound:
        raise HTTPException(status_code=404, detail="No disclosure case for this tip.") from None
    except CaseNotPending:
        raise HTTPException(status_code=409, detail="This case is not waiting for that decision.") from None
    except SameSupervisor:
        raise HTTPException(
            status_code=409,
            detail="You already approved this case: the next approval must be another person's.",
        ) from None
    except NotWithheld:
        raise HTTPException(
            status_code=409, detail="No package of that id waits for a decision after it was withheld."
        ) from None
    except handlers.ReissueTooLarge:
        raise HTTPException(
            status_code=409,
            detail="Issued again, the package would be larger than the broker takes: nothing was sent."
            " Reach the agency another way and set the package aside.",
        ) from None
    except NotAwaitingConfirmation:
        raise HTTPException(
            status_code=409, detail="No consent of that version waits for a supervisor's confirmation."
        ) from None
    except handlers.NoAgencyKey as missing:
        raise HTTPException(
            status_code=503,
            detail=f"No key is registered for {missing}: nothing was sent. Register the agency's key"
            " (lantern agency register) and decide again.",
        ) from None


def _review_view(row: dict[str, Any], now: Any) -> dict[str, Any]:
    view = {key: _plain(value) for key, value in row.items()}
    changes = [reason for reason in row["review_reasons"] if reason != AT_ONCE_REVIEW]
    view["kind"] = (
        "changes" if changes and row["state"] != "pending_review"
        else "after_forward" if row["state"] == "forwarded" else "before_forward"
    )  # fmt: skip
    view["overdue"] = row["review_due_at"] is not None and row["review_due_at"] < now
    return view


def _plain(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value
