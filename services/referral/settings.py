"""Referral's settings: the runtime's, and where intake answers who holds a tip."""

from __future__ import annotations

from pydantic import Field

from services.common.settings import ServiceSettings


class ReferralSettings(ServiceSettings):
    intake_url: str | None = Field(
        default=None,
        pattern=r"^https?://\S+$",
        alias="LANTERN_INTAKE_URL",
        description="Intake's public API, which says who holds a tip: a specialist acts on a tip's"
        " referrals only when they hold it. Unset: only supervisors act on referrals.",
    )
