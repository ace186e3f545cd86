"""Triage's staff API: the supervisors' view of response plans, their actions and overrides.

Specialists and supervisors read plans; only supervisors act on them or override an urgency.
Nothing here returns identifying data except an override's note, to the supervisors who review it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import asyncpg
from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from pydantic import Field, StringConstraints

from schemas.envelope import Contract
from schemas.triage import OverrideReason, Urgency
from services.common.auth import Role, Staff, require_role
from services.common.http import Refused, field_errors_handler
from services.common.openapi import refusals
from services.common.runtime import runtime_of
from services.triage import handlers
from services.triage.adapters import views
from services.triage.domain.plan import OutcomeNotAllowed, PlanClosed, PlanNotFound
from services.triage.domain.plans import load_templates
from services.triage.domain.revisions import UrgencyUnchanged

READERS = (Role.SPECIALIST, Role.SUPERVISOR)
Supervisor = Annotated[Staff, Depends(require_role(Role.SUPERVISOR))]
Reader = Annotated[Staff, Depends(require_role(*READERS))]
StepName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{1,63}$")]
INVALID = {
    "en": "The request was not accepted: correct the fields listed and send it again.",
    "fr": "La demande n'a pas été acceptée : corrigez les champs indiqués et envoyez-la de nouveau.",
}


class UrgencyOverrideRequest(Contract):
    """A supervisor's override: the urgency, why (a code), and an explanation kept sealed in the audit."""

    urgency: Urgency
    reason: OverrideReason
    note: Annotated[str, Field(min_length=10, max_length=2000)]


class StepCompletion(Contract):
    outcome: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{1,63}$")]


def routes(app: FastAPI) -> None:
    app.add_exception_handler(
        RequestValidationError,
        field_errors_handler(INVALID, _model_for),  # type: ignore[arg-type]
    )

    @app.get("/v1/plans", tags=["plans"])
    async def list_open_plans(
        request: Request, _staff: Reader, limit: Annotated[int, Query(ge=1, le=500)] = 100
    ) -> dict[str, Any]:
        """Open response plans, the one whose next step is due soonest first."""
        rows = await views.open_plans(runtime_of(request).pool, limit)
        return {"plans": [_plan_view(row) for row in rows]}

    @app.get("/v1/plans/{plan_id}", tags=["plans"], responses=refusals(404))
    async def show_plan(request: Request, plan_id: uuid.UUID, _staff: Reader) -> dict[str, Any]:
        row = await views.plan(runtime_of(request).pool, plan_id)
        if row is None:
            raise HTTPException(status_code=404, detail="No such plan.")
        return _plan_view(row)

    @app.post("/v1/plans/{plan_id}/acknowledge", tags=["plans"], responses=refusals(404, 409))
    async def acknowledge_plan(request: Request, plan_id: uuid.UUID, staff: Supervisor) -> dict[str, Any]:
        """Take charge of a plan. Steps done by acknowledging (notify the supervisor) are done with it."""
        with _plan_errors():
            async with runtime_of(request).transactions.begin() as uow:
                await handlers.acknowledge_plan(plan_id, staff, uow)
        return await show_plan(request, plan_id, staff)

    @app.post("/v1/plans/{plan_id}/steps/{step}/complete", tags=["plans"], responses=refusals(404, 409))
    async def complete_step(
        request: Request, plan_id: uuid.UUID, step: StepName, completion: StepCompletion, staff: Supervisor
    ) -> dict[str, Any]:
        """Complete a step with one of its outcomes; completing the last step completes the plan."""
        with _plan_errors():
            async with runtime_of(request).transactions.begin() as uow:
                await handlers.complete_step(plan_id, step, completion.outcome, staff, uow)
        return await show_plan(request, plan_id, staff)

    @app.get("/v1/tips/{tip_id}/triage", tags=["triage"], responses=refusals(404))
    async def show_triage(request: Request, tip_id: uuid.UUID, staff: Reader) -> dict[str, Any]:
        """A tip's current triage with its reasons, its plans, and (for supervisors) its overrides."""
        runtime = runtime_of(request)
        decision = await views.decision(runtime.pool, tip_id)
        if decision is None:
            raise HTTPException(status_code=404, detail="No triage for this tip.")
        overrides: list[dict[str, Any]] | None = None
        if staff.role is Role.SUPERVISOR:
            async with runtime.transactions.begin() as uow:
                overrides = [
                    _override_view(opened) for opened in await handlers.override_history(tip_id, uow)
                ]
        return {
            "tip_id": str(tip_id),
            "reference": decision["reference"],
            "urgency": decision["urgency"],
            "revision": decision["revision"],
            "reasons": decision["reasons"],
            "minor_involved": decision["minor_involved"],
            "imminent_danger": decision["imminent_danger"],
            "ruleset_version": decision["ruleset_version"],
            "received_at": decision["received_at"].isoformat(),
            "updated_at": decision["updated_at"].isoformat(),
            "plans": [_plan_view(row) for row in await views.plans_of_tip(runtime.pool, tip_id)],
            "overrides": overrides,
        }

    @app.put("/v1/tips/{tip_id}/urgency", tags=["triage"], responses=refusals(404, 409))
    async def override_urgency(
        request: Request, tip_id: uuid.UUID, override: UrgencyOverrideRequest, staff: Supervisor
    ) -> dict[str, Any]:
        """Set a tip's urgency by hand, with a reason. The override is audited, a new triage event is
        published and the response plan is replaced by one for the new urgency.
        """
        try:
            async with runtime_of(request).transactions.begin() as uow:
                result = await handlers.override_urgency(
                    tip_id, override.urgency, override.reason, override.note, staff, uow
                )
        except UrgencyUnchanged:
            raise HTTPException(status_code=409, detail="The tip already has this urgency.") from None
        if result is None:
            raise HTTPException(status_code=404, detail="No triage for this tip.")
        return {
            "tip_id": str(result.tip_id),
            "urgency": result.urgency.value,
            "revision": result.revision,
            "override_id": str(result.override_id),
        }


