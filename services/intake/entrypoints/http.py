"""Intake's HTTP edge: the upstream channels submit tips here."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from schemas.tip import TipSubmission
from services.common import errors
from services.common.runtime import Runtime
from services.intake import handlers

MAX_BODY_BYTES = 256 * 1024


def routes(app: FastAPI) -> None:
    app.add_middleware(BodySizeLimit, limit=MAX_BODY_BYTES)
    app.add_exception_handler(RequestValidationError, _invalid_request)  # type: ignore[arg-type]

    @app.post("/v1/tips", status_code=202)
    async def submit_tip(submission: TipSubmission, request: Request) -> dict[str, str]:
        """Accept a tip; it is stored and on its way to triage when this answers."""
        runtime: Runtime = request.app.state.runtime
        accepted = await handlers.accept_tip(submission, runtime.uow)
        return {"tip_id": str(accepted.tip_id), "reference": accepted.reference}


async def _invalid_request(_request: Request, error: RequestValidationError) -> JSONResponse:
    details = []
    for detail in error.errors():
        location = tuple(detail.get("loc", ()))
        details.append({**detail, "loc": location[1:] if location[:1] == ("body",) else location})
    field_errors = errors.describe_details(details, TipSubmission)
    return JSONResponse(
        status_code=422,
        content={
            "detail": "The tip was not accepted: correct the fields listed and send it again.",
            "errors": [field_error.as_dict() for field_error in field_errors],
        },
    )


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
