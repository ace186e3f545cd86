"""Triage's settings: the runtime's, and how often the deadline clock looks for due steps."""

from __future__ import annotations

from pydantic import Field

from services.common.settings import ServiceSettings


class TriageSettings(ServiceSettings):
    clock_poll_seconds: float = Field(default=1.0, gt=0, alias="LANTERN_CLOCK_POLL_SECONDS")

    @classmethod
    def of(cls, settings: ServiceSettings) -> TriageSettings:
        """``settings`` as triage's; what they do not say is read from the environment."""
        if isinstance(settings, cls):
            return settings
        return cls(**settings.model_dump(by_alias=True))