@contextmanager
def _plan_errors() -> Iterator[None]:
    """Map the plan use cases' refusals to HTTP answers."""
    try:
        yield
    except PlanNotFound:
        raise HTTPException(status_code=404, detail="No such plan or step.") from None
    except PlanClosed:
        raise HTTPException(status_code=409, detail="This plan or step is no longer open.") from None
    except OutcomeNotAllowed as refused:
        raise Refused(
            422,
            {
                "detail": "The outcome is not one this step allows.",
                "errors": [
                    {
                        "field": "outcome",
                        "rule": "one_of",
                        "message": f"Allowed outcomes: {', '.join(refused.allowed)}.",
                        "allowed": list(refused.allowed),
                    }
                ],
            },
        ) from None


def _plan_view(row: asyncpg.Record) -> dict[str, Any]:
    templates = load_templates()
    urgency = Urgency(row["urgency"])
    steps = []
    for step in row["steps"]:
        template = templates.step(urgency, step["step"])
        steps.append(
            {
                **step,
                "title": {"en": template.en, "fr": template.fr} if template else None,
                "outcomes": list(template.outcomes) if template else [],
            }
        )
    return {
        "plan_id": str(row["plan_id"]),
        "tip_id": str(row["tip_id"]),
        "reference": row["reference"],
        "urgency": row["urgency"],
        "status": row["status"],
        "template_version": row["template_version"],
        "started_at": row["started_at"].isoformat(),
        "acknowledged_at": row["acknowledged_at"].isoformat() if row["acknowledged_at"] else None,
        "closed_at": row["closed_at"].isoformat() if row["closed_at"] else None,
        "breaches": row["breaches"],
        "next_deadline": row["next_deadline"].isoformat() if row["next_deadline"] else None,
        "steps": steps,
    }


def _override_view(opened: handlers.OpenedOverride) -> dict[str, Any]:
    override = opened.override
    return {
        "override_id": str(override.override_id),
        "revision": override.revision,
        "from_urgency": override.from_urgency.value,
        "to_urgency": override.to_urgency.value,
        "reason": override.reason.value,
        "note": opened.note,
        "by_role": override.by.role,
        "by_token": str(override.by.token_id),
        "at": override.at.isoformat(),
    }


def _model_for(request: Request) -> type[Any]:
    return UrgencyOverrideRequest if request.url.path.endswith("/urgency") else StepCompletion
