"""Triage's composition root."""

from __future__ import annotations

from functools import partial
from pathlib import Path

from fastapi import FastAPI

from services.common.limits import limit_bodies
from services.common.runtime import Runtime, ServiceSpec, build_service_app
from services.common.settings import ServiceSettings
from services.triage import retention
from services.triage.adapters.postgres import TriageUnitOfWork
from services.triage.domain.indicators import load_lexicon
from services.triage.domain.plans import load_templates
from services.triage.domain.safety_net import load_model
from services.triage.entrypoints import http, kafka
from services.triage.entrypoints.clock import run_clock
from services.triage.settings import TriageSettings

DESCRIPTION = """Classifies each tip's urgency and says why, in English and French, and runs its response plan
against its deadlines. Supervisors list open plans by deadline, acknowledge them, complete steps with
an outcome and override an urgency with a reason (audited, republished on `tips.triaged.v1`).

Classe l'urgence de chaque signalement en expliquant pourquoi, et suit son plan d'intervention et
ses échéances. Les superviseurs consultent, prennent en charge et complètent les plans.
"""

SPEC = ServiceSpec(
    name="triage",
    migrations=Path(__file__).parent / "migrations",
    unit_of_work=TriageUnitOfWork,
    retention=retention.STEPS,
)


def wire(runtime: Runtime, settings: TriageSettings) -> None:
    """Route triage's topics and start the deadline clock; compile the lexicon now, not on the first tip."""
    load_lexicon()
    load_model()
    kafka.subscribe(runtime)
    runtime.background(
        "deadline-clock",
        partial(run_clock, runtime.transactions, load_templates(), settings.clock_poll_seconds),
    )


def build_app(settings: ServiceSettings) -> FastAPI:
    triage = TriageSettings.of(settings)
    app = build_service_app(
        SPEC, triage, partial(wire, settings=triage), http=http.routes, description=DESCRIPTION
    )
    limit_bodies(app, triage.max_body_bytes)
    return app
