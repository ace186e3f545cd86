"""Triage's composition root."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from services.common.runtime import ServiceSpec, build_service_app
from services.common.settings import ServiceSettings
from services.triage.entrypoints import http
from services.triage.entrypoints.kafka import wire

DESCRIPTION = """Classifies each tip's urgency and says why, in English and French, and runs its response plan
against its deadlines. Supervisors list open plans by deadline, acknowledge them, complete steps with
an outcome and override an urgency with a reason (audited, republished on `tips.triaged.v1`).

Classe l'urgence de chaque signalement en expliquant pourquoi, et suit son plan d'intervention et
ses échéances. Les superviseurs consultent, prennent en charge et complètent les plans.
"""

SPEC = ServiceSpec(name="triage", migrations=Path(__file__).parent / "migrations")


def build_app(settings: ServiceSettings) -> FastAPI:
    return build_service_app(SPEC, settings, wire, http=http.routes, description=DESCRIPTION)
