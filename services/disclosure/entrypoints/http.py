"""Disclosure's staff API: the supervisors' review queue, approvals, declines and a case's trail.

Nothing here returns identifying data: packages are listed by agency, basis and fields, never
their content.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError

from schemas.disclosure import LegalReference
from schemas.envelope import Contract, utc_now
from services.common.auth import Role, Staff, require_role
from services.common.http import field_errors_handler
from services.common.runtime import runtime_of
from services.disclosure import handlers
from services.disclosure.domain.case import CaseNotPending, SameSupervisor
from services.disclosure.domain.routing import load_routing

Supervisor = Annotated[Staff, Depends(require_role(Role.SUPERVISOR))]
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


class Approval(Contract):
    """An approval with its reason; a legal reference makes it a legal-obligation forward, which a
    second, different supervisor must approve too.
    """

    reason: ApprovalReason
    legal_reference: LegalReference | None = None


class Refusal(Contract):
    reason: DeclineReason


def routes(app: FastAPI) -> None:
    app.add_exception_handler(
        RequestValidationError,
        field_errors_handler(
            INVALID, lambda request: Approval if request.url.path.endswith("/approve") else Refusal
        ),  # type: ignore[arg-type]
    )

    @app.get("/v1/reviews", tags=["review"])
    async def review_queue(
        request: Request, _staff: Supervisor, limit: Annotated[int, Query(ge=1, le=500)] = 100
    ) -> dict[str, Any]:
        """Cases waiting for a supervisor, the one due soonest first: before a forward, or after an
        urgent one that went out at once.
        """
        now = utc_now()
        rows = await handlers.review_queue(runtime_of(request).transactions, limit)
        return {"reviews": [_review_view(row, now) for row in rows]}

    @app.get("/v1/cases/{tip_id}", tags=["review"])
    async def show_case(request: Request, tip_id: uuid.UUID, _staff: Supervisor) -> dict[str, Any]:
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

    @app.post("/v1/cases/{tip_id}/approve", tags=["review"])
    async def approve(
        request: Request, tip_id: uuid.UUID, approval: Approval, staff: Supervisor
    ) -> dict[str, Any]:
        """Approve the forward (or record the review of one that went out at once).

        409 when the policy finds no basis (with its reasons), when the case is not pending, or when
        the same supervisor approves a legal-obligation forward twice.
        """
        runtime = runtime_of(request)
        with _refusals():
            verdict = await handlers.approve(
                tip_id,
                staff,
                approval.reason.value,
                approval.legal_reference,
                runtime.transactions,
                runtime.keystore,
                load_routing(),
            )
        if verdict.refused:
            raise HTTPException(
                status_code=409,
                detail={
                    "detail": "The policy finds no basis to forward this case: no consent and no mandatory ground.",
                    "reasons": [reason.model_dump() for reason in verdict.refused],
                },
            )
        return {
            "tip_id": str(tip_id),
            "state": verdict.state.value,
            "approvals": verdict.approvals,
            "approvals_needed": verdict.approvals_needed,
        }

    @app.post("/v1/cases/{tip_id}/decline", tags=["review"])
    async def decline(
        request: Request, tip_id: uuid.UUID, refusal: Refusal, staff: Supervisor
    ) -> dict[str, Any]:
        """Decline a pending forward, with a reason."""
        with _refusals():
            verdict = await handlers.decline(
                tip_id, staff, refusal.reason.value, runtime_of(request).transactions
            )
        return {"tip_id": str(tip_id), "state": verdict.state.value}


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
            status_code=409, detail="A legal-obligation forward needs a second, different supervisor."
        ) from None


def _review_view(row: dict[str, Any], now: Any) -> dict[str, Any]:
    view = {key: _plain(value) for key, value in row.items()}
    view["kind"] = "after_forward" if row["state"] == "forwarded" else "before_forward"
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
