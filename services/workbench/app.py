"""The workbench's composition root: sessions in its own schema, the services' APIs, the pages.

A web application for staff, not an event service: it consumes and publishes nothing, holds no KEK
and reads no other schema. Every answer carries a strict Content-Security-Policy and is never cached.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

import httpx
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles

from services.common.db import check_migrated, create_pool, service_migrations
from services.common.roles import check_own_role
from services.workbench.adapters import sessions as store
from services.workbench.adapters.services import Services
from services.workbench.domain.sessions import Lifetimes
from services.workbench.domain.throttle import SignInLimits
from services.workbench.entrypoints import calls, pages, partners
from services.workbench.settings import WorkbenchSettings

NAME = "workbench"
MIGRATIONS = Path(__file__).parent / "migrations"
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self';"
    " form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


def build_app(settings: WorkbenchSettings) -> FastAPI:
    lifetimes = Lifetimes(
        idle=timedelta(minutes=settings.idle_minutes), absolute=timedelta(hours=settings.absolute_hours)
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pool = await create_pool(
            settings.database_url, NAME, max_size=settings.db_pool_max_size,
            patience_seconds=settings.database_patience_seconds,
        )  # fmt: skip
        try:
            await check_own_role(pool, NAME)
            await check_migrated(pool, NAME, service_migrations(MIGRATIONS))
            await store.forget_expired(pool, lifetimes.idle.total_seconds())
            async with httpx.AsyncClient(timeout=10) as client:
                limits = SignInLimits.of(
                    settings.signin_failures_per_address, settings.sessions_per_person,
                    settings.signin_window_seconds,
                )  # fmt: skip
                app.state.workbench = pages.Workbench(
                    pool, Services(settings.services, client), lifetimes, settings.secure_cookie, limits
                )
                yield
        finally:
            await pool.close()

    app = FastAPI(
        title="Lantern workbench", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None
    )

    @app.middleware("http")
    async def security_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        response.headers.update(SECURITY_HEADERS)
        if not request.url.path.startswith("/static/"):
            # Pages may show opened identifying data: no copy in any cache, the browser's included.
            response.headers["Cache-Control"] = "no-store"
        return response

    @app.get("/health", include_in_schema=False)
    async def health() -> JSONResponse:
        return JSONResponse({"service": NAME, "status": "ok"})

    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")
    pages.routes(app)
    calls.routes(app)
    partners.routes(app)
    app.state.operations = operations_app(app)
    return app


def operations_app(public: FastAPI) -> FastAPI:
    """The private listener: the detailed health `lantern up` waits for."""
    operations = FastAPI(
        title="Lantern workbench operations", docs_url=None, redoc_url=None, openapi_url=None
    )

    @operations.get("/health")
    async def health() -> JSONResponse:
        bench = getattr(public.state, "workbench", None)
        if bench is None:
            return JSONResponse({"service": NAME, "status": "starting", "checks": {}}, status_code=503)
        try:
            await bench.pool.fetchval("SELECT 1")
        except Exception:
            return JSONResponse(
                {"service": NAME, "status": "degraded", "checks": {"database": "unavailable"}},
                status_code=503,
            )
        return JSONResponse({"service": NAME, "status": "ok", "checks": {"database": "ok"}})

    return operations
