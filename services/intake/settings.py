"""Intake's settings: the runtime's, the public web form's limits and the proxies it trusts."""

from __future__ import annotations

from pydantic import Field, SecretStr

from services.common.settings import PublicEdgeSettings


class IntakeSettings(PublicEdgeSettings):
    public_rate_limit: int = Field(default=10, ge=1, alias="LANTERN_PUBLIC_RATE_LIMIT")
    public_rate_window_seconds: float = Field(default=600, gt=0, alias="LANTERN_PUBLIC_RATE_WINDOW_SECONDS")
    max_supplements_per_tip: int = Field(default=20, ge=1, alias="LANTERN_MAX_SUPPLEMENTS_PER_TIP")
    max_supplement_bytes_per_tip: int = Field(
        default=262_144,
        ge=1_024,
        alias="LANTERN_MAX_SUPPLEMENT_BYTES_PER_TIP",
        description="What a tip's follow-ups may add up to, counted as stored (sealed).",
    )
    hotline_phone: str = Field(
        default="1-833-900-1010",
        pattern=r"^[0-9 +().-]{3,30}$",
        alias="LANTERN_HOTLINE_PHONE",
        description="The number a refused reporter is told to call.",
    )
    quick_exit_url: str = Field(
        default="https://www.google.com/",
        pattern=r"^https://[A-Za-z0-9.-]+(/[A-Za-z0-9._~/-]*)?$",
        alias="LANTERN_QUICK_EXIT_URL",
        description="Where the web form's quick-exit button leads: a neutral site.",
    )
    idempotency_secret: SecretStr | None = Field(
        default=None,
        alias="LANTERN_IDEMPOTENCY_SECRET",
        description="HMAC key of idempotency fingerprints; derived from the KEK when not set.",
    )
