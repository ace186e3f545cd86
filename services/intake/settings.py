"""Intake's settings: the runtime's, and the public web form's rate limit."""

from __future__ import annotations

from pydantic import Field

from services.common.settings import ServiceSettings


class IntakeSettings(ServiceSettings):
    public_rate_limit: int = Field(default=10, ge=1, alias="LANTERN_PUBLIC_RATE_LIMIT")
    public_rate_window_seconds: float = Field(default=600, gt=0, alias="LANTERN_PUBLIC_RATE_WINDOW_SECONDS")
