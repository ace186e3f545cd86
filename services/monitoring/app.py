"""Monitoring's composition root."""

from __future__ import annotations

from functools import partial
from pathlib import Path

from fastapi import FastAPI

from services.common.limits import limit_bodies
from services.common.runtime import ServiceSpec, build_service_app
from services.common.settings import ServiceSettings
from services.monitoring import retention
from services.monitoring.adapters.roster_file import RosterFile
from services.monitoring.entrypoints import http
from services.monitoring.entrypoints.dead_letters import DeadLetterCounts
from services.monitoring.entrypoints.kafka import wire
from services.monitoring.settings import MonitoringSettings

SPEC = ServiceSpec(
    name="monitoring", migrations=Path(__file__).parent / "migrations", retention=retention.STEPS
)
DESCRIPTION = (
    "Operations monitoring: the console, a read model of every tip's journey without identities, and"
    " alerts to the people on call when a deadline is at risk or breached."
)


def build_app(settings: ServiceSettings) -> FastAPI:
    monitoring = MonitoringSettings.of(settings)
    dead_letters = DeadLetterCounts()
    roster = RosterFile(monitoring.oncall_roster)  # a roster that does not validate stops the start here
    app = build_service_app(
        SPEC, monitoring, partial(wire, dead_letters=dead_letters, roster=roster),
        http=partial(http.routes, dead_letters=dead_letters), description=DESCRIPTION,
    )  # fmt: skip
    limit_bodies(app, monitoring.max_body_bytes)
    return app
