"""Triage's settings: the runtime's, and how often the deadline clock looks for due steps."""

from __future__ import annotations

from pydantic import Field

from services.common.settings import ServiceSettings


class TriageSettings(ServiceSettings):
    clock_poll_seconds: float = Field(default=1.0, gt=0, alias="LANTERN_CLOCK_POLL_SECONDS")
