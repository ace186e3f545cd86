"""Intake's composition root."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from services.common.limits import limit_bodies
from services.common.rate_limit import ClientLimit, WindowRateLimiter
from services.common.runtime import Runtime, ServiceSpec, build_service_app
from services.common.settings import ServiceSettings
from services.intake import retention
from services.intake.entrypoints import casework, http, web_form
from services.intake.handlers import SupplementCaps
from services.intake.settings import IntakeSettings

DESCRIPTION = """Takes tips from the hotline's channels, in English and French.

Without credentials a tip comes from the public web form: its channel is `web`, nothing about the
device or network is kept, and the connection is rate-limited. Staff (bearer tokens) record phone,
email and chat tips with the caller's consent. Identifying data is sealed before it leaves intake.

Prend les signalements des canaux de la Ligne d'urgence, en français et en anglais. Sans jeton, un
signalement vient du formulaire public : aucune donnée sur l'appareil ou le réseau n'est conservée.
"""

SPEC = ServiceSpec(name="intake", migrations=Path(__file__).parent / "migrations", retention=retention.STEPS)


def _no_subscriptions(_runtime: Runtime) -> None:
    """Intake consumes nothing: tips arrive over HTTP."""


def _routes(app: FastAPI, limits: http.PublicLimits, secret: bytes | None, quick_exit_url: str) -> None:
    http.routes(app, limits, secret)
    web_form.routes(app, limits, quick_exit_url)
    casework.routes(app, limits.caps)


def build_app(settings: ServiceSettings) -> FastAPI:
    intake = IntakeSettings.of(settings)
    limits = http.PublicLimits(
        clients=ClientLimit(
            WindowRateLimiter(intake.public_rate_limit, intake.public_rate_window_seconds),
            intake.trusted_proxies,
        ),
        caps=SupplementCaps(intake.max_supplements_per_tip, intake.max_supplement_bytes_per_tip),
        hotline_phone=intake.hotline_phone,
    )
    secret = intake.idempotency_secret.get_secret_value().encode() if intake.idempotency_secret else None
    app = build_service_app(
        SPEC, intake, _no_subscriptions, http=lambda app: _routes(app, limits, secret, intake.quick_exit_url),
        description=DESCRIPTION,
    )  # fmt: skip
    advice = {
        language: text.format(phone=intake.hotline_phone) for language, text in http.TOO_LARGE_ADVICE.items()
    }
    limit_bodies(app, intake.max_body_bytes, advice)
    return app
