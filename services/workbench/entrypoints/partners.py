"""The partnership specialist's page: providers' requests with what each would change, taken, approved
or declined with a reason, and the providers asked to confirm their details. Every act goes through
referral's API with the signed-in person's token; referral decides who may do what.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response

from services.workbench.adapters.services import ServiceUnavailable
from services.workbench.entrypoints.pages import (
    Session,
    act,
    ask,
    form_of,
    notice_of,
    page,
    redirect,
    render,
)

BACK = "/partnerships"
ORGANIZATION_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,63}$")


def routes(app: FastAPI) -> None:
    @app.get(BACK, response_class=HTMLResponse, include_in_schema=False)
    async def partnerships(request: Request) -> Response:
        async def build(session: Session) -> Response:
            if not session.partnerships:
                return redirect(session.home, "error.forbidden")
            requests = await ask(request, session, "referral", "GET", "/v1/provider-requests?status=pending")
            asked = await ask(request, session, "referral", "GET", "/v1/directory/reconfirmations")
            return render(
                request, "partnerships.html", session, session.language,
                requests=[_shown(item, session) for item in requests.body.get("requests", [])] if requests.ok else [],
                reconfirmations=asked.body.get("reconfirmations", []) if asked.ok else [],
            )  # fmt: skip

        return await page(request, build)

    @app.post(f"{BACK}/requests/{{request_id}}/take", include_in_schema=False)
    async def take(request: Request, request_id: uuid.UUID) -> Response:
        checked = await form_of(request)
        if isinstance(checked, Response):
            return checked
        return await act(request, "referral", "POST", f"/v1/provider-requests/{request_id}/take", None, BACK)

    @app.post(f"{BACK}/requests/{{request_id}}/approve", include_in_schema=False)
    async def approve(request: Request, request_id: uuid.UUID) -> Response:
        checked = await form_of(request)
        if isinstance(checked, Response):
            return checked
        _, form = checked
        listing = str(form.get("public") or "")
        body: dict[str, Any] = {"address_public": form.get("address_public") == "true"}
        if listing in ("true", "false"):
            body["public"] = listing == "true"
        path = f"/v1/provider-requests/{request_id}/approve"
        return await act(request, "referral", "POST", path, body, BACK)

    @app.post(f"{BACK}/requests/{{request_id}}/reject", include_in_schema=False)
    async def reject(request: Request, request_id: uuid.UUID) -> Response:
        checked = await form_of(request)
        if isinstance(checked, Response):
            return checked
        session, form = checked
        body = {"reason": str(form.get("reason") or "")}
        try:
            answer = await ask(
                request, session, "referral", "POST", f"/v1/provider-requests/{request_id}/reject", body
            )
        except ServiceUnavailable:
            return redirect(BACK, "error.unavailable")
        if answer.ok and answer.body.get("restrictions_applied") is True:
            return redirect(BACK, "partners.declined_restricted")  # declining did not undo it
        return redirect(BACK, notice_of(answer))

    @app.post(f"{BACK}/reconfirmations/{{organization_id}}/confirm", include_in_schema=False)
    async def confirm(request: Request, organization_id: str) -> Response:
        checked = await form_of(request)
        if isinstance(checked, Response):
            return checked
        if not ORGANIZATION_ID.match(organization_id):
            return redirect(BACK, "error.invalid")  # never a path of another shape to referral
        path = f"/v1/directory/reconfirmations/{organization_id}/confirm"
        return await act(request, "referral", "POST", path, None, BACK)


def _shown(item: dict[str, Any], session: Session) -> dict[str, Any]:
    """A request as the page shows it: who holds it, and its changes with text for every value."""
    held = item.get("held_by")
    holder = (
        "partners.nobody"
        if held is None
        else "partners.you"
        if held == str(session.person_id)
        else "partners.someone_else"
    )
    changes = [
        {**change, "before": _text(change.get("before")), "after": _text(change.get("after")),
         "removed": change.get("field") is None}
        for change in item.get("changes", [])
    ]  # fmt: skip
    details = item.get("details") or {}
    # Only what the provider agreed to may be offered: referral refuses the rest anyway.
    consented = details.get("address_public") is True and details.get("hide_address") is not True
    return {
        **item, "holder": holder, "mine": held == str(session.person_id), "changes": changes,
        "address_consented": consented, "left_directory": details.get("leave_public_directory") is True,
    }  # fmt: skip


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict):
        return ", ".join(
            f"{key}: {value[key]}" for key in sorted(value) if key != "id" and value[key] not in (None, "")
        )
    if isinstance(value, bool):
        return "✓" if value else "✗"
    return str(value)
