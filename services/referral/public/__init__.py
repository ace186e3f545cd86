"""The referral directory's public face, a deployment of its own: the HSDS API, the public list and the
providers' registration form, and nothing else.

It connects as the ``directory`` role, which may read only what referral publishes
(``public_directory``: listed organizations, no confidential address) and add a pending request, so a
flaw in anything it runs cannot reach a confidential address, an opted-out provider, a referral or a
staff token. It consumes and publishes no event and reaches nothing but PostgreSQL.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import asyncpg
from fastapi import FastAPI
from fastapi.responses import JSONResponse

from services.common import telemetry
from services.common.db import check_migrated, create_pool, service_migrations
from services.common.http import Refused, answer_refused
from services.common.limits import limit_bodies
from services.common.openapi import document_refusals
from services.common.rate_limit import ClientLimit, WindowRateLimiter
from services.common.roles import PUBLIC_DIRECTORY, check_own_role, check_public_directory_role
from services.referral.app import SPEC
from services.referral.entrypoints import http
from services.referral.settings import PublicDirectorySettings

DESCRIPTION = """The public referral directory: Open Referral's HSDS API 3.0 (read only), the list of
publicly listed providers and the form where a provider asks to be listed. No credentials; nothing here
reads more than the public directory.

Le répertoire public : l'API HSDS 3.0 (lecture), la liste des fournisseurs qui ont choisi d'y figurer et
le formulaire où un organisme demande à y être inscrit.
"""


@dataclass(frozen=True)
class PublicRuntime:
    """What the public routes read of a running service (``runtime_of``): the pool and the settings."""

    pool: asyncpg.Pool
    settings: PublicDirectorySettings


def build_app(settings: PublicDirectorySettings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pool = await create_pool(
            settings.database_url, SPEC.name, max_size=settings.db_pool_max_size, application=PUBLIC_DIRECTORY,
            patience_seconds=settings.database_patience_seconds,
        )  # fmt: skip
        try:
            await check_public_directory_role(pool)
            await check_own_role(pool, SPEC.name)
            await check_migrated(pool, SPEC.name, service_migrations(SPEC.migrations))
            app.state.runtime = PublicRuntime(pool, settings)
            yield
        finally:
            await pool.close()

    app = FastAPI(
        title="Lantern public directory", version="1", description=DESCRIPTION, lifespan=lifespan,
        docs_url=None, redoc_url=None,
    )  # fmt: skip
    app.add_middleware(telemetry.RequestIds, service=PUBLIC_DIRECTORY)

    @app.get("/health")
    async def health() -> JSONResponse:
        return JSONResponse({"service": PUBLIC_DIRECTORY, "status": "ok"})

    limit = ClientLimit(
        WindowRateLimiter(settings.registration_rate_limit, settings.registration_rate_window_seconds),
        settings.trusted_proxies,
    )
    http.public_routes(app, limit)
    app.add_exception_handler(Refused, answer_refused)
    document_refusals(app)
    limit_bodies(app, settings.max_body_bytes)
    app.state.operations = operations_app(app)
    return app


def operations_app(public: FastAPI) -> FastAPI:
    """The private listener: the detailed health `lantern up` and Kubernetes wait for."""
    operations = FastAPI(
        title="Lantern public directory operations", docs_url=None, redoc_url=None, openapi_url=None
    )

    @operations.get("/health")
    async def health() -> JSONResponse:
        runtime: PublicRuntime | None = getattr(public.state, "runtime", None)
        if runtime is None:
            return JSONResponse(
                {"service": PUBLIC_DIRECTORY, "status": "starting", "checks": {}}, status_code=503
            )
        try:
            await runtime.pool.fetchval("SELECT 1")
        except Exception:
            return JSONResponse(
                {"service": PUBLIC_DIRECTORY, "status": "unavailable", "checks": {"database": "unavailable"}},
                status_code=503,
            )
        return JSONResponse({"service": PUBLIC_DIRECTORY, "status": "ok", "checks": {"database": "ok"}})

    return operations
