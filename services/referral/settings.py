"""Referral's settings: the runtime's, where intake answers who holds a tip, the "please confirm
your details" cycle, and the registration form's rate limit."""

from __future__ import annotations

from pydantic import Field

from services.common.settings import PublicEdgeSettings


class ReferralSettings(PublicEdgeSettings):
    intake_url: str | None = Field(
        default=None,
        pattern=r"^https?://\S+$",
        alias="LANTERN_INTAKE_URL",
        description="Intake's public API, which says who holds a tip: a specialist acts on a tip's"
        " referrals only when they hold it. Unset: only supervisors act on referrals.",
    )
    confirm_after_days: int = Field(
        default=365, ge=1, alias="LANTERN_DIRECTORY_CONFIRM_AFTER_DAYS",
        description="A provider whose details were last confirmed longer ago is asked to confirm them.",
    )  # fmt: skip
    confirm_grace_days: int = Field(
        default=30, ge=0, alias="LANTERN_DIRECTORY_CONFIRM_GRACE_DAYS",
        description="Unconfirmed this long after the request, it leaves the public directory and matching.",
    )  # fmt: skip
    confirm_poll_seconds: float = Field(
        default=3600.0, gt=0, alias="LANTERN_DIRECTORY_CONFIRM_POLL_SECONDS",
        description="How often the confirmation cycle looks for stale and lapsed providers.",
    )  # fmt: skip
    registration_rate_limit: int = Field(
        default=5, ge=1, alias="LANTERN_REGISTRATION_RATE_LIMIT",
        description="Provider requests one client may send through the public form per window; then 429.",
    )  # fmt: skip
    registration_rate_window_seconds: float = Field(
        default=3600.0, gt=0, alias="LANTERN_REGISTRATION_RATE_WINDOW_SECONDS",
        description="The window of the registration form's rate limit.",
    )  # fmt: skip
