"""Taking a call: the form a specialist fills while on the phone or in a chat, and the returning
caller's new information attached to their tip.

The call's start is the moment the form was served (kept in the form, checked against the clock
when it comes back); its end is the moment the form is sent. The tip goes to intake's staff API
with the specialist's own token, under an idempotency key drawn with the form, so a form sent twice
records one tip; the specialist then holds the case. The reference and the follow-up code are shown
once, in that answer only (no-store).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from services.workbench.adapters.services import ServiceUnavailable
from services.workbench.domain import calls
from services.workbench.entrypoints.pages import Session, ask, form_of, page, render

LONGEST_CALL = timedelta(hours=12)


def _form(form: FormData) -> dict[str, list[str]]:
    return {name: [str(value) for value in form.getlist(name)] for name in form}


def _started_at(form: FormData, now: datetime) -> datetime:
    """The start the form carries, if it is a plausible one; else now (a call of no length)."""
    try:
        started = datetime.fromisoformat(str(form.get("started_at") or ""))
    except ValueError:
        return now
    if started.tzinfo is None or not now - LONGEST_CALL <= started <= now:
        return now
    return started


def _errors(answer_body: Any) -> list[dict[str, Any]]:
    found = answer_body.get("errors") if isinstance(answer_body, dict) else None
    return [error for error in found if isinstance(error, dict)] if isinstance(found, list) else []


def routes(app: FastAPI) -> None:
    def call_form(
        request: Request, session: Session, values: dict[str, list[str]] | None = None,
        errors: list[dict[str, Any]] | None = None, started_at: datetime | None = None,
        key: str | None = None, status: int = 200,
    ) -> Response:  # fmt: skip
        return render(
            request, "call.html", session, session.language, status=status, values=values or {},
            errors=errors or [], started_at=(started_at or datetime.now(UTC)).isoformat(),
            idempotency_key=key or str(uuid.uuid4()), choices=calls.CHOICES, consents=calls.CONSENTS,
        )  # fmt: skip

    @app.get("/calls/new", response_class=HTMLResponse, include_in_schema=False)
    async def new_call(request: Request) -> Response:
        async def build(session: Session) -> Response:
            return call_form(request, session)

        return await page(request, build)

    @app.post("/calls", response_class=HTMLResponse, include_in_schema=False)
    async def record_call(request: Request) -> Response:
        checked = await form_of(request)
        if isinstance(checked, Response):
            return checked
        session, form = checked
        now = datetime.now(UTC)
        started = _started_at(form, now)
        fields = _form(form)
        key = str(form.get("idempotency_key") or "") or str(uuid.uuid4())
        body = calls.tip_body(fields, started, now)
        try:
            answer = await ask(
                request, session, "intake", "POST", "/v1/tips", body, headers={"idempotency-key": key}
            )
            if not answer.ok:
                errors = _errors(answer.body) or [{"field": "", "message": "", "rule": "refused"}]
                return call_form(
                    request, session, calls.kept_values(fields), errors, started, key,
                    status=422 if answer.status == 422 else 502,
                )  # fmt: skip
            tip = answer.body
            taken = await ask(
                request, session, "intake", "PUT", f"/v1/casework/tips/{tip['tip_id']}/assignment", {}
            )
        except ServiceUnavailable:
            errors = [{"field": "", "message": "", "rule": "unavailable"}]
            return call_form(request, session, calls.kept_values(fields), errors, started, key, status=503)
        return render(
            request, "call_done.html", session, session.language, status=201, tip=tip, taken=taken.ok,
            minutes=round((now - started).total_seconds() / 60, 1),
        )  # fmt: skip

    @app.get("/calls/returning", response_class=HTMLResponse, include_in_schema=False)
    async def returning_caller(request: Request) -> Response:
        async def build(session: Session) -> Response:
            return render(
                request, "returning.html", session, session.language, values={}, choices=calls.CHOICES
            )

        return await page(request, build)

    @app.post("/calls/returning", response_class=HTMLResponse, include_in_schema=False)
    async def attach(request: Request) -> Response:
        """Anyone on shift attaches what a returning caller adds; nothing of the tip is shown back."""
        checked = await form_of(request)
        if isinstance(checked, Response):
            return checked
        session, form = checked
        fields = _form(form)
        kept = {name: fields.get(name, []) for name in ("reference", "channel", "narrative", "minor_involved",
                                                        "imminent_danger", "needs")}  # fmt: skip
        try:
            answer = await ask(
                request, session, "intake", "POST", "/v1/casework/supplements", calls.supplement_body(fields)
            )
        except ServiceUnavailable:
            return render(
                request, "returning.html", session, session.language, status=503, values=kept,
                choices=calls.CHOICES, error="error.unavailable",
            )  # fmt: skip
        if not answer.ok:
            error = {403: "returning.refused", 429: "returning.full", 422: "error.invalid"}.get(
                answer.status, "error.refused"
            )
            return render(
                request, "returning.html", session, session.language, status=answer.status, values=kept,
                choices=calls.CHOICES, error=error, errors=_errors(answer.body),
            )  # fmt: skip
        return render(
            request, "returning_done.html", session, session.language, status=201, answer=answer.body
        )
