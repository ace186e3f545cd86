"""Intake's composition root."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from services.common.runtime import Runtime, ServiceSpec, build_service_app
from services.common.settings import ServiceSettings
from services.intake.adapters.rate_limit import WindowRateLimiter
from services.intake.entrypoints import http

SPEC = ServiceSpec(name="intake", migrations=Path(__file__).parent / "migrations")


def _no_subscriptions(_runtime: Runtime) -> None:
    """Intake consumes nothing: tips arrive over HTTP."""


def build_app(settings: ServiceSettings) -> FastAPI:
    limiter = WindowRateLimiter(settings.public_rate_limit, settings.public_rate_window_seconds)
    return build_service_app(SPEC, settings, _no_subscriptions, http=lambda app: http.routes(app, limiter))
