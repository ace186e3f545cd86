"""Monitoring's composition root."""

from __future__ import annotations

from functools import partial
from pathlib import Path

from fastapi import FastAPI

from services.common.runtime import ServiceSpec, build_service_app
from services.common.settings import ServiceSettings
from services.monitoring.entrypoints import http
from services.monitoring.entrypoints.dead_letters import DeadLetterCounts
from services.monitoring.entrypoints.kafka import wire
from services.monitoring.settings import MonitoringSettings

SPEC = ServiceSpec(name="monitoring", migrations=Path(__file__).parent / "migrations")
DESCRIPTION = (
    "Operations monitoring: the console and a read model of every tip's journey, without identities."
)


def build_app(settings: ServiceSettings) -> FastAPI:
    dead_letters = DeadLetterCounts()
    return build_service_app(
        SPEC, MonitoringSettings.of(settings), partial(wire, dead_letters=dead_letters), http=partial(http.routes, dead_letters=dead_letters),
        description=DESCRIPTION,
    )  # fmt: skip
