"""Intake's casework API for staff: hold and hand over tips, read a case file, open identifying data.

Who may touch which tip is checked here, per tip, by the service (``domain/casework.py``), never
left to the page that calls it. Answers that carry identifying data are never cached.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import Field

from schemas.envelope import Contract
from schemas.tip import Channel
from services.common.auth import Role, Staff, require_role
from services.common.http import Refused as Refusal
from services.common.openapi import refusals
from services.common.runtime import runtime_of
from services.intake import casework, handlers
from services.intake.adapters import casework as store
from services.intake.domain.casework import Purpose, Refused, SealedPart
from services.intake.domain.submissions import SupplementSubmission

Caseworker = Annotated[Staff, Depends(require_role(Role.SPECIALIST, Role.SUPERVISOR))]
Supervisor = Annotated[Staff, Depends(require_role(Role.SUPERVISOR))]
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
REFUSALS = {
    "held_by_another_person": "Another person holds this tip.",
    "take_the_tip_first": "Take the tip before opening it.",
    "only_supervisors_assign": "Only a supervisor gives a tip to someone else.",
    "not_assigned": "Nobody holds this tip.",
}


class Assignment(Contract):
    """Who is to hold the tip: the caller when omitted."""

    person_id: uuid.UUID | None = None


class Handover(Contract):
    """A note for whoever takes the tip next; sealed, since it may name someone."""

    note: Annotated[str | None, Field(max_length=2000)] = None


class Opening(Contract):
    """What to open and why: the purpose is recorded with every opening."""

    purpose: Purpose
    parts: Annotated[list[SealedPart], Field(min_length=1, max_length=4)]


class ReturningCaller(SupplementSubmission):
    """A returning caller's new information, taken by whoever is on shift: the tip is found by its
    reference and the caller's follow-up code, never by a name, and nothing of it is read back.
    """

    reference: Annotated[str, Field(min_length=3, max_length=40, pattern=r"^[A-Za-z0-9-]+$")]
    channel: Literal[Channel.PHONE, Channel.CHAT, Channel.EMAIL] = Channel.PHONE


@contextmanager
def _refusals() -> Iterator[None]:
    try:
        yield
    except casework.NotFound:
        raise HTTPException(status_code=404, detail="No such tip or person.") from None
    except Refused as refused:
        status = 409 if refused.reason == "not_assigned" else 403
        raise Refusal(status, {"detail": REFUSALS[refused.reason], "rule": refused.reason}) from None


def routes(app: FastAPI, caps: handlers.SupplementCaps) -> None:
    @app.get("/v1/casework/assignments", tags=["casework"])
    async def list_assignments(request: Request, staff: Caseworker) -> JSONResponse:
        """Every held tip. A specialist sees who holds a tip only when it is them."""
        async with runtime_of(request).pool.acquire() as connection:
            rows = await store.assignments(connection)
        supervisor = staff.role is Role.SUPERVISOR
        return JSONResponse(
            {"assignments": [
                {"tip_id": str(row["tip_id"]), "reference": row["reference"],
                 "is_you": row["person_id"] == staff.person_id,
                 "person_id": str(row["person_id"]) if supervisor else None,
                 "display_name": row["display_name"] if supervisor or row["person_id"] == staff.person_id else None,
                 "assigned_at": row["assigned_at"].isoformat()}
                for row in rows
            ]},
            headers=NO_STORE,
        )  # fmt: skip

    @app.get("/v1/casework/caseworkers", tags=["casework"])
    async def list_caseworkers(request: Request, _staff: Supervisor) -> JSONResponse:
        """The active people a supervisor may give a tip to."""
        async with runtime_of(request).pool.acquire() as connection:
            rows = await store.caseworkers(connection)
        return JSONResponse(
            {"caseworkers": [
                {"person_id": str(row["person_id"]), "display_name": row["display_name"], "roles": list(row["roles"])}
                for row in rows
            ]},
            headers=NO_STORE,
        )  # fmt: skip

    @app.get("/v1/casework/tips/{tip_id}", tags=["casework"], responses=refusals(404, 409))
    async def show_case_file(request: Request, tip_id: uuid.UUID, staff: Caseworker) -> JSONResponse:
        """The tip as staff may read it without opening anything; 403 when another person holds it."""
        with _refusals():
            body = await casework.case_file(staff, tip_id, runtime_of(request).transactions)
        return JSONResponse(body, headers=NO_STORE)

    @app.put("/v1/casework/tips/{tip_id}/assignment", tags=["casework"], responses=refusals(404, 409))
    async def assign_tip(
        request: Request, tip_id: uuid.UUID, assignment: Assignment, staff: Caseworker
    ) -> dict[str, Any]:
        """Take a tip (no person given) or, as a supervisor, give it to someone or take it back."""
        with _refusals():
            holder = await casework.assign(
                staff, tip_id, assignment.person_id, runtime_of(request).transactions
            )
        return {"tip_id": str(tip_id), "person_id": str(holder)}

    @app.post("/v1/casework/tips/{tip_id}/release", tags=["casework"], responses=refusals(404, 409))
    async def release_tip(
        request: Request, tip_id: uuid.UUID, handover: Handover, staff: Caseworker
    ) -> dict[str, Any]:
        """Return the tip to the queue, with an optional handover note."""
        runtime = runtime_of(request)
        with _refusals():
            await casework.release(staff, tip_id, handover.note, runtime.transactions, runtime.keystore)
        return {"tip_id": str(tip_id), "released": True}

    @app.post("/v1/casework/handover", tags=["casework"])
    async def hand_over(request: Request, handover: Handover, staff: Caseworker) -> dict[str, Any]:
        """End of shift: every tip the caller holds returns to the queue with the note."""
        runtime = runtime_of(request)
        released = await casework.hand_over(staff, handover.note, runtime.transactions, runtime.keystore)
        return {"released": [str(tip_id) for tip_id in released]}

    @app.post("/v1/casework/supplements", status_code=202, tags=["casework"], responses=refusals(403, 429))
    async def attach_supplement(request: Request, caller: ReturningCaller, staff: Caseworker) -> JSONResponse:
        """Attach what a returning caller adds to their tip, found by reference and follow-up code.

        Anyone on shift may, without holding or reading the tip: the answer is the caller's next
        follow-up code only. A wrong reference or code is refused as on the web (403), and counts
        towards the reference's lock.
        """
        runtime = runtime_of(request)
        supplement = SupplementSubmission.model_validate(
            caller.model_dump(exclude={"reference", "channel"}, exclude_unset=True)
        )
        outcome = await handlers.supplement_tip(
            caller.reference, supplement, runtime.transactions, runtime.keystore, caps,
            handlers.StaffChannel(staff.person_id, staff.role.value, caller.channel),
        )  # fmt: skip
        if outcome.over_cap is not None:
            raise Refusal(429, {"detail": "This tip cannot take more follow-ups.", "rule": outcome.over_cap})
        if outcome.next_code is None:
            raise Refusal(403, {"detail": "The reference or the follow-up code is not valid, or follow-up"
                                " is paused for this reference.", "rule": "reference_or_code_refused"})  # fmt: skip
        return JSONResponse(
            {"reference": caller.reference.strip().upper(), "follow_up_code": outcome.next_code},
            status_code=202, headers=NO_STORE,
        )  # fmt: skip

    @app.post("/v1/casework/tips/{tip_id}/openings", tags=["casework"], responses=refusals(404, 409))
    async def open_tip(
        request: Request, tip_id: uuid.UUID, opening: Opening, staff: Caseworker
    ) -> JSONResponse:
        """Open parts of a tip for a stated purpose. Each opening is audited (who, why, which parts)."""
        runtime = runtime_of(request)
        with _refusals():
            opened = await casework.open_parts(
                staff, tip_id, opening.purpose, opening.parts, runtime.transactions, runtime.keystore
            )
        return JSONResponse(
            {"tip_id": str(tip_id), "erased": opened.erased, **opened.values}, headers=NO_STORE
        )


def model_for(path: str) -> type[Contract]:
    """The body model of a casework route, to name its fields in a refusal."""
    if path.endswith("/openings"):
        return Opening
    if path.endswith("/supplements"):
        return ReturningCaller
    if path.endswith("/assignment"):
        return Assignment
    return Handover
