"""The operations console: a page for staff, the state it refreshes every two seconds, and the open
alerts.

Nothing here identifies anyone: references, steps, deadlines, counts, roster handles and service
health only.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated, Any, Literal

import httpx
from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi import Path as PathParameter
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel

from services.common.auth import Role, Staff, require_role
from services.common.http import field_errors_handler
from services.common.openapi import refusals
from services.common.runtime import runtime_of
from services.monitoring.adapters import alerts, charts, console
from services.monitoring.entrypoints.dead_letters import DeadLetterCounts
from services.monitoring.settings import MonitoringSettings

CONSOLE = Path(__file__).resolve().parents[1] / "console"
PAGE = CONSOLE / "index.html"
# The chart is fetched with the staff token and shown from a blob: URL, hence img-src blob:.
CONSOLE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob:; connect-src 'self';"
    " form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
CONSOLE_HEADERS = {
    "Content-Security-Policy": CONSOLE_POLICY, "X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}  # fmt: skip
ASSETS = {"console.js": "text/javascript", "console.css": "text/css"}
AnyStaff = Annotated[Staff, Depends(require_role(Role.SPECIALIST, Role.SUPERVISOR, Role.ADMIN))]
Language = Literal["en", "fr"]
Reference = Annotated[str, PathParameter(min_length=3, max_length=40, pattern=r"^[A-Za-z0-9-]+$")]
INVALID = {
    "en": "The request was not accepted: correct the fields listed and send it again.",
    "fr": "La demande n'a pas été acceptée : corrigez les champs indiqués et envoyez-la de nouveau.",
}
SVG: dict[int | str, dict[str, Any]] = {
    200: {"content": {"image/svg+xml": {"schema": {"type": "string"}}}, "description": "The chart."}
}


class _Parameters(BaseModel):
    """Monitoring takes no body: its field errors name query and path parameters only."""

    lang: Language = "en"
    reference: str = ""


def routes(app: FastAPI, dead_letters: DeadLetterCounts) -> None:
    page = PAGE.read_text(encoding="utf-8")
    assets = {name: (CONSOLE / name).read_bytes() for name in ASSETS}
    app.add_exception_handler(
        RequestValidationError,
        field_errors_handler(INVALID, lambda _request: _Parameters),  # type: ignore[arg-type]
    )

    @app.get("/console", response_class=HTMLResponse, include_in_schema=False)
    async def console_page() -> HTMLResponse:
        return HTMLResponse(page, headers={"Cache-Control": "no-store", **CONSOLE_HEADERS})

    @app.get("/console/{name}", include_in_schema=False)
    async def console_asset(name: str) -> Response:
        if name not in assets:
            return Response(status_code=404)
        return Response(assets[name], media_type=ASSETS[name], headers=CONSOLE_HEADERS)

    @app.get("/v1/console/state", tags=["console"])
    async def state(request: Request, _staff: AnyStaff) -> dict[str, Any]:
        """Urgent plans waiting with their clocks, flagged deadlines, the review queue, service health
        and the last 24 hours.
        """
        runtime = runtime_of(request)
        snapshot, services = await asyncio.gather(
            console.snapshot(runtime.pool), _health_of(MonitoringSettings.of(runtime.settings).service_urls)
        )
        return {**snapshot, "services": services, "dead_letters": dict(sorted(dead_letters.by_topic.items()))}

    @app.get("/v1/console/charts/tips-by-hour.svg", tags=["console"], response_class=Response, responses=SVG)
    async def tips_by_hour_chart(request: Request, _staff: AnyStaff, lang: Language = "en") -> Response:
        """The last 24 hours' tips per hour as an SVG chart, its title, axes and legend in ``lang``."""
        snapshot = await console.snapshot(runtime_of(request).pool)
        svg = charts.bar_chart(console.tips_by_hour_chart(snapshot["tips_by_hour"], lang), height=360)
        return Response(svg, media_type="image/svg+xml", headers={"Cache-Control": "no-store"})

    @app.get("/v1/alerts", tags=["console"])
    async def open_alerts(request: Request, _staff: AnyStaff) -> dict[str, Any]:
        """Open alerts, the soonest deadline first: reference, kind, step or queue, deadline, who was
        paged, and whether the page went out (``page`` is null when paging is off).
        """
        return {"alerts": await alerts.open_alerts(runtime_of(request).pool)}

    @app.get("/v1/console/journey/{reference}", tags=["console"], responses=refusals(404))
    async def journey(request: Request, reference: Reference, _staff: AnyStaff) -> dict[str, Any]:
        """Every event of a tip's journey, found by its reference: what happened when, never content."""
        events = await console.journey(runtime_of(request).pool, reference.strip().upper())
        if events is None:
            raise HTTPException(status_code=404, detail="No tip with this reference.")
        return {"reference": reference.strip().upper(), "events": events}


async def _health_of(urls: dict[str, str]) -> list[dict[str, str]]:
    async def one(client: httpx.AsyncClient, name: str, url: str) -> dict[str, str]:
        try:
            answer = await client.get(f"{url}/health", timeout=1.0)
            checks = answer.json().get("checks", {})
            return {"name": name, "status": "ok" if answer.status_code == 200 else "unavailable",
                    "database": checks.get("database", "-"), "broker": checks.get("broker", "-"),
                    "consumers": checks.get("consumers", "-"), "lag": checks.get("lag", "-"),
                    "quarantined": checks.get("outbox_quarantined", "-")}  # fmt: skip
        except (httpx.HTTPError, ValueError):
            return {"name": name, "status": "unreachable", "database": "-", "broker": "-", "consumers": "-",
                    "lag": "-", "quarantined": "-"}  # fmt: skip

    async with httpx.AsyncClient() as client:
        return list(await asyncio.gather(*(one(client, name, url) for name, url in sorted(urls.items()))))
