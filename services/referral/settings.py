"""Referral's settings: the runtime's, where intake answers who holds a tip, the "please confirm
your details" cycle, and the registration form's rate limit."""

from __future__ import annotations

from pydantic import Field, field_validator
from pydantic_settings import SettingsConfigDict

from services.common.client_address import TrustedProxies
from services.common.settings import PublicEdgeSettings, SecretsDirSettings, database_patience


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
    restriction_burst: int = Field(
        default=5, ge=1, alias="LANTERN_DIRECTORY_RESTRICTION_BURST",
        description="Providers' requests to hide an address or leave the public directory that, within"
        " the window, raise the DirectoryRestrictionBurst alert.",
    )  # fmt: skip
    restriction_burst_window_seconds: float = Field(
        default=3600.0, gt=0, alias="LANTERN_DIRECTORY_RESTRICTION_BURST_WINDOW_SECONDS",
        description="The window in which hide or leave requests are counted for the burst alert.",
    )  # fmt: skip


class PublicDirectorySettings(SecretsDirSettings):
    """The public deployment's settings (``python -m services.referral.public``): a database role that
    reads only the published directory, the form's rate limit and the proxies it believes. No broker,
    no keys: it reaches nothing but PostgreSQL."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore", frozen=True)

    database_url: str = Field(
        alias="DATABASE_URL", description="The public directory's own role (`directory`), never referral's."
    )
    http_host: str = Field(default="127.0.0.1", alias="LANTERN_HTTP_HOST")
    http_port: int = Field(default=0, alias="LANTERN_HTTP_PORT")
    operations_host: str = Field(default="127.0.0.1", alias="LANTERN_OPERATIONS_HOST")
    operations_port: int = Field(default=0, ge=0, alias="LANTERN_OPERATIONS_PORT")
    db_pool_max_size: int = Field(default=5, ge=2, alias="LANTERN_DB_POOL_MAX_SIZE")
    database_patience_seconds: float = database_patience()
    max_body_bytes: int = Field(default=262_144, ge=1_024, alias="LANTERN_MAX_BODY_BYTES")
    log_level: str = Field(default="info", alias="LANTERN_LOG_LEVEL")
    forwarded_allow_ips: str = Field(default="", alias="FORWARDED_ALLOW_IPS")
    registration_rate_limit: int = Field(default=5, ge=1, alias="LANTERN_REGISTRATION_RATE_LIMIT")
    registration_rate_window_seconds: float = Field(
        default=3600.0, gt=0, alias="LANTERN_REGISTRATION_RATE_WINDOW_SECONDS"
    )

    @field_validator("forwarded_allow_ips")
    @classmethod
    def _proxies_are_named(cls, value: str) -> str:
        TrustedProxies.parse(value)  # refuses a wildcard or a value that is not an address
        return value

    @property
    def trusted_proxies(self) -> TrustedProxies:
        return TrustedProxies.parse(self.forwarded_allow_ips)
