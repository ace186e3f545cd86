"""Monitoring's settings: the runtime's, where the console and the outbox watch find each service's
detailed health, the on-call roster and the paging webhook."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, model_validator

from services.common.settings import ServiceSettings

ROSTER_FILE = Path(__file__).parent / "roster.json"


class MonitoringSettings(ServiceSettings):
    service_urls: dict[str, str] = Field(
        default_factory=dict,
        alias="LANTERN_SERVICE_URLS",
        description="JSON: each service's private operations URL, for the console's health and the outbox watch.",
    )
    outbox_watch_seconds: float = Field(
        default=15.0,
        gt=0,
        alias="LANTERN_OUTBOX_WATCH_SECONDS",
        description="How often each service's quarantined outbox rows are read, to page the supervisors.",
    )
    oncall_roster: Path = Field(
        default=ROSTER_FILE, alias="LANTERN_ONCALL_ROSTER", description="The on-call roster (JSON)."
    )
    paging_webhook_url: str | None = Field(
        default=None,
        pattern=r"^https?://\S+$",
        alias="LANTERN_PAGING_WEBHOOK_URL",
        description="Where alerts are posted for the paging system; none: no pages, the console only.",
    )
    paging_webhook_secret: SecretStr | None = Field(
        default=None,
        alias="LANTERN_PAGING_WEBHOOK_SECRET",
        description="The HMAC-SHA256 key that signs each page (at least 32 characters).",
    )
    paging_attempts: int = Field(default=3, ge=1, le=10, alias="LANTERN_PAGING_ATTEMPTS")
    paging_backoff_seconds: float = Field(default=1.0, ge=0, alias="LANTERN_PAGING_BACKOFF_SECONDS")
    paging_timeout_seconds: float = Field(default=5.0, gt=0, alias="LANTERN_PAGING_TIMEOUT_SECONDS")
    paging_retry_seconds: float = Field(
        default=60.0,
        gt=0,
        alias="LANTERN_PAGING_RETRY_SECONDS",
        description="First wait before a failed page is tried again (doubling, at most an hour).",
    )
    paging_poll_seconds: float = Field(default=5.0, gt=0, alias="LANTERN_PAGING_POLL_SECONDS")

    @model_validator(mode="after")
    def _a_webhook_is_signed(self) -> MonitoringSettings:
        self.paging_secret()
        return self

    def paging_secret(self) -> bytes | None:
        """The webhook's key, None when paging is off; a webhook without a strong key is refused."""
        if self.paging_webhook_url is None:
            return None
        secret = self.paging_webhook_secret.get_secret_value() if self.paging_webhook_secret else ""
        if len(secret) < 32:
            raise ValueError(
                "LANTERN_PAGING_WEBHOOK_SECRET: at least 32 characters are needed with a webhook"
            )
        return secret.encode()
