"""Referral's composition root."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from services.common.limits import limit_bodies
from services.common.rate_limit import ClientLimit, WindowRateLimiter
from services.common.runtime import ServiceSpec, build_service_app
from services.common.settings import ServiceSettings
from services.referral import retention
from services.referral.entrypoints import http
from services.referral.entrypoints.kafka import wire
from services.referral.settings import ReferralSettings

DESCRIPTION = """Matches victims and survivors to providers of the national referral directory (Open Referral HSDS
3 with a Canadian profile), explains every match, and carries referrals from proposed to accepted or
declined, then completed or revoked. The public directory needs no credentials and lists only
providers that chose to be listed, never a confidential address.

Oriente les victimes et survivantes vers les fournisseurs du répertoire national, en expliquant
chaque choix. Le répertoire public ne montre que les fournisseurs qui ont choisi d'y figurer.
"""
SPEC = ServiceSpec(
    name="referral", migrations=Path(__file__).parent / "migrations", retention=retention.STEPS
)
SAMPLE_DIRECTORY = Path(__file__).parent / "directory" / "sample.hsds.json"


def registration_limit(settings: ReferralSettings) -> ClientLimit:
    """One count per client for every public write (the registration form), whichever process serves it."""
    return ClientLimit(
        WindowRateLimiter(settings.registration_rate_limit, settings.registration_rate_window_seconds),
        settings.trusted_proxies,
    )


def build_app(settings: ServiceSettings) -> FastAPI:
    referral = ReferralSettings.of(settings)
    limit = registration_limit(referral)
    app = build_service_app(
        SPEC, referral, wire, http=lambda app: http.routes(app, limit), description=DESCRIPTION
    )
    limit_bodies(app, settings.max_body_bytes)
    return app
