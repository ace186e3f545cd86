"""What every service's HTTP edge shares: field errors that name the field and the rule, safely."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from services.common import errors

REQUEST_PARTS = (("body",), ("path",), ("header",), ("query",))


def field_errors_handler(
    summary: dict[str, str], model_for: Callable[[Request], type[Any]]
) -> Callable[[Request, RequestValidationError], Awaitable[JSONResponse]]:
    """A 422 handler that lists each bad field with its rule, in the caller's language.

    Values are never echoed: a refused body may hold a name or a narrative.
    """

    async def handle(request: Request, error: RequestValidationError) -> JSONResponse:
        language = errors.preferred_language(request.headers.get("accept-language"))
        details = []
        for detail in error.errors():
            location = tuple(detail.get("loc", ()))
            details.append({**detail, "loc": location[1:] if location[:1] in REQUEST_PARTS else location})
        field_errors = errors.describe_details(details, model_for(request), language)
        return JSONResponse(
            status_code=422,
            content={
                "detail": summary[language],
                "errors": [field_error.as_dict() for field_error in field_errors],
            },
            headers={"Content-Language": language},
        )

    return handle


class Refused(Exception):
    """A refusal whose body carries more than a message (field errors, the policy's reasons).

    HTTPException would nest such a body under ``detail``; this one is answered as it is, so every
    refusal has ``detail`` as text at the top (services/common/openapi.py documents the shapes).
    """

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(status)
        self.status = status
        self.body = body


async def answer_refused(_request: Request, refused: Exception) -> JSONResponse:
    assert isinstance(refused, Refused)
    return JSONResponse(refused.body, status_code=refused.status)
