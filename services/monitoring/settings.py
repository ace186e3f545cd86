"""Monitoring's settings: the runtime's, and where the console finds each service's health."""

from __future__ import annotations

from pydantic import Field

from services.common.settings import ServiceSettings


class MonitoringSettings(ServiceSettings):
    service_urls: dict[str, str] = Field(
        default_factory=dict,
        alias="LANTERN_SERVICE_URLS",
        description="JSON: each service's base URL, for the console.",
    )
